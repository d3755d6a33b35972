"""Engine semantics (DESIGN.md "Engine semantics") on every store and event loop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
import pytest

from agent_orchestrator.core.enums import EventType, ExecutionStatus, StepStatus
from agent_orchestrator.core.errors import Conflict, ValidationFailed
from agent_orchestrator.service.starting import ExecuteRequest

if TYPE_CHECKING:
    from collections.abc import Sequence

    from agent_orchestrator.core.protocols import ExecutionEvent, ExecutionRecord

    from .conftest import Engine

pytestmark = pytest.mark.anyio


async def run(engine: Engine, graph: dict[str, Any], **kwargs: Any) -> ExecutionRecord:
    record, _ = await engine.service.execute(
        ExecuteRequest(tenant_id="t1", graph=graph, **kwargs)
    )
    with anyio.fail_after(30):
        return await engine.runner.wait_finished(record.id)


async def events_of(engine: Engine, execution_id: str) -> list[ExecutionEvent]:
    events = await engine.store.events_after(execution_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "gap in events"
    assert events[-1].type.is_final
    return events


def steps(record: ExecutionRecord) -> dict[str, Any]:
    return {s.step_id: s for s in record.steps}


def kinds(
    events: Sequence[ExecutionEvent], step_id: str | None = None
) -> list[EventType]:
    return [e.type for e in events if step_id is None or e.step_id == step_id]


async def test_chain_passes_outputs_and_builds_result(engine: Engine) -> None:
    graph = {
        "variables": {"word": {"type": "string", "required": True}},
        "steps": [
            {
                "id": "a",
                "agent": "echo_agent",
                "inputs": {"value": {"w": "${vars.word}"}},
            },
            {
                "id": "b",
                "agent": "echo_agent",
                "inputs": {
                    "value": "${steps.a.value.w}",
                    "text": "got ${steps.a.value.w}!",
                },
            },
        ],
        "outputs": {"final": "${steps.b.value}", "text": "${steps.b.text}"},
    }
    final = await run(engine, graph, variables={"word": "kuitti"})
    assert final.status is ExecutionStatus.SUCCEEDED
    assert final.result == {"final": "kuitti", "text": "got kuitti!"}
    events = await events_of(engine, final.id)
    assert kinds(events) == [
        EventType.EXECUTION_STARTED,
        EventType.STEP_STARTED,
        EventType.STEP_SUCCEEDED,
        EventType.STEP_STARTED,
        EventType.STEP_SUCCEEDED,
        EventType.EXECUTION_SUCCEEDED,
    ]
    assert all(
        s.status is StepStatus.SUCCEEDED and s.attempts == 1 for s in final.steps
    )
    assert final.duration_ms is not None and final.started_at and final.completed_at


async def test_fan_out_branches_run_concurrently(engine: Engine) -> None:
    branches = [f"b{i}" for i in range(5)]
    graph = {
        "steps": [
            {"id": "start", "agent": "echo_agent", "inputs": {}},
            *(
                {
                    "id": b,
                    "agent": "wait_agent",
                    "inputs": {"seconds": 0.3},
                    "depends_on": ["start"],
                }
                for b in branches
            ),
            {"id": "join", "agent": "echo_agent", "inputs": {}, "depends_on": branches},
        ]
    }
    final = await run(engine, graph)
    assert final.status is ExecutionStatus.SUCCEEDED
    events = await events_of(engine, final.id)
    started = [
        e.seq
        for e in events
        if e.type is EventType.STEP_STARTED and e.step_id in branches
    ]
    finished = [
        e.seq
        for e in events
        if e.type is EventType.STEP_SUCCEEDED and e.step_id in branches
    ]
    # Every branch started before any branch finished: they overlapped in time.
    assert len(started) == 5 and max(started) < min(finished)
    by_id = steps(final)
    latest_start = max(by_id[b].started_at for b in branches)
    earliest_end = min(by_id[b].completed_at for b in branches)
    assert latest_start < earliest_end
    join_started = next(
        e.seq
        for e in events
        if e.type is EventType.STEP_STARTED and e.step_id == "join"
    )
    assert join_started > max(finished)


async def test_retries_back_off_and_stop_at_the_limit(engine: Engine) -> None:
    graph = {
        "steps": [
            {
                "id": "x",
                "agent": "flaky_agent",
                "inputs": {"fail_times": 99},
                "retry": {"max_retries": 3, "initial_delay_ms": 40, "backoff": 2},
            }
        ]
    }
    final = await run(engine, graph)
    assert final.status is ExecutionStatus.FAILED
    assert "step 'x' failed" in (final.error_message or "")
    step = steps(final)["x"]
    assert step.status is StepStatus.FAILED and step.attempts == 4
    events = await events_of(engine, final.id)
    retrying = [e for e in events if e.type is EventType.STEP_RETRYING]
    assert [e.data["next_attempt"] for e in retrying] == [2, 3, 4]
    for n, event in enumerate(retrying, start=1):
        ceiling = 40 * 2 ** (n - 1)
        assert ceiling / 2 - 1 <= event.data["delay_ms"] <= ceiling + 1
        nxt = next(
            e for e in events if e.seq > event.seq and e.type is EventType.STEP_STARTED
        )
        waited_ms = (nxt.at - event.at).total_seconds() * 1000
        assert waited_ms >= event.data["delay_ms"] - 2  # the engine really waited
    failed = [e for e in events if e.type is EventType.STEP_FAILED]
    assert len(failed) == 1 and failed[0].data["attempts"] == 4


async def test_flaky_step_succeeds_after_retries(engine: Engine) -> None:
    graph = {
        "steps": [{"id": "x", "agent": "flaky_agent", "inputs": {"fail_times": 2}}]
    }
    final = await run(engine, graph)
    assert final.status is ExecutionStatus.SUCCEEDED
    assert steps(final)["x"].attempts == 3
    assert steps(final)["x"].output == {"attempt": 3}
    events = await events_of(engine, final.id)
    assert kinds(events, "x").count(EventType.STEP_RETRYING) == 2


async def test_timeout_fails_the_attempt_and_is_retried(engine: Engine) -> None:
    graph = {
        "steps": [
            {
                "id": "slow",
                "agent": "wait_agent",
                "inputs": {"seconds": 10},
                "timeout_ms": 100,
                "retry": {"max_retries": 1, "initial_delay_ms": 10},
            }
        ]
    }
    final = await run(engine, graph)
    assert final.status is ExecutionStatus.FAILED
    events = await events_of(engine, final.id)
    retry = next(e for e in events if e.type is EventType.STEP_RETRYING)
    assert retry.data["error_type"] == "AgentTimeout"
    assert "time limit of 100 ms" in retry.data["error"]
    failed = next(e for e in events if e.type is EventType.STEP_FAILED)
    assert failed.data["error_type"] == "AgentTimeout" and failed.attempt == 2
    assert steps(final)["slow"].attempts == 2


async def test_non_retryable_error_is_not_retried(engine: Engine) -> None:
    graph = {
        "steps": [
            {
                "id": "x",
                "agent": "flaky_agent",
                "inputs": {"fail_times": 5, "retryable": False, "message": "bad file"},
            }
        ]
    }
    final = await run(engine, graph)
    assert final.status is ExecutionStatus.FAILED
    events = await events_of(engine, final.id)
    assert EventType.STEP_RETRYING not in kinds(events)
    failed = next(e for e in events if e.type is EventType.STEP_FAILED)
    assert failed.data["retryable"] is False and "bad file" in failed.data["error"]
    assert steps(final)["x"].attempts == 1


async def test_failure_cancels_the_other_branches(engine: Engine) -> None:
    graph = {
        "steps": [
            {
                "id": "bad",
                "agent": "flaky_agent",
                "inputs": {"fail_times": 1, "retryable": False},
            },
            {"id": "long", "agent": "wait_agent", "inputs": {"seconds": 30}},
            {
                "id": "after",
                "agent": "echo_agent",
                "inputs": {},
                "depends_on": ["long"],
            },
        ]
    }
    with anyio.fail_after(5):
        final = await run(engine, graph)
    assert final.status is ExecutionStatus.FAILED
    by_id = steps(final)
    assert by_id["bad"].status is StepStatus.FAILED
    assert by_id["long"].status is StepStatus.CANCELLED
    assert by_id["after"].status is StepStatus.CANCELLED
    events = await events_of(engine, final.id)
    assert events[-1].type is EventType.EXECUTION_FAILED
    assert events[-1].data["step_id"] == "bad"


async def test_cancel_stops_running_steps_within_a_second(engine: Engine) -> None:
    graph = {
        "steps": [
            {"id": "a", "agent": "wait_agent", "inputs": {"seconds": 60}},
            {"id": "b", "agent": "wait_agent", "inputs": {"seconds": 60}},
            {"id": "c", "agent": "echo_agent", "inputs": {}, "depends_on": ["a"]},
        ]
    }
    with engine.bus.subscribe() as feed:
        record, _ = await engine.service.execute(
            ExecuteRequest(tenant_id="t1", graph=graph)
        )
        running: set[str] = set()
        with anyio.fail_after(10):
            async for event in feed.receive:
                if event.type is EventType.STEP_STARTED:
                    running.add(event.step_id or "")
                if running == {"a", "b"}:
                    break
    with anyio.fail_after(1.0):
        await engine.runner.cancel_execution(record.id, "t1")
        final = await engine.runner.wait_finished(record.id)
    assert final.status is ExecutionStatus.CANCELLED
    assert {s.step_id: s.status for s in final.steps} == {
        "a": StepStatus.CANCELLED,
        "b": StepStatus.CANCELLED,
        "c": StepStatus.CANCELLED,
    }
    events = await events_of(engine, final.id)
    assert events[-1].type is EventType.EXECUTION_CANCELLED
    assert sorted(events[-1].data["cancelled_steps"]) == ["a", "b", "c"]


async def test_when_false_skips_and_dependents_still_run(engine: Engine) -> None:
    graph = {
        "variables": {"send": {"type": "boolean", "default": False}},
        "steps": [
            {"id": "a", "agent": "echo_agent", "inputs": {"value": 5}},
            {
                "id": "skip_me",
                "agent": "echo_agent",
                "inputs": {"value": 1},
                "when": "${vars.send} and ${steps.a.value} > 3",
            },
            {
                "id": "run_me",
                "agent": "echo_agent",
                "inputs": {"value": 2},
                "when": "${steps.a.value} >= 5",
            },
            {
                "id": "last",
                "agent": "echo_agent",
                "inputs": {"value": "${steps.skip_me.value}"},
                "depends_on": ["run_me"],
            },
        ],
    }
    final = await run(engine, graph)
    assert final.status is ExecutionStatus.SUCCEEDED
    status = {s.step_id: s.status for s in final.steps}
    assert status == {
        "a": StepStatus.SUCCEEDED,
        "skip_me": StepStatus.SKIPPED,
        "run_me": StepStatus.SUCCEEDED,
        "last": StepStatus.SUCCEEDED,
    }
    assert steps(final)["last"].output["value"] is None
    events = await events_of(engine, final.id)
    assert EventType.STEP_SKIPPED in kinds(events, "skip_me")


async def test_progress_is_reported_as_events(engine: Engine) -> None:
    graph = {
        "steps": [
            {
                "id": "w",
                "agent": "wait_agent",
                "inputs": {"seconds": 0.2, "progress_every_s": 0.05},
            }
        ]
    }
    final = await run(engine, graph)
    events = await events_of(engine, final.id)
    progress = [e for e in events if e.type is EventType.STEP_PROGRESS]
    assert len(progress) == 4
    assert progress[-1].data["fraction"] == pytest.approx(1.0)
    assert all(e.step_id == "w" and e.attempt == 1 for e in progress)


async def test_same_idempotency_key_returns_the_same_execution(engine: Engine) -> None:
    graph = {
        "variables": {"n": {"type": "integer", "default": 1}},
        "steps": [{"id": "a", "agent": "echo_agent", "inputs": {"value": "${vars.n}"}}],
    }
    request = ExecuteRequest(
        tenant_id="t1", graph=graph, variables={"n": 2}, idempotency_key="k-1"
    )
    first, created = await engine.service.execute(request)
    second, created_again = await engine.service.execute(request)
    assert created and not created_again and first.id == second.id
    other_tenant, created_other = await engine.service.execute(
        ExecuteRequest(
            tenant_id="t2", graph=graph, variables={"n": 2}, idempotency_key="k-1"
        )
    )
    assert created_other and other_tenant.id != first.id
    with pytest.raises(Conflict, match="different request"):
        await engine.service.execute(
            ExecuteRequest(
                tenant_id="t1", graph=graph, variables={"n": 3}, idempotency_key="k-1"
            )
        )
    final = await engine.runner.wait_finished(first.id)
    assert final.result == {"a": {"value": 2, "text": None, "number": 1.0}}


async def test_invalid_graph_never_becomes_an_execution(engine: Engine) -> None:
    graph = {"steps": [{"id": "a", "agent": "nope", "inputs": {}}]}
    with pytest.raises(ValidationFailed) as caught:
        await engine.service.execute(ExecuteRequest(tenant_id="t1", graph=graph))
    assert caught.value.problems[0].code == "unknown_agent"
    assert engine.runner.active == []


async def test_inputs_that_do_not_fit_at_run_time_fail_without_retry(
    engine: Engine,
) -> None:
    graph = {
        "steps": [
            {"id": "a", "agent": "echo_agent", "inputs": {"value": "not a number"}},
            {
                "id": "b",
                "agent": "wait_agent",
                "inputs": {"seconds": "${steps.a.value}"},
            },
        ]
    }
    final = await run(engine, graph)
    assert final.status is ExecutionStatus.FAILED
    b = steps(final)["b"]
    assert b.attempts == 1 and "do not fit agent 'wait_agent'" in (b.error or "")


async def test_a_claim_leaves_live_leases_alone_even_the_claimers_own(
    engine: Engine,
) -> None:
    # Its own running executions are the runner's to renew, not to claim again: a claim
    # that took them would start them twice, and would use up its room on them.
    graph = {"steps": [{"id": "w", "agent": "wait_agent", "inputs": {"seconds": 30}}]}
    record, _ = await engine.service.execute(
        ExecuteRequest(tenant_id="t1", graph=graph)
    )
    ids = [record.id]
    assert await engine.store.claim(engine.runner.owner, 5, execution_ids=ids) == []
    assert await engine.store.claim("another-worker", 5, execution_ids=ids) == []
    assert engine.runner.active == [record.id]
    await engine.runner.cancel_execution(record.id, "t1")
    with anyio.fail_after(10):
        final = await engine.runner.wait_finished(record.id)
    assert final.status is ExecutionStatus.CANCELLED
