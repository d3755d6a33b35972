"""``AGENT_REQUIRE_APPROVAL_FOR`` in the validator: a graph that runs a listed agent
without an approval step before it on every path from the start is refused with the
step's path, whatever its source; the offline planner puts the approval in."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

from agent_orchestrator.agents.builtin import create_agent_registry
from agent_orchestrator.config import Settings
from agent_orchestrator.core.enums import Role
from agent_orchestrator.core.errors import ValidationFailed
from agent_orchestrator.core.templates import load_templates
from agent_orchestrator.core.validation import validate_workflow
from agent_orchestrator.planner.model import PlanContext
from agent_orchestrator.planner.offline import OfflinePlanner

if TYPE_CHECKING:
    from collections.abc import Iterator

    from agent_orchestrator.agents.registry import AgentRegistry

POLICY = frozenset({"notification_agent"})
WAIT = {"agent": "wait_agent", "inputs": {"seconds": 0}}
SEND = {
    "agent": "notification_agent",
    "inputs": {"recipients": ["a@b.fi"], "subject": "s", "body": "b"},
}
APPROVE = {"agent": "approval_agent", "inputs": {"title": "OK?"}}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> AgentRegistry:
    files = tmp_path_factory.mktemp("files")
    return create_agent_registry(Settings(_env_file=None, agent_files_dir=files))


def step(step_id: str, base: dict[str, Any], *deps: str, **more: Any) -> Any:
    return {"id": step_id, **base, "depends_on": list(deps), **more}


def problems(registry: AgentRegistry, steps: list[dict[str, Any]]) -> list[str]:
    try:
        validate_workflow({"steps": steps}, registry, require_approval_for=POLICY)
    except ValidationFailed as exc:
        return [f"{p.path} {p.code}" for p in exc.problems]
    return []


def test_no_approval_is_refused_with_the_path(registry: AgentRegistry) -> None:
    steps = [step("report", WAIT), step("send", SEND, "report")]
    assert problems(registry, steps) == ["steps[1] approval_required"]
    # Without the policy the same graph is fine.
    validate_workflow({"steps": steps}, registry)


def test_an_approval_before_it_is_accepted(registry: AgentRegistry) -> None:
    chain = [
        step("report", WAIT),
        step("ok", APPROVE, "report"),
        step("send", SEND, "ok"),
    ]
    assert problems(registry, chain) == []
    # The notification may still read the report directly: every path into it
    # passes the approval (report -> send is implied by report -> ok -> send).
    direct = [*chain[:2], step("send", SEND, "report", "ok")]
    assert problems(registry, direct) == []


def test_an_approval_on_one_path_only_is_refused(registry: AgentRegistry) -> None:
    steps = [
        step("a", WAIT),
        step("ok", APPROVE, "a"),
        step("b", WAIT),  # a second start, not approved
        step("send", SEND, "ok", "b"),
    ]
    assert problems(registry, steps) == ["steps[3] approval_required"]
    beside = [step("ok", APPROVE), step("report", WAIT), step("send", SEND, "report")]
    assert problems(registry, beside) == ["steps[2] approval_required"]
    first = [step("send", SEND), step("ok", APPROVE, "send")]
    assert problems(registry, first) == ["steps[0] approval_required"]


def test_a_conditional_approval_does_not_count(registry: AgentRegistry) -> None:
    steps = [
        step("report", WAIT),
        step("ok", APPROVE, "report", when="${steps.report.waited_s} > 1"),
        step("send", SEND, "ok"),
    ]
    assert problems(registry, steps) == ["steps[2] approval_required"]


@pytest.fixture(scope="module")
def planner(registry: AgentRegistry) -> Iterator[OfflinePlanner]:
    offline = OfflinePlanner(load_templates(), registry)
    yield offline
    offline.close()


@pytest.mark.anyio
async def test_the_offline_planner_puts_an_approval_before_sending(
    planner: OfflinePlanner, registry: AgentRegistry
) -> None:
    command = "Tee ALV-raportti viime kuulta ja lähetä se osoitteeseen anna@tili.fi"
    plain = PlanContext(
        tenant_id="acme", role=Role.OPERATOR, reference_date=dt.date(2026, 11, 24)
    )
    without = await planner.plan(command, plain)
    assert "approval_agent" not in [s["agent"] for s in without.graph["steps"]]

    plan = await planner.plan(
        command, dataclasses.replace(plain, require_approval_for=POLICY)
    )
    steps = {s["id"]: s for s in plan.graph["steps"]}
    approvals = [s for s in steps.values() if s["agent"] == "approval_agent"]
    assert len(approvals) == 1
    [notify] = [s for s in steps.values() if s["agent"] == "notification_agent"]
    assert approvals[0]["id"] in notify["depends_on"]
    assert "anna@tili.fi" in approvals[0]["inputs"]["details"]
    assert approvals[0]["inputs"]["title"].startswith("Hyväksy")
    # The plan passes the validator under the policy.
    validate_workflow(plan.graph, registry, require_approval_for=POLICY)


def test_a_guarded_agent_inside_a_sub_workflow_needs_the_approval_before_it(
    registry: AgentRegistry,
) -> None:
    inner = {"steps": [{"id": "send", **SEND}]}
    sub = {"workflow": {"graph": inner}, "inputs": {}}
    assert problems(registry, [step("report", WAIT), step("mail", sub, "report")]) == [
        "steps[1] approval_required"
    ]
    twice = {"workflow": {"graph": {"steps": [{"id": "deeper", **sub}]}}, "inputs": {}}
    assert problems(registry, [step("mail", twice)]) == ["steps[0] approval_required"]
    approved = [step("ok", APPROVE), step("mail", sub, "ok")]
    assert problems(registry, approved) == []


def test_an_approval_runs_only_in_the_top_level_graph(
    registry: AgentRegistry,
) -> None:
    inner = {"steps": [{"id": "ok", **APPROVE}]}
    nested = [step("sub", {"workflow": {"graph": inner}, "inputs": {}})]
    assert problems(registry, nested) == [
        "steps[0].workflow.graph.steps[0].agent approval_not_top_level"
    ]
    each = [step("each", APPROVE, for_each=["a", "b"])]
    assert problems(registry, each) == ["steps[0].agent approval_not_top_level"]
