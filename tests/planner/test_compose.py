"""`compose_plan`: one piece of code turns either planner's draft into a plan."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

from agent_orchestrator.agents.builtin import create_agent_registry
from agent_orchestrator.config import Settings
from agent_orchestrator.core.enums import Role
from agent_orchestrator.core.errors import PlanningFailed, ValidationFailed
from agent_orchestrator.core.graph import WorkflowGraph
from agent_orchestrator.core.templates import WorkflowTemplate, load_templates
from agent_orchestrator.core.validation import validate_workflow
from agent_orchestrator.planner.compose import compose_plan
from agent_orchestrator.planner.messages import capabilities
from agent_orchestrator.planner.model import (
    PeriodKind,
    PeriodSpec,
    Plan,
    PlanContext,
    PlanDraft,
)

if TYPE_CHECKING:
    from agent_orchestrator.agents.registry import AgentRegistry

REFERENCE = dt.date(2026, 11, 24)
LAST_MONTH = PeriodSpec(kind=PeriodKind.PREVIOUS_MONTH)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> AgentRegistry:
    """The real agents plus the test agents (an admin-only one among them)."""
    settings = Settings(
        _env_file=None,
        agent_files_dir=tmp_path_factory.mktemp("files"),
        agent_plugins=["tests.support.agents"],
    )
    return create_agent_registry(settings)


def template(template_id: str, graph: dict[str, Any], **extra: Any) -> WorkflowTemplate:
    return WorkflowTemplate.model_validate(
        {
            "id": template_id,
            "name": {"fi": "Koe", "en": "Test"},
            "description": {"fi": "Koetyönkulku", "en": "A test workflow"},
            "graph": graph,
            **extra,
        }
    )


@pytest.fixture(scope="module")
def templates() -> dict[str, WorkflowTemplate]:
    shipped = load_templates()
    admin = template(
        "admin_things",
        {"steps": [{"id": "secret", "agent": "admin_only_agent"}]},
    )
    with_file = template(
        "echo_file",
        {
            "variables": {
                "receipt_file": {"type": "string", "required": True},
                "mode": {"type": "string", "default": "a"},
            },
            "steps": [
                {
                    "id": "first",
                    "agent": "echo_agent",
                    "inputs": {"text": "${vars.receipt_file}"},
                },
                {"id": "second", "agent": "echo_agent", "inputs": {"value": 1}},
            ],
        },
    )
    broken = template(
        "broken",
        {"steps": [{"id": "x", "agent": "echo_agent", "inputs": {"nope": 1}}]},
    )
    return {**shipped, admin.id: admin, with_file.id: with_file, broken.id: broken}


def context(
    role: Role | None = Role.OPERATOR, language: str | None = None
) -> PlanContext:
    return PlanContext(
        tenant_id="acme", role=role, reference_date=REFERENCE, language=language
    )


def compose(
    draft: PlanDraft,
    templates: dict[str, WorkflowTemplate],
    registry: AgentRegistry,
    role: Role | None = Role.OPERATOR,
    **kwargs: Any,
) -> Plan:
    return compose_plan(
        draft, context(role), templates, registry, planner="offline", **kwargs
    )


def test_a_report_plan_is_complete_and_valid(
    templates: dict[str, WorkflowTemplate], registry: AgentRegistry
) -> None:
    draft = PlanDraft(
        template_id="financial_report", period=LAST_MONTH, variables={"format": "PDF"}
    )
    plan = compose(draft, templates, registry, warnings=["note"], repairs=[["p1"]])
    assert plan.template_id == "financial_report"
    assert plan.variables == {
        "period_start": "2026-10-01",
        "period_end": "2026-10-31",
        "format": "pdf",
    }
    assert plan.planner == "offline" and plan.language == "fi"
    assert plan.warnings == ("note",) and plan.repairs == (("p1",),)
    # The graph is what executeWorkflow takes, and runs on its own: its variables
    # carry the resolved values as defaults.
    graph = WorkflowGraph.model_validate(plan.graph)
    assert graph.variables["period_start"].default == "2026-10-01"
    validate_workflow(plan.graph, registry, role=Role.OPERATOR, variables={})
    assert plan.explanation.startswith("Teen: talousraportti")
    assert "Ajanjakso: 1.10.2026–31.10.2026." in plan.explanation
    assert "Muoto: PDF." in plan.explanation


def test_the_notification_step_follows_the_last_step(
    templates: dict[str, WorkflowTemplate], registry: AgentRegistry
) -> None:
    draft = PlanDraft(
        template_id="vat_report",
        period=PeriodSpec(kind=PeriodKind.QUARTER, quarter=3),
        recipients=["Anna@Tili.FI", "pekka@tili.fi", "anna@tili.fi"],
        language="sv",
    )
    plan = compose(draft, templates, registry)
    step = plan.graph["steps"][-1]
    hint = templates["vat_report"].notify
    assert hint is not None
    assert step == {
        "id": "notify",
        "agent": "notification_agent",
        # The addresses are checked and normalised; a repeated one is sent once.
        "inputs": {
            "recipients": ["Anna@tili.fi", "pekka@tili.fi"],
            "subject": hint.subject.en,  # Swedish falls back to the English hint
            "body": hint.body.en,
            "attachments": [],
            "data": hint.data,
        },
        "depends_on": ["vat"],
    }
    assert plan.explanation.startswith("Jag gör: momsrapport.")
    assert "Period: 1.7.2026–30.9.2026." in plan.explanation
    assert "Anna@tili.fi, pekka@tili.fi" in plan.explanation


def test_a_template_without_a_hint_gets_a_plain_message_after_every_last_step(
    templates: dict[str, WorkflowTemplate], registry: AgentRegistry
) -> None:
    draft = PlanDraft(
        template_id="echo_file",
        variables={"receipt_file": " kuitit/a b.jpg "},
        recipients=["a@yritys.fi"],
    )
    plan = compose(draft, templates, registry)
    step = plan.graph["steps"][-1]
    assert step["depends_on"] == ["first", "second"]
    assert step["inputs"]["subject"] == "Työnkulun tulos: Koe"
    assert plan.variables == {"receipt_file": "kuitit/a b.jpg", "mode": "a"}
    assert "Tiedosto: kuitit/a b.jpg." in plan.explanation


@pytest.mark.parametrize(
    ("draft", "message"),
    [
        (PlanDraft(refusal="Ei käy."), "^Ei käy.$"),
        (PlanDraft(template_id="nope"), "En tunne työnkulkua 'nope'"),
        (PlanDraft(), "En ymmärtänyt"),
        (PlanDraft(template_id="financial_report"), "miltä ajalta talousraportti"),
        (
            PlanDraft(template_id="financial_report", language="en"),
            "which period the financial report",
        ),
        (
            PlanDraft(
                template_id="financial_report",
                period=LAST_MONTH,
                variables={"format": "docx"},
            ),
            "Muotoa 'docx' ei tueta; valitse jokin näistä: markdown, csv, json, pdf",
        ),
        (
            PlanDraft(template_id="vat_report", period=LAST_MONTH, recipients=["a@b"]),
            "Sähköpostiosoite 'a@b' ei kelpaa",
        ),
        (PlanDraft(template_id="echo_file"), "mikä kuittitiedosto"),
        (
            PlanDraft(template_id="echo_file", language="sv"),
            "vilken kvittofil",
        ),
        (
            PlanDraft(
                template_id="vat_report",
                period=PeriodSpec(
                    kind=PeriodKind.EXPLICIT,
                    start=dt.date(2026, 9, 15),
                    end=dt.date(2026, 9, 1),
                ),
                language="en",
            ),
            "starts on 15.9.2026, after its end 1.9.2026",
        ),
        (
            PlanDraft(
                template_id="vat_report", period=PeriodSpec(kind=PeriodKind.YEAR)
            ),
            "Ajanjaksoa ei voitu päätellä",
        ),
    ],
)
def test_what_cannot_be_planned_is_said_in_the_commands_language(
    templates: dict[str, WorkflowTemplate],
    registry: AgentRegistry,
    draft: PlanDraft,
    message: str,
) -> None:
    with pytest.raises(PlanningFailed, match=message):
        compose(draft, templates, registry)


def test_an_unknown_template_lists_the_four_things(
    templates: dict[str, WorkflowTemplate], registry: AgentRegistry
) -> None:
    for language in ("fi", "en", "sv"):
        with pytest.raises(PlanningFailed) as caught:
            compose(PlanDraft(template_id="x", language=language), templates, registry)
        assert str(caught.value).endswith(capabilities(language))


def test_period_variables_given_as_dates_are_read(
    templates: dict[str, WorkflowTemplate], registry: AgentRegistry
) -> None:
    draft = PlanDraft(
        template_id="vat_report",
        variables={"period_start": "2026-01-01", "period_end": "2026-03-31", "x": 1},
    )
    plan = compose(draft, templates, registry)
    assert plan.variables == {"period_start": "2026-01-01", "period_end": "2026-03-31"}
    assert plan.warnings == (
        "Tietoa 'x' ei käytetä tässä työnkulussa, joten se ohitettiin.",
    )


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_an_agent_above_the_role_never_ends_up_in_a_plan(
    templates: dict[str, WorkflowTemplate], registry: AgentRegistry, role: Role
) -> None:
    with pytest.raises(PlanningFailed, match=f"\\({role.value}\\)"):
        compose(PlanDraft(template_id="admin_things"), templates, registry, role)
    plan = compose(
        PlanDraft(template_id="admin_things"), templates, registry, Role.ADMIN
    )
    assert [s["agent"] for s in plan.graph["steps"]] == ["admin_only_agent"]


def test_a_viewer_may_not_plan_even_agents_a_viewer_may_use(
    templates: dict[str, WorkflowTemplate], registry: AgentRegistry
) -> None:
    # echo_agent's lowest role is VIEWER; running any workflow needs OPERATOR.
    draft = PlanDraft(template_id="echo_file", variables={"receipt_file": "a.jpg"})
    with pytest.raises(PlanningFailed, match="VIEWER.*OPERATOR"):
        compose(draft, templates, registry, Role.VIEWER)
    assert compose(draft, templates, registry, None).template_id == "echo_file"


def test_the_validators_problems_come_through_unchanged(
    templates: dict[str, WorkflowTemplate], registry: AgentRegistry
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        compose(PlanDraft(template_id="broken"), templates, registry)
    assert [(p.path, p.code) for p in caught.value.problems] == [
        ("steps[0].inputs.nope", "unknown_input")
    ]
