"""A for-each resumed after its worker died mid-way (left as the dead worker stored
it) runs only the elements that had not finished: finished ones keep their stored
outputs and never run again, an element cut off mid-attempt runs again, and the
numbering of events goes on without a gap."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from agent_orchestrator.core.enums import EventType, ExecutionStatus, StepStatus
from agent_orchestrator.core.ids import new_id, utcnow
from agent_orchestrator.core.protocols import (
    ExecutionEvent,
    ExecutionUpdate,
    NewExecution,
    NewStepRun,
    StepUpdate,
    WriteBatch,
)

from .test_engine import events_of

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import Engine

pytestmark = pytest.mark.anyio


def graph(marks: Path) -> dict[str, Any]:
    element = {
        "variables": {"path": {"type": "string", "required": True}},
        "steps": [
            {"id": "t", "agent": "touch_agent", "inputs": {"path": "${vars.path}"}}
        ],
        "outputs": {"value": "${steps.t.value}"},
    }
    return {
        "steps": [
            {"id": "src", "agent": "echo_agent", "inputs": {"value": [1] * 6}},
            {
                "id": "each",
                "for_each": "${steps.src.value}",
                "max_concurrency": 2,
                "workflow": {"graph": element},
                "inputs": {"path": str(marks)},
            },
        ],
        "outputs": {"values": "${steps.each.items}"},
    }


async def test_a_resumed_for_each_runs_only_the_unfinished_elements(
    engine: Engine, tmp_path: Path
) -> None:
    marks = tmp_path / "runs.txt"
    marks.touch()
    execution_id = new_id()
    # Held by a worker that is gone: the runner takes it over when its lease ends.
    await engine.store.create_execution(
        NewExecution(
            id=execution_id,
            tenant_id="t1",
            graph=graph(marks),
            variables={},
            steps=[("src", "echo_agent"), ("each", "")],
        ),
        lease_owner="dead-worker",
        lease_s=0.5,
    )
    now = utcnow()
    seq = 0

    def event(kind: EventType, step_id: str | None = None) -> ExecutionEvent:
        nonlocal seq
        seq += 1
        return ExecutionEvent(execution_id, "t1", seq, kind, now, step_id)

    batch = WriteBatch(
        new_steps=[
            NewStepRun(execution_id, "t1", step_id, agent, 2 + i)
            for i, (step_id, agent) in enumerate(
                [(f"each[{n}]", "") for n in range(6)]
                + [(f"each[{n}].t", "touch_agent") for n in range(3)]
            )
        ],
        executions=[
            ExecutionUpdate(
                execution_id, {"status": ExecutionStatus.RUNNING, "started_at": now}
            )
        ],
        events=[event(EventType.EXECUTION_STARTED)],
    )

    def step(step_id: str, status: StepStatus, output: Any = None) -> None:
        values: dict[str, Any] = {"status": status, "attempts": 1, "started_at": now}
        if output is not None:
            values["output"] = output
        batch.steps.append(StepUpdate(execution_id, step_id, values))
        kind = (
            EventType.STEP_SUCCEEDED
            if status is StepStatus.SUCCEEDED
            else EventType.STEP_STARTED
        )
        batch.events.append(event(kind, step_id))

    step("src", StepStatus.SUCCEEDED, {"value": [1] * 6, "text": None, "number": 1.0})
    step("each", StepStatus.RUNNING)
    for n in (0, 1):
        step(f"each[{n}]", StepStatus.SUCCEEDED, {"value": f"each[{n}].t-before"})
        step(f"each[{n}].t", StepStatus.SUCCEEDED, {"runs": 1, "value": "x"})
    step("each[2]", StepStatus.RUNNING)
    step("each[2].t", StepStatus.RUNNING)  # cut off by the crash
    await engine.store.write(batch)

    with anyio.fail_after(30):
        while execution_id not in engine.runner.active:
            record = await engine.store.load_execution(execution_id)
            if record.status.is_final:
                break
            await anyio.sleep(0.02)
        final = await engine.runner.wait_finished(execution_id)

    assert final.status is ExecutionStatus.SUCCEEDED, final.error_message
    assert final.result == {
        "values": [
            {"value": "each[0].t-before"},
            {"value": "each[1].t-before"},
            *({"value": f"each[{n}].t-done"} for n in range(2, 6)),
        ]
    }
    runs = Counter(line.split()[1] for line in marks.read_text().splitlines())
    assert runs == {f"each[{n}].t": 1 for n in range(2, 6)}
    attempts = {s.step_id: s.attempts for s in final.steps}
    assert attempts["each[2].t"] == 2 and attempts["each[3].t"] == 1
    events = await events_of(engine, execution_id)
    after = [
        e.step_id for e in events if e.seq > seq and e.type is EventType.STEP_STARTED
    ]
    assert "each[0].t" not in after and "each[1]" not in after
    assert after.count("each[2].t") == 1 and "each[5].t" in after
