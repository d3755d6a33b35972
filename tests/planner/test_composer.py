"""The composer on hand-built intent lists: what it refuses and why, the approvals the
policy demands, conditions, schedules and explanations, every graph validated."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from agent_orchestrator.core.enums import Role
from agent_orchestrator.core.errors import PlanningFailed
from agent_orchestrator.core.templates import load_templates
from agent_orchestrator.planner.composer import compose_intents, cron_of
from agent_orchestrator.planner.intents import (
    Comparison,
    Condition,
    Documents,
    Frequency,
    Intent,
    IntentPlan,
    Measure,
    Refusal,
    RefusalReason,
    ScheduleSpec,
    Task,
)
from agent_orchestrator.planner.model import PeriodKind, PeriodSpec, Plan, PlanContext

if TYPE_CHECKING:
    from agent_orchestrator.agents.registry import AgentRegistry

CONTEXT = PlanContext(
    tenant_id="acme", role=Role.OPERATOR, reference_date=dt.date(2026, 11, 24)
)
OCTOBER = PeriodSpec(kind=PeriodKind.MONTH, month=10)
LAST_MONTH = PeriodSpec(kind=PeriodKind.PREVIOUS_MONTH)


def compose(
    registry: AgentRegistry, plan: IntentPlan, context: PlanContext = CONTEXT
) -> Plan:
    return compose_intents(plan, context, load_templates(), registry, planner="test")


def steps(plan: Plan) -> dict[str, dict[str, object]]:
    return {str(s["id"]): s for s in plan.graph["steps"]}


def test_a_one_template_plan_is_built_as_the_template(registry: AgentRegistry) -> None:
    plan = compose(
        registry,
        IntentPlan(
            intents=[
                Intent(task=Task.VAT_REPORT, period=OCTOBER),
                Intent(task=Task.SEND, recipients=["a@firma.fi"]),
            ]
        ),
    )
    assert plan.template_id == "vat_report"
    assert plan.variables == {"period_start": "2026-10-01", "period_end": "2026-10-31"}


def test_the_policy_puts_an_approval_before_every_sending(
    registry: AgentRegistry,
) -> None:
    context = dataclasses.replace(
        CONTEXT, require_approval_for=frozenset({"notification_agent"})
    )
    plan = compose(
        registry,
        IntentPlan(
            intents=[
                Intent(
                    task=Task.PROCESS_RECEIPTS, documents=Documents(folder="kuitit")
                ),
                Intent(task=Task.VAT_REPORT, period=OCTOBER),
                Intent(task=Task.SEND, recipients=["a@firma.fi"]),
            ]
        ),
        context,
    )
    found = steps(plan)
    approvals = [s for s in found.values() if s.get("agent") == "approval_agent"]
    assert len(approvals) == 1
    assert approvals[0]["id"] in found["notify"]["depends_on"]  # type: ignore[operator]


def test_conditions_read_the_measure_of_the_step_they_name(
    registry: AgentRegistry,
) -> None:
    refund = Condition(measure=Measure.VAT_REFUND, amount=Decimal("100"))
    expenses = Condition(
        measure=Measure.EXPENSES, comparison=Comparison.AT_LEAST, amount=Decimal("2.5")
    )
    plan = compose(
        registry,
        IntentPlan(
            intents=[
                Intent(task=Task.VAT_REPORT, period=OCTOBER),
                Intent(task=Task.FINANCIAL_REPORT, period=OCTOBER, after=[]),
                Intent(task=Task.SEND, recipients=["a@firma.fi"], condition=refund),
                Intent(
                    task=Task.SEND,
                    recipients=["b@firma.fi"],
                    condition=expenses.model_copy(update={"otherwise": True}),
                    after=[1],
                ),
            ]
        ),
    )
    found = steps(plan)
    # A refund over 100 € is a payable below -100.
    assert found["notify"]["when"] == "${steps.vat.payable} < -100"
    assert found["notify_2"]["when"] == "not (${steps.report.totals.expenses} >= 2.5)"
    assert "vain jos palautettava ALV on yli 100\xa0€" in plan.explanation


@pytest.mark.parametrize(
    ("intents", "words"),
    [
        (
            IntentPlan(
                refusal=Refusal(
                    reason=RefusalReason.NOT_UNDERSTOOD, quote="siirrä palkat"
                )
            ),
            "En ymmärtänyt tätä osaa: 'siirrä palkat'",
        ),
        (IntentPlan(refusal=Refusal(reason=RefusalReason.TENANT)), "yritys"),
        (IntentPlan(), "En ymmärtänyt"),
        (
            IntentPlan(
                intents=[
                    Intent(task=Task.VAT_REPORT, period=OCTOBER),
                    Intent(task=Task.FINANCIAL_REPORT, period=OCTOBER),
                ],
                schedule=ScheduleSpec(frequency=Frequency.MONTHLY),
            ),
            "liukuvan ajanjakson",
        ),
        (
            IntentPlan(
                intents=[
                    Intent(
                        task=Task.PROCESS_INVOICES,
                        documents=Documents(folder="laskut"),
                    ),
                    Intent(
                        task=Task.SEND,
                        recipients=["a@firma.fi"],
                        condition=Condition(
                            measure=Measure.DOCUMENT_TOTAL, amount=Decimal(1000)
                        ),
                    ),
                ]
            ),
            "yhtä summaa",
        ),
        (
            IntentPlan(
                intents=[
                    Intent(task=Task.VAT_REPORT, period=OCTOBER),
                    Intent(task=Task.SEND, recipients=["not an address"]),
                    Intent(task=Task.APPROVE),
                ]
            ),
            "not an address",
        ),
    ],
    ids=["quoted part", "tenant", "nothing", "fixed period", "batch total", "email"],
)
def test_what_cannot_be_composed_is_refused_in_finnish(
    registry: AgentRegistry, intents: IntentPlan, words: str
) -> None:
    with pytest.raises(PlanningFailed) as refused:
        compose(registry, intents)
    assert words in str(refused.value)


def test_a_viewer_gets_no_plan(registry: AgentRegistry) -> None:
    viewer = dataclasses.replace(CONTEXT, role=Role.VIEWER)
    intents = IntentPlan(
        intents=[
            Intent(task=Task.VAT_REPORT, period=OCTOBER),
            Intent(task=Task.FINANCIAL_REPORT, period=OCTOBER),
        ]
    )
    with pytest.raises(PlanningFailed, match="VIEWER"):
        compose(registry, intents, viewer)


@pytest.mark.parametrize(
    ("spec", "cron"),
    [
        (ScheduleSpec(frequency=Frequency.DAILY, hour=6, minute=30), "30 6 * * *"),
        (
            ScheduleSpec(frequency=Frequency.WEEKLY, weekdays=[1, 7], hour=9),
            "0 9 * * 0,1",
        ),
        (ScheduleSpec(frequency=Frequency.MONTHLY, day_of_month=5), "0 8 5 * *"),
        (ScheduleSpec(frequency=Frequency.QUARTERLY, hour=7), "0 7 1 1,4,7,10 *"),
        (
            ScheduleSpec(frequency=Frequency.YEARLY, day_of_month=15, month=1),
            "0 8 15 1 *",
        ),
    ],
)
def test_a_named_schedule_becomes_its_cron(spec: ScheduleSpec, cron: str) -> None:
    assert cron_of(spec) == cron


def test_a_schedule_without_a_time_says_when_it_runs(registry: AgentRegistry) -> None:
    plan = compose(
        registry,
        IntentPlan(
            intents=[Intent(task=Task.VAT_REPORT, period=LAST_MONTH)],
            schedule=ScheduleSpec(frequency=Frequency.MONTHLY),
        ),
    )
    assert plan.schedule is not None and plan.schedule.cron == "0 8 1 * *"
    assert any("klo 8.00" in w for w in plan.warnings)
    assert plan.explanation.startswith("Ajetaan joka kuun 1. päivä klo 8.00")
