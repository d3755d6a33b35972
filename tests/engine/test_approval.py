"""The engine at an approval step, on every store and backend: the execution parks
(WAITING_APPROVAL, the step too, APPROVAL_REQUESTED) and the run ends, holding nothing;
a step beside it finishes first; a cancel closes a parked execution."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import pytest

from agent_orchestrator.core.enums import EventType, ExecutionStatus, StepStatus
from agent_orchestrator.service.starting import ExecuteRequest

if TYPE_CHECKING:
    from agent_orchestrator.core.protocols import ExecutionRecord

    from .conftest import Engine

pytestmark = pytest.mark.anyio
GRAPH = {
    "steps": [
        {"id": "a", "agent": "echo_agent", "inputs": {"value": 1}},
        {"id": "beside", "agent": "wait_agent", "inputs": {"seconds": 0.2}},
        {
            "id": "ok",
            "agent": "approval_agent",
            "inputs": {"title": "Hyväksy", "approver_role": "OPERATOR"},
            "depends_on": ["a"],
        },
        {"id": "after", "agent": "echo_agent", "inputs": {}, "depends_on": ["ok"]},
    ]
}


async def parked(engine: Engine) -> ExecutionRecord:
    record, _ = await engine.service.execute(
        ExecuteRequest(tenant_id="t1", graph=GRAPH, actor="k1")
    )
    with anyio.fail_after(10):
        while True:
            found = await engine.store.load_execution(record.id)
            if found.status is ExecutionStatus.WAITING_APPROVAL:
                return found
            await anyio.sleep(0.01)


async def test_an_approval_parks_the_execution_and_holds_nothing(
    engine: Engine,
) -> None:
    record = await parked(engine)
    assert {s.step_id: s.status for s in record.steps} == {
        "a": StepStatus.SUCCEEDED,
        "beside": StepStatus.SUCCEEDED,
        "ok": StepStatus.WAITING_APPROVAL,
        "after": StepStatus.PENDING,
    }
    assert engine.runner.active == []
    # Nobody may claim it while it waits (no lease to take over, no slot).
    assert await engine.store.claim("other", 5, execution_ids=[record.id]) == []
    events = await engine.store.events_after(record.id)
    requested = [e for e in events if e.type is EventType.APPROVAL_REQUESTED]
    assert [(e.step_id, e.data["approver_role"]) for e in requested] == [
        ("ok", "OPERATOR")
    ]
    assert not any(e.type.is_final for e in events)


async def test_cancelling_a_parked_execution_closes_it(engine: Engine) -> None:
    record = await parked(engine)
    with anyio.fail_after(5):
        await engine.runner.cancel_execution(record.id, "t1")
        final = await engine.runner.wait_finished(record.id)
    assert final.status is ExecutionStatus.CANCELLED
    assert {s.step_id: s.status for s in final.steps}["ok"] is StepStatus.CANCELLED
    events = await engine.store.events_after(record.id)
    assert events[-1].type is EventType.EXECUTION_CANCELLED
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
