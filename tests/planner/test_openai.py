"""The OpenAI planner through the real `openai` client against a fake OpenAI server on
loopback: plans, repairs, refusals, failures with the offline fallback, and what the
model is told."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import SecretStr

from agent_orchestrator.agents.builtin import create_agent_registry
from agent_orchestrator.config import ModelSettings, load_settings
from agent_orchestrator.core.enums import Role
from agent_orchestrator.core.errors import PlanningFailed
from agent_orchestrator.core.templates import WorkflowTemplate
from agent_orchestrator.planner.factory import create_planner
from agent_orchestrator.planner.messages import refusal
from agent_orchestrator.planner.model import PeriodKind, PlanContext
from agent_orchestrator.planner.offline import OfflinePlanner
from agent_orchestrator.planner.openai_planner import OpenAIPlanner
from agent_orchestrator.planner.structured import IntentAnswer
from agent_orchestrator.wiring.services import load_checked_templates
from tests.support.fake_openai import (
    Delay,
    FakeOpenAI,
    Raw,
    Reply,
    Status,
    completion,
    fake_openai,
)
from tests.support.intent_answers import answer, intent, intents, period

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from agent_orchestrator.agents.registry import AgentRegistry

pytestmark = pytest.mark.anyio

REFERENCE = dt.date(2026, 11, 24)
VAT_LAST_MONTH = "Tee ALV-laskelma viime kuulta"
OCTOBER = {"period_start": "2026-10-01", "period_end": "2026-10-31"}


def choice(**fields: Any) -> str:
    """The JSON of a one-template `IntentAnswer`."""
    return answer(**fields)


VAT_CHOICE = choice(template_id="vat_report", period_kind="previous_month")


# A template only admins may run (its agent needs role ADMIN).
ADMIN_TEMPLATE = WorkflowTemplate.model_validate(
    {
        "id": "vat_report",
        "name": {"fi": "Ylläpidon tarkistus", "en": "Admin audit"},
        "description": {"fi": "Ylläpidon tarkistus.", "en": "An admin audit."},
        "graph": {"steps": [{"id": "audit", "agent": "admin_only_agent"}]},
    }
)


@pytest.fixture(scope="module")
def parts(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[AgentRegistry, dict[str, WorkflowTemplate]]:
    """The built-in agents and templates, plus the test agents and a template that
    needs an admin."""
    settings = load_settings(
        agent_files_dir=tmp_path_factory.mktemp("files"),
        agent_plugins=["tests.support.agents"],
    )
    registry = create_agent_registry(settings)
    return registry, load_checked_templates(registry)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai() as server:
        yield server


def make(
    parts: tuple[AgentRegistry, dict[str, WorkflowTemplate]],
    fake: FakeOpenAI,
    *,
    fallback: bool = True,
    timeout_ms: int = 10_000,
    max_retries: int = 3,
    api_key: str | None = None,
) -> OpenAIPlanner:
    registry, templates = parts
    model = ModelSettings(
        api_key=SecretStr(api_key or fake.api_key),
        base_url=fake.base_url,
        model="gpt-4o-mini",
        timeout_s=timeout_ms / 1000,
    )
    planner = create_planner(
        registry, templates, model=model, max_retries=max_retries, fallback=fallback
    )
    assert isinstance(planner, OpenAIPlanner)
    return planner


def context(role: Role = Role.OPERATOR, language: str | None = None) -> PlanContext:
    return PlanContext(
        tenant_id="acme", role=role, reference_date=REFERENCE, language=language
    )


def messages(fake: FakeOpenAI, index: int) -> list[dict[str, Any]]:
    return list(fake.requests[index]["messages"])


async def test_a_valid_plan_takes_one_call(parts: Any, fake: FakeOpenAI) -> None:
    fake.reply(VAT_CHOICE)
    plan = await make(parts, fake).plan(VAT_LAST_MONTH, context())

    assert plan.planner == "openai"
    assert plan.template_id == "vat_report"
    assert plan.variables == OCTOBER
    assert [s["agent"] for s in plan.graph["steps"]] == ["vat_agent"]
    assert (plan.model_calls, plan.tokens, plan.repairs, plan.warnings) == (
        1,
        15,
        (),
        (),
    )
    request = fake.requests[0]
    assert request["model"] == "gpt-4o-mini"
    schema = request["response_format"]["json_schema"]
    assert schema["strict"] is True
    assert set(schema["schema"]["required"]) == set(IntentAnswer.model_fields)
    system, user = messages(fake, 0)
    assert system["role"] == "system" and user["role"] == "user"
    assert "2026-11-24" in user["content"] and VAT_LAST_MONTH in user["content"]
    # The dates come from code: the model only names the period.
    assert "2026-10-01" not in user["content"]
    assert "NEVER compute dates" in system["content"]


async def test_the_notification_step_carries_the_recipients(
    parts: Any, fake: FakeOpenAI
) -> None:
    fake.reply(
        choice(
            template_id="financial_report",
            period_kind="month",
            month=6,
            year=2025,
            format="pdf",
            recipients=["talous@yritys.fi"],
        )
    )
    plan = await make(parts, fake).plan(
        "Talousraportti kesäkuulta 2025 PDF:nä ja lähetä se talous@yritys.fi",
        context(),
    )
    assert plan.template_id == "financial_report"
    assert plan.variables == {
        "period_start": "2025-06-01",
        "period_end": "2025-06-30",
        "format": "pdf",
    }
    notify = [s for s in plan.graph["steps"] if s["agent"] == "notification_agent"]
    assert len(notify) == 1 and notify[0]["inputs"]["recipients"] == [
        "talous@yritys.fi"
    ]


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        (
            choice(template_id="monthly_vat", period_kind="previous_month"),
            ["intents.0.task", "vat_report"],
        ),
        (
            choice(
                template_id="financial_report",
                period_kind="previous_month",
                format="docx",
            ),
            ["docx", "markdown"],
        ),
        (
            choice(
                template_id="vat_report",
                period_kind="explicit",
                start="2026-10-01",
                end="31.10.2026",
            ),
            ["intents[0].period.end", "31.10.2026", "YYYY-MM-DD"],
        ),
        (
            choice(template_id="vat_report", period_kind="month", month=13),
            ["intents[0].period.month", "12"],
        ),
        # JSON that does not fit the schema is repaired like a plan that does not
        # validate.
        (
            json.dumps({"intents": [], "schedule": None}),
            ["Field required", "language"],
        ),
    ],
    ids=["unknown task", "bad format", "bad date", "month 13", "missing fields"],
)
async def test_an_invalid_plan_is_repaired_with_the_problems(
    parts: Any, fake: FakeOpenAI, first: str, expected: list[str]
) -> None:
    fake.reply(first, VAT_CHOICE)
    plan = await make(parts, fake).plan(VAT_LAST_MONTH, context())

    assert plan.planner == "openai" and plan.template_id == "vat_report"
    assert plan.variables == OCTOBER
    assert (plan.model_calls, plan.tokens) == (2, 30)
    assert len(plan.repairs) == 1
    second = messages(fake, 1)
    assert second[:2] == messages(fake, 0)
    assert second[2] == {"role": "assistant", "content": first}
    assert second[3]["role"] == "user"
    for text in expected:
        assert text in second[3]["content"], second[3]["content"]
        assert any(text in problem for problem in plan.repairs[0])


async def test_repairs_stop_after_max_retries_and_the_offline_planner_answers(
    parts: Any, fake: FakeOpenAI
) -> None:
    bad = choice(template_id="monthly_vat", period_kind="previous_month")
    fake.reply(bad, bad, bad)
    plan = await make(parts, fake, max_retries=2).plan(VAT_LAST_MONTH, context())

    assert len(fake.requests) == 3
    assert plan.planner == "offline"
    assert (plan.template_id, plan.variables) == ("vat_report", OCTOBER)
    assert plan.model_calls == 3 and len(plan.repairs) == 2
    assert "tarkistusta" in plan.warnings[-1]


async def test_a_plan_above_the_callers_role_is_refused_not_repaired(
    parts: Any, fake: FakeOpenAI
) -> None:
    # A deployment whose VAT report runs an admin-only agent: a repair could only
    # turn the plan into something the caller did not ask for.
    registry, templates = parts
    admin = (registry, {**templates, "vat_report": ADMIN_TEMPLATE})
    fake.reply(VAT_CHOICE, VAT_CHOICE)
    with pytest.raises(PlanningFailed) as refused:
        await make(admin, fake).plan(VAT_LAST_MONTH, context(Role.OPERATOR))
    assert "OPERATOR" in str(refused.value) and "ADMIN" in str(refused.value)
    assert len(fake.requests) == 1 and fake.pending == 1


async def test_a_caller_who_may_not_run_workflows_is_refused_without_a_call(
    parts: Any, fake: FakeOpenAI
) -> None:
    fake.reply(VAT_CHOICE)
    with pytest.raises(PlanningFailed) as refused:
        await make(parts, fake).plan(VAT_LAST_MONTH, context(Role.VIEWER))
    assert "VIEWER" in str(refused.value) and "OPERATOR" in str(refused.value)
    assert fake.requests == []


async def test_a_refusal_the_model_chooses_is_said_by_code_in_finnish(
    parts: Any, fake: FakeOpenAI
) -> None:
    fake.reply(choice(refusal="off_topic"))
    with pytest.raises(PlanningFailed) as refused:
        await make(parts, fake).plan("Mikä on sää huomenna?", context())
    assert str(refused.value) == refusal("off_topic", "fi")
    assert len(fake.requests) == 1


async def test_a_part_the_model_cannot_do_is_quoted_in_the_refusal(
    parts: Any, fake: FakeOpenAI
) -> None:
    fake.reply(choice(refusal="not_understood", quote="siirrä palkat pankkiin"))
    with pytest.raises(PlanningFailed) as refused:
        await make(parts, fake).plan(
            "Tee ALV-laskelma ja siirrä palkat pankkiin", context()
        )
    assert "En ymmärtänyt tätä osaa: 'siirrä palkat pankkiin'" in str(refused.value)


FAILURES: dict[str, tuple[Reply, str]] = {
    "garbage": ("Tässä suunnitelma: ALV viime kuulta", "ei voitu lukea"),
    "refusal": (completion(None, refusal="I can't help with that."), "kieltäytyi"),
    "length": (
        completion('{"template_id": "vat_', finish_reason="length"),
        "katkesi",
    ),
    "HTTP 500": (Status(500), "ei ollut käytettävissä"),
    "HTTP 429": (Status(429), "ei ollut käytettävissä"),
    # A proxy's page in front of the model, or a server that speaks another API.
    "HTML 200": (Raw("<html><body>Bad gateway</body></html>"), "ei voitu lukea"),
    "HTML 502": (Raw("<html>Bad gateway</html>", 502), "ei ollut käytettävissä"),
    "other JSON 200": (Status(200, {"result": "ok"}), "ei voitu lukea"),
    "choices not a list": (Status(200, {"choices": 5}), "ei voitu lukea"),
    "message not an object": (
        Status(200, {"choices": [{"message": "hei", "finish_reason": "stop"}]}),
        "ei voitu lukea",
    ),
    "JSON null 200": (Raw("null", content_type="application/json"), "ei voitu lukea"),
    "timeout": (Delay(5, VAT_CHOICE), "ei vastannut ajoissa"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
async def test_a_failing_model_gives_way_to_the_offline_planner(
    parts: Any, fake: FakeOpenAI, failure: str
) -> None:
    reply, said = FAILURES[failure]
    fake.reply(reply)
    plan = await make(parts, fake, timeout_ms=500).plan(VAT_LAST_MONTH, context())

    assert plan.planner == "offline"
    assert (plan.template_id, plan.variables) == ("vat_report", OCTOBER)
    assert plan.model_calls == 1 and len(fake.requests) == 1
    assert said in plan.warnings[-1]
    assert "paikallinen suunnittelija" in plan.warnings[-1]


@pytest.mark.parametrize("failure", list(FAILURES))
async def test_without_fallback_a_failing_model_is_a_planning_failure(
    parts: Any, fake: FakeOpenAI, failure: str
) -> None:
    reply, said = FAILURES[failure]
    fake.reply(reply)
    planner = make(parts, fake, timeout_ms=500, fallback=False)
    with pytest.raises(PlanningFailed) as failed:
        await planner.plan(VAT_LAST_MONTH, context(language="fi"))
    assert said in str(failed.value)


async def test_the_warning_speaks_the_commands_language(
    parts: Any, fake: FakeOpenAI
) -> None:
    fake.reply(Status(503))
    plan = await make(parts, fake).plan(
        "Make a VAT report for last month", context(language="en")
    )
    assert plan.planner == "offline" and plan.language == "en"
    assert plan.warnings[-1] == (
        "The language model service was not available. The offline planner made "
        "this plan instead."
    )


async def test_a_wrong_api_key_gives_way_to_the_offline_planner(
    parts: Any, fake: FakeOpenAI
) -> None:
    plan = await make(parts, fake, api_key="sk-wrong").plan(VAT_LAST_MONTH, context())
    assert plan.planner == "offline" and plan.model_calls == 1
    assert fake.headers[0]["authorization"] == "Bearer sk-wrong"


async def test_the_system_prompt_shows_only_what_the_role_may_use(
    parts: Any, fake: FakeOpenAI
) -> None:
    fake.reply(VAT_CHOICE)
    planner = make(parts, fake)
    await planner.plan(VAT_LAST_MONTH, context(Role.OPERATOR))
    assert messages(fake, 0)[0]["content"] == planner.system_prompt(Role.OPERATOR)
    registry, _ = parts

    prompts = {role: planner.system_prompt(role) for role in Role}
    for role, prompt in prompts.items():
        for agent in registry:
            shown = f"- {agent.id}: {agent.description.fi}" in prompt
            assert shown == role.includes(agent.min_role), (role, agent.id)
    viewer, operator, admin = (prompts[r] for r in Role)
    assert "- admin_only_agent:" in admin and "- admin_only_agent:" not in operator
    assert "- receipt_processing:" in operator and "- receipt_processing:" not in viewer
    assert "- vat_report:" in viewer
    assert "`recipients`" in operator and "`recipients`" not in viewer
    # Agents' input and output schemas are published to the model.
    vat = registry.get("vat_agent")
    assert vat is not None
    for name in (*vat.input_model.model_fields, *vat.output_model.model_fields):
        assert f'"{name}"' in viewer
    for kind in PeriodKind:
        assert f"- {kind.value}:" in viewer
    assert "NEVER compute dates" in viewer


async def test_one_client_serves_many_plans_inside_the_context(
    parts: Any, fake: FakeOpenAI
) -> None:
    fake.reply(VAT_CHOICE, VAT_CHOICE)
    async with make(parts, fake) as planner:
        first = await planner.plan(VAT_LAST_MONTH, context())
        second = await planner.plan(VAT_LAST_MONTH, context())
    assert first.variables == second.variables == OCTOBER
    assert first.model_calls == second.model_calls == 1


def test_the_factory_picks_the_planner_from_the_settings(
    parts: Any, tmp_path: Path
) -> None:
    registry, templates = parts
    keyed = ModelSettings(api_key=SecretStr("sk-x"), timeout_s=1.0)
    offline = create_planner(registry, templates, model=ModelSettings(), max_retries=3)
    assert isinstance(offline, OfflinePlanner)
    online = create_planner(registry, templates, model=keyed, max_retries=3)
    assert isinstance(online, OpenAIPlanner)
    assert isinstance(online.fallback, OfflinePlanner)
    alone = create_planner(
        registry, templates, model=keyed, max_retries=3, fallback=False
    )
    assert isinstance(alone, OpenAIPlanner) and alone.fallback is None


async def test_a_composed_command_becomes_the_graph_of_the_models_intents(
    parts: Any, fake: FakeOpenAI
) -> None:
    october = period("month", month=10)
    fake.reply(
        intents(
            intent("process_receipts", folder="kuitit/2026-10"),
            intent("vat_report", period=october),
            intent("approve", approver="Mika"),
            intent("send", recipients=["kirjanpito@firma.fi"]),
        )
    )
    plan = await make(parts, fake).plan(
        "Käsittele kansion kuitit/2026-10 kuitit, tee ALV-laskelma lokakuulta ja "
        "lähetä se osoitteeseen kirjanpito@firma.fi kun Mika on hyväksynyt sen",
        context(),
    )
    steps = {s["id"]: s for s in plan.graph["steps"]}
    assert plan.template_id is None and plan.model_calls == 1
    assert plan.model == "gpt-4o-mini"
    assert steps["files"]["inputs"]["folder"] == "kuitit/2026-10"
    assert steps["receipts"]["for_each"] == "${steps.files.files}"
    assert steps["receipts"]["workflow"] == {"template": "receipt_processing"}
    assert plan.variables == OCTOBER
    assert steps["approve"]["depends_on"] == ["vat"]
    assert steps["notify"]["depends_on"] == ["approve"]
    # A person's name is no role: the warning says who may decide.
    assert any("Mika" in w for w in plan.warnings)
    assert "1. Luetaan kansion kuitit/2026-10" in plan.explanation


async def test_a_wrong_composed_answer_is_repaired_with_the_validators_problems(
    parts: Any, fake: FakeOpenAI
) -> None:
    wrong = intents(
        intent("vat_report", period=period("previous_month")),
        # A condition on a document's total with no document before it.
        intent(
            "send",
            recipients=["a@firma.fi"],
            condition={
                "measure": "document_total",
                "comparison": "above",
                "amount": 500,
                "source": None,
                "otherwise": False,
            },
        ),
    )
    right = intents(
        intent("vat_report", period=period("previous_month")),
        intent(
            "send",
            recipients=["a@firma.fi"],
            condition={
                "measure": "vat_payable",
                "comparison": "above",
                "amount": 500,
                "source": 0,
                "otherwise": False,
            },
        ),
    )
    fake.reply(wrong, right)
    plan = await make(parts, fake).plan(
        "Tee ALV-laskelma viime kuulta ja jos maksettavaa on yli 500 €, lähetä se "
        "osoitteeseen a@firma.fi",
        context(),
    )
    assert plan.model_calls == 2 and len(plan.repairs) == 1
    assert any("document_total" in p or "asiakirjan" in p for p in plan.repairs[0])
    notify = next(s for s in plan.graph["steps"] if s["id"] == "notify")
    assert notify["when"] == "${steps.vat.payable} > 500"


async def test_a_monthly_command_from_the_model_gets_a_cron_from_code(
    parts: Any, fake: FakeOpenAI
) -> None:
    fake.reply(
        intents(
            intent("vat_report", period=period("previous_month")),
            schedule={
                "frequency": "monthly",
                "weekdays": None,
                "day_of_month": 1,
                "month": None,
                "hour": 8,
                "minute": None,
            },
        )
    )
    plan = await make(parts, fake).plan(
        "Joka kuun 1. päivä klo 8 ALV-laskelma edelliseltä kuukaudelta", context()
    )
    assert plan.schedule is not None and plan.schedule.cron == "0 8 1 * *"
    assert plan.variables["period_start"] == "${period.previous_month.start}"
