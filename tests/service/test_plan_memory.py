"""The copilot's memory of previewed plans: only the plan with the fingerprint the
caller saw, for its own key, command and context, bounded in number and time."""

from __future__ import annotations

import dataclasses
import datetime as dt

from agent_orchestrator.planner.model import Plan
from agent_orchestrator.service.copilot import (
    CopilotOptions,
    PlanKey,
    PlanMemory,
    plan_fingerprint,
)

DAY = dt.date(2026, 11, 24)
PLAN = Plan(
    template_id="vat_report",
    variables={"period_start": "2026-10-01", "period_end": "2026-10-31"},
    graph={"steps": [{"id": "vat", "agent": "vat_reporter", "inputs": {}}]},
    explanation="ALV-laskelma lokakuulta",
    planner="openai",
)


def key(command: str = "Tee ALV-laskelma viime kuulta", actor: str = "k1") -> PlanKey:
    return ("acme", actor, "OPERATOR", command, CopilotOptions(reference_date=DAY), DAY)


def test_the_fingerprint_is_what_running_the_plan_does() -> None:
    same = dataclasses.replace(PLAN, explanation="other words", warnings=("x",))
    assert plan_fingerprint(same) == plan_fingerprint(PLAN)
    november = dataclasses.replace(
        PLAN, variables={"period_start": "2026-11-01", "period_end": "2026-11-30"}
    )
    assert plan_fingerprint(november) != plan_fingerprint(PLAN)
    assert len(plan_fingerprint(PLAN)) == 64


def test_only_the_seen_plan_for_the_same_key_command_and_context() -> None:
    memory = PlanMemory()
    memory.keep(key(), PLAN)
    assert memory.find(key(), plan_fingerprint(PLAN)) is PLAN
    assert memory.find(key(), "0" * 64) is None
    assert memory.find(key(actor="k2"), plan_fingerprint(PLAN)) is None
    assert memory.find(key(command="Tee ALV"), plan_fingerprint(PLAN)) is None


def test_bounded_in_number_and_time() -> None:
    memory = PlanMemory(size=2)
    for command in ("a", "b", "c"):
        memory.keep(key(command), PLAN)
    assert memory.find(key("a"), plan_fingerprint(PLAN)) is None  # the oldest went
    assert memory.find(key("c"), plan_fingerprint(PLAN)) is PLAN
    stale = PlanMemory(ttl_s=0)
    stale.keep(key(), PLAN)
    assert stale.find(key(), plan_fingerprint(PLAN)) is None
