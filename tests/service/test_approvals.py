"""Approvals through the use cases in-process, on SQLite and PostgreSQL: a waiting
execution holds no lease or slot, approving continues it from the approval step,
rejecting or expiry ends it FAILED naming who and why; four eyes, the approver's role,
another tenant's approval, a second decision and a race of two are refused; every
decision is audited."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from sqlalchemy import text

from agent_orchestrator.config import load_settings
from agent_orchestrator.core.approvals import ApprovalStatus
from agent_orchestrator.core.auth import Principal
from agent_orchestrator.core.enums import ExecutionStatus, Role, StepStatus
from agent_orchestrator.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from agent_orchestrator.service.caller import Caller, Transport
from agent_orchestrator.service.executions import StartExecution
from agent_orchestrator.wiring.services import open_services

from .conftest import audit_rows

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from agent_orchestrator.service.container import Services

pytestmark = pytest.mark.anyio


def caller(key: str, role: Role = Role.ADMIN, tenant: str = "acme") -> Caller:
    return Caller(Principal(tenant, role, key, f"key {key}"), Transport.GRAPHQL)


STARTER = caller("starter", Role.OPERATOR)
BOSS = caller("boss")


def approval_graph(**approval: Any) -> dict[str, Any]:
    """Wait, approve, then wait again (the step the approval guards)."""
    inputs = {"title": "Lähetä ALV-raportti", "details": "Lokakuu 2026", **approval}
    return {
        "steps": [
            {"id": "prepare", "agent": "wait_agent", "inputs": {"seconds": 0}},
            {
                "id": "approve",
                "agent": "approval_agent",
                "inputs": inputs,
                "depends_on": ["prepare"],
            },
            {
                "id": "send",
                "agent": "wait_agent",
                "inputs": {"seconds": 0},
                "depends_on": ["approve"],
            },
        ],
        "outputs": {"approved": "${steps.approve.approved}"},
    }


@pytest.fixture
async def services(database_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    settings = load_settings(
        database_url=database_url,
        agent_files_dir=tmp_path,
        agent_retry_initial_ms=20,
        agent_lease_seconds=2,
        agent_max_concurrent_executions=2,
    )
    async with open_services(settings) as opened:
        yield opened


async def wait_status(
    services: Services, execution_id: str, *statuses: ExecutionStatus
) -> Any:
    with anyio.fail_after(20):
        while True:
            record = await services.executions.get(STARTER, execution_id)
            if record.status in statuses:
                return record
            await anyio.sleep(0.02)


async def start(services: Services, graph: dict[str, Any] | None = None) -> str:
    record, _ = await services.executions.start(
        STARTER, StartExecution(graph=graph or approval_graph())
    )
    return record.id


async def lease_of(services: Services, execution_id: str) -> Any:
    async with services.database.read() as conn:
        return (
            await conn.execute(
                text(
                    "select lease_owner from agent_workflow_executions where id = :id"
                ),
                {"id": execution_id},
            )
        ).scalar_one()


async def test_parks_without_a_lease_then_approval_continues(
    services: Services,
) -> None:
    execution_id = await start(services)
    record = await wait_status(services, execution_id, ExecutionStatus.WAITING_APPROVAL)
    steps = {s.step_id: s.status for s in record.steps}
    assert steps == {
        "prepare": StepStatus.SUCCEEDED,
        "approve": StepStatus.WAITING_APPROVAL,
        "send": StepStatus.PENDING,
    }
    # Nothing held: no lease, no task in the runner.
    assert await lease_of(services, execution_id) is None
    assert execution_id not in services.runner.active
    pending = await services.approvals.find(BOSS, status=ApprovalStatus.PENDING)
    assert [(a.request.execution_id, a.request.step_id) for a in pending] == [
        (execution_id, "approve")
    ]
    assert pending[0].request.title == "Lähetä ALV-raportti"
    assert pending[0].request.requested_by == "starter"
    assert pending[0].request.approver_role is Role.ADMIN

    decided = await services.approvals.decide(
        BOSS, execution_id, "approve", approve=True, comment="Hyvä"
    )
    assert decided.status is ApprovalStatus.APPROVED
    final = await wait_status(services, execution_id, ExecutionStatus.SUCCEEDED)
    approve = next(s for s in final.steps if s.step_id == "approve")
    assert approve.status is StepStatus.SUCCEEDED
    assert approve.output is not None
    assert {k: approve.output[k] for k in ("approved", "decided_by", "comment")} == {
        "approved": True,
        "decided_by": "boss",
        "comment": "Hyvä",
    }
    assert final.result == {"approved": True}
    events = [
        (e.type.value, e.step_id)
        for e in await services.executions.events_after(execution_id)
    ]
    assert events.count(("EXECUTION_STARTED", None)) == 1
    assert ("APPROVAL_REQUESTED", "approve") in events
    assert events.index(("APPROVAL_DECIDED", "approve")) < events.index(
        ("STEP_STARTED", "send")
    )
    assert [e.seq for e in await services.executions.events_after(execution_id)] == (
        list(range(1, len(events) + 1))
    )
    assert await services.approvals.find(BOSS, status=ApprovalStatus.PENDING) == []
    rows = [r for r in await audit_rows(services) if r["action"] == "approval.decide"]
    assert len(rows) == 1
    assert rows[0]["user_id"] == "boss"
    assert rows[0]["result"] == "success"
    assert rows[0]["details"]["approved"] is True


async def test_rejection_fails_the_execution_naming_who_and_why(
    services: Services,
) -> None:
    execution_id = await start(services)
    await wait_status(services, execution_id, ExecutionStatus.WAITING_APPROVAL)
    await services.approvals.decide(
        BOSS, execution_id, "approve", approve=False, comment="Luvut väärin"
    )
    final = await wait_status(services, execution_id, ExecutionStatus.FAILED)
    assert final.error_message is not None
    assert "boss" in final.error_message
    assert "Luvut väärin" in final.error_message
    steps = {s.step_id: s for s in final.steps}
    assert steps["approve"].status is StepStatus.FAILED
    assert steps["approve"].attempts == 1  # no retry
    assert steps["send"].status is StepStatus.CANCELLED
    assert steps["send"].attempts == 0


async def test_four_eyes_role_tenant_and_twice(services: Services) -> None:
    execution_id = await start(services)
    await wait_status(services, execution_id, ExecutionStatus.WAITING_APPROVAL)
    with pytest.raises(Forbidden, match="four eyes"):
        await services.approvals.decide(
            caller("starter", Role.ADMIN), execution_id, "approve", approve=True
        )
    with pytest.raises(Forbidden, match="needs role ADMIN"):
        await services.approvals.decide(
            caller("op2", Role.OPERATOR), execution_id, "approve", approve=True
        )
    with pytest.raises(NotFound):
        await services.approvals.decide(
            caller("intruder", Role.ADMIN, tenant="globex"),
            execution_id,
            "approve",
            approve=True,
        )
    assert await services.approvals.find(caller("x", tenant="globex")) == []
    with pytest.raises(NotFound):
        await services.approvals.decide(BOSS, execution_id, "nope", approve=True)
    # Nothing of the refusals changed it.
    pending = await services.approvals.find(BOSS, status=ApprovalStatus.PENDING)
    assert len(pending) == 1

    # Two deciders at once: one decides, the other is told.
    outcomes: list[object] = []

    async def decide(who: Caller, approve: bool) -> None:
        try:
            outcomes.append(
                await services.approvals.decide(
                    who, execution_id, "approve", approve=approve
                )
            )
        except Conflict as exc:
            outcomes.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(decide, BOSS, True)
        tg.start_soon(decide, caller("boss2"), False)
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(conflicts) == 1
    assert "a decision is made once" in str(conflicts[0])
    with pytest.raises(Conflict, match="already"):
        await services.approvals.decide(BOSS, execution_id, "approve", approve=True)
    await wait_status(
        services, execution_id, ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED
    )
    rows = [r for r in await audit_rows(services) if r["action"] == "approval.decide"]
    results = sorted(r["result"] for r in rows)
    # four eyes, role, other tenant, unknown step, the race's loser, twice: refused.
    assert results.count("success") == 1
    assert results.count("denied") == 4
    assert results.count("failed") == 2


async def test_expiry_fails_the_step(services: Services) -> None:
    execution_id = await start(services, approval_graph(expires_in_hours=1))
    await wait_status(services, execution_id, ExecutionStatus.WAITING_APPROVAL)
    # Not yet due.
    assert await services.approvals.expire_due() == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1, seconds=1)
    assert await services.approvals.expire_due(later) == 1
    final = await wait_status(services, execution_id, ExecutionStatus.FAILED)
    assert final.error_message is not None
    assert "expired" in final.error_message
    [approval] = await services.approvals.find(BOSS, execution_id=execution_id)
    assert approval.status is ApprovalStatus.EXPIRED
    with pytest.raises(Conflict, match="expired"):
        await services.approvals.decide(BOSS, execution_id, "approve", approve=True)
    actions = [r["action"] for r in await audit_rows(services)]
    assert "approval.expire" in actions


async def test_waiting_executions_take_no_worker_slot(services: Services) -> None:
    # AGENT_MAX_CONCURRENT_EXECUTIONS is 2 here: 5 parked ones do not fill it.
    ids = [await start(services) for _ in range(5)]
    for execution_id in ids:
        await wait_status(services, execution_id, ExecutionStatus.WAITING_APPROVAL)
    assert services.runner.active == []
    plain = {"steps": [{"id": "w", "agent": "wait_agent", "inputs": {"seconds": 0}}]}
    other = await start(services, plain)
    await wait_status(services, other, ExecutionStatus.SUCCEEDED)


async def test_cancel_a_waiting_execution(services: Services) -> None:
    execution_id = await start(services)
    await wait_status(services, execution_id, ExecutionStatus.WAITING_APPROVAL)
    await services.executions.cancel(STARTER, execution_id)
    final = await wait_status(services, execution_id, ExecutionStatus.CANCELLED)
    assert {s.step_id: s.status for s in final.steps}["approve"] is (
        StepStatus.CANCELLED
    )
    [approval] = await services.approvals.find(BOSS, execution_id=execution_id)
    assert approval.status is ApprovalStatus.CANCELLED
    with pytest.raises(Conflict, match="ended"):
        await services.approvals.decide(BOSS, execution_id, "approve", approve=True)


@pytest.fixture
async def guarded(database_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    settings = load_settings(
        database_url=database_url,
        agent_files_dir=tmp_path,
        agent_require_approval_for=["notification_agent", "ledger_agent"],
    )
    async with open_services(settings) as opened:
        yield opened


async def test_the_policy_applies_to_every_source(guarded: Services) -> None:
    send = {
        "id": "send",
        "agent": "notification_agent",
        "inputs": {"recipients": ["a@b.fi"], "subject": "s", "body": "b"},
    }
    bare = {"steps": [send]}

    def codes(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
        return [f"{p.path} {p.code}" for p in exc.value.problems]

    with pytest.raises(ValidationFailed) as refused:
        await guarded.executions.start(STARTER, StartExecution(graph=bare))
    assert codes(refused) == ["steps[0] approval_required"]
    assert "notification_agent" in refused.value.problems[0].message
    with pytest.raises(ValidationFailed) as refused:
        await guarded.saved_workflows.save(STARTER, name="lähetä", graph=bare)
    assert codes(refused) == ["steps[0] approval_required"]
    # A template that books without an approval (ledger_agent is listed).
    with pytest.raises(ValidationFailed) as refused:
        await guarded.executions.start(
            STARTER,
            StartExecution(
                template_id="receipt_processing",
                variables={"receipt_file": "kuitti.jpg"},
            ),
        )
    assert [p.code for p in refused.value.problems] == ["approval_required"]
    approved = {
        "steps": [
            {"id": "ok", "agent": "approval_agent", "inputs": {"title": "Lähetä?"}},
            {**send, "depends_on": ["ok"]},
        ]
    }
    record, _ = await guarded.executions.start(STARTER, StartExecution(graph=approved))
    await wait_status(guarded, record.id, ExecutionStatus.WAITING_APPROVAL)
    # A planned graph gets its approval from the planner.
    plan = await guarded.copilot.plan(
        STARTER, "Tee ALV-raportti viime kuulta ja lähetä se osoitteeseen a@tili.fi"
    )
    agents = [s["agent"] for s in plan.graph["steps"]]
    assert agents.index("approval_agent") < agents.index("notification_agent")


async def test_a_decision_while_another_branch_runs(services: Services) -> None:
    # The approval waits while a parallel step still runs: the execution is RUNNING,
    # then parks once that step ends, and the decision made in between is not lost.
    graph = {
        "steps": [
            {"id": "slow", "agent": "wait_agent", "inputs": {"seconds": 1.5}},
            {"id": "approve", "agent": "approval_agent", "inputs": {"title": "OK?"}},
            {
                "id": "after",
                "agent": "wait_agent",
                "inputs": {"seconds": 0},
                "depends_on": ["approve", "slow"],
            },
        ]
    }
    execution_id = await start(services, graph)
    with anyio.fail_after(20):
        while not await services.approvals.find(BOSS, status=ApprovalStatus.PENDING):
            await anyio.sleep(0.02)
    running = await services.executions.get(STARTER, execution_id)
    assert running.status is ExecutionStatus.RUNNING
    await services.approvals.decide(BOSS, execution_id, "approve", approve=True)
    final = await wait_status(
        services, execution_id, ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED
    )
    assert final.status is ExecutionStatus.SUCCEEDED, final.error_message
    assert {s.step_id: s.attempts for s in final.steps} == {
        "slow": 1,
        "approve": 1,
        "after": 1,
    }


async def test_the_upkeep_loop_expires_approvals(
    database_url: str, tmp_path: Path
) -> None:
    settings = load_settings(
        database_url=database_url,
        agent_files_dir=tmp_path,
        agent_approval_check_s=0.1,
    )
    async with open_services(settings) as quick:
        # 0.0002 hours: 0.72 s.
        execution_id = await start(quick, approval_graph(expires_in_hours=0.0002))
        final = await wait_status(quick, execution_id, ExecutionStatus.FAILED)
    assert final.error_message is not None
    assert "vanheni" in final.error_message
    assert "expired" in final.error_message


async def test_inputs_that_do_not_fit_fail_the_step_at_once(
    services: Services,
) -> None:
    graph = approval_graph(approver_role="${vars.role}")
    graph["variables"] = {"role": {"type": "string", "default": "BOSS"}}
    execution_id = await start(services, graph)
    final = await wait_status(services, execution_id, ExecutionStatus.FAILED)
    steps = {s.step_id: s for s in final.steps}
    assert steps["approve"].status is StepStatus.FAILED
    assert steps["approve"].attempts == 1
    assert "approver_role" in (steps["approve"].error or "")
    assert steps["send"].status is StepStatus.CANCELLED
    assert await services.approvals.find(BOSS, execution_id=execution_id) == []
