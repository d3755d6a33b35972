"""For-each and sub-workflow steps in the engine, on every store and event loop:
elements are step runs of their own (``book[3]``, ``each[3].ocr``), at most
`max_concurrency` run at a time, outputs come back in order, a failing element fails
its step, too long a list fails it with a clear error, and cancel stops every running
element within a second."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import pytest

from agent_orchestrator.core.enums import EventType, ExecutionStatus, StepStatus
from agent_orchestrator.service.starting import ExecuteRequest

from .test_engine import events_of, run

if TYPE_CHECKING:
    from .conftest import Engine

pytestmark = pytest.mark.anyio

SUB = {
    "variables": {"x": {"type": "integer", "required": True}},
    "steps": [
        {"id": "a", "agent": "echo_agent", "inputs": {"value": "${vars.x}"}},
        {"id": "b", "agent": "echo_agent", "inputs": {"text": "x=${steps.a.value}"}},
    ],
    "outputs": {"text": "${steps.b.text}"},
}


async def test_for_each_over_an_agent_keeps_order_and_concurrency(
    engine: Engine,
) -> None:
    graph = {
        "steps": [
            {
                "id": "src",
                "agent": "echo_agent",
                "inputs": {"value": [{"s": 0.05, "n": i} for i in range(9)]},
            },
            {
                "id": "wait",
                "agent": "wait_agent",
                "for_each": "${steps.src.value}",
                "max_concurrency": 3,
                "inputs": {"seconds": "${item.s}"},
            },
            {
                "id": "echo",
                "agent": "echo_agent",
                "for_each": "${steps.src.value}",
                "inputs": {"text": "${index}:${item.n}"},
            },
        ],
        "outputs": {"texts": "${steps.echo.items}", "n": "${steps.wait.items}"},
    }
    final = await run(engine, graph)
    assert final.status is ExecutionStatus.SUCCEEDED, final.error_message
    assert final.result is not None
    assert [o["text"] for o in final.result["texts"]] == [f"{i}:{i}" for i in range(9)]
    assert len(final.result["n"]) == 9
    ids = [s.step_id for s in final.steps]
    assert ids[:3] == ["src", "wait", "echo"]
    assert {f"wait[{i}]" for i in range(9)} <= set(ids)
    assert all(s.status is StepStatus.SUCCEEDED for s in final.steps)
    # At most three waits at a time, and three did run side by side.
    running, most = set(), 0
    for event in await events_of(engine, final.id):
        step = event.step_id or ""
        if not step.startswith("wait["):
            continue
        if event.type is EventType.STEP_STARTED:
            running.add(step)
            most = max(most, len(running))
        elif event.type is EventType.STEP_SUCCEEDED:
            running.discard(step)
    assert most == 3


async def test_a_sub_workflow_per_element_names_its_steps(engine: Engine) -> None:
    graph = {
        "steps": [
            {
                "id": "each",
                "for_each": [1, 2, 3],
                "workflow": {"graph": SUB},
                "inputs": {"x": "${item}"},
            },
            {"id": "one", "workflow": {"graph": SUB}, "inputs": {"x": 7}},
        ],
        "outputs": {"each": "${steps.each.items}", "one": "${steps.one.text}"},
    }
    final = await run(engine, graph)
    assert final.status is ExecutionStatus.SUCCEEDED, final.error_message
    assert final.result == {
        "each": [{"text": "x=1"}, {"text": "x=2"}, {"text": "x=3"}],
        "one": "x=7",
    }
    status = {s.step_id: s.status for s in final.steps}
    assert status.keys() == {
        "each",
        "one",
        *(f"each[{i}]" for i in range(3)),
        *(f"each[{i}].{s}" for i in range(3) for s in "ab"),
        "one.a",
        "one.b",
    }
    events = await events_of(engine, final.id)
    started = [e.step_id for e in events if e.type is EventType.STEP_STARTED]
    assert "each[2].b" in started and "one.b" in started
    # Each element's second step ran after its first.
    assert started.index("each[1].a") < started.index("each[1].b")


async def test_an_element_that_fails_fails_its_step_and_the_execution(
    engine: Engine,
) -> None:
    graph = {
        "steps": [
            {
                "id": "each",
                "agent": "flaky_agent",
                "for_each": [0, 0, 9, 0],
                "max_concurrency": 1,
                "inputs": {"fail_times": "${item}", "retryable": False},
            },
            {"id": "after", "agent": "echo_agent", "depends_on": ["each"]},
        ]
    }
    final = await run(engine, graph)
    assert final.status is ExecutionStatus.FAILED
    assert "each[2]" in (final.error_message or "")
    status = {s.step_id: s.status for s in final.steps}
    assert status["each[0]"] is StepStatus.SUCCEEDED
    assert status["each[2]"] is StepStatus.FAILED
    assert status["each"] is StepStatus.FAILED
    assert status["each[3]"] is StepStatus.CANCELLED  # never started
    assert status["after"] is StepStatus.CANCELLED
    events = await events_of(engine, final.id)
    assert not [e for e in events if e.step_id == "each[3]"]


async def test_cancel_stops_every_running_element_within_a_second(
    engine: Engine,
) -> None:
    graph = {
        "steps": [
            {
                "id": "each",
                "for_each": list(range(10)),
                "max_concurrency": 4,
                "workflow": {
                    "graph": {
                        "steps": [
                            {
                                "id": "w",
                                "agent": "wait_agent",
                                "inputs": {"seconds": 60},
                            }
                        ]
                    }
                },
            }
        ]
    }
    with engine.bus.subscribe() as feed:
        record, _ = await engine.service.execute(
            ExecuteRequest(tenant_id="t1", graph=graph)
        )
        running: set[str] = set()
        with anyio.fail_after(10):
            async for event in feed.receive:
                if event.type is EventType.STEP_STARTED and event.step_id:
                    running.add(event.step_id)
                if {f"each[{i}].w" for i in range(4)} <= running:
                    break
    assert "each[4].w" not in running
    with anyio.fail_after(1.0):
        await engine.runner.cancel_execution(record.id, "t1")
        final = await engine.runner.wait_finished(record.id)
    assert final.status is ExecutionStatus.CANCELLED
    status = {s.step_id: s.status for s in final.steps}
    assert all(status[f"each[{i}].w"] is StepStatus.CANCELLED for i in range(4))
    assert status["each"] is StepStatus.CANCELLED
    assert status["each[9]"] is StepStatus.CANCELLED
    events = await events_of(engine, final.id)
    assert events[-1].type is EventType.EXECUTION_CANCELLED
    # The event names the graph's steps and counts the runs under them.
    assert events[-1].data["cancelled_steps"] == ["each"]
    assert events[-1].data["cancelled_step_runs"] == 1 + 10 + 4


async def test_conditions_inside_sub_workflows_and_skipped_lists(
    engine: Engine,
) -> None:
    inner = {
        "variables": {"n": {"type": "integer", "required": True}},
        "steps": [
            {
                "id": "big",
                "agent": "echo_agent",
                "inputs": {"text": "big ${vars.n}"},
                "when": "${vars.n} > 1",
            },
            {"id": "all", "agent": "echo_agent", "inputs": {"value": "${vars.n}"}},
        ],
        "outputs": {"big": "${steps.big.text}", "n": "${steps.all.value}"},
    }
    graph = {
        "steps": [
            {
                "id": "never",
                "agent": "echo_agent",
                "inputs": {"value": [1]},
                "when": "1 > 2",
            },
            {
                "id": "none",
                "agent": "echo_agent",
                "for_each": "${steps.never.value}",
                "inputs": {"value": "${item}"},
            },
            {
                "id": "each",
                "for_each": [1, 2],
                "workflow": {"graph": inner},
                "inputs": {"n": "${item}"},
            },
        ],
        "outputs": {"none": "${steps.none.items}", "each": "${steps.each.items}"},
    }
    final = await run(engine, graph)
    assert final.status is ExecutionStatus.SUCCEEDED, final.error_message
    assert final.result == {
        "none": [],
        "each": [{"big": None, "n": 1}, {"big": "big 2", "n": 2}],
    }
    status = {s.step_id: s.status for s in final.steps}
    assert status["each[0].big"] is StepStatus.SKIPPED
    assert status["each[1].big"] is StepStatus.SUCCEEDED
