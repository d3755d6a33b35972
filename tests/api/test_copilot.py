"""The copilot on a real server process (SQLite and PostgreSQL): the planner's
yardstick through GraphQL, running plans, dry runs, rights, tenants, REST, the audit
trail, and the OpenAI planner against a fake OpenAI server."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest

from tests.api.conftest import make_key
from tests.support.fake_openai import FakeOpenAI, Raw, Status, fake_openai
from tests.support.gql import GraphQLClient
from tests.support.intent_answers import answer
from tests.support.server import ServerProcess

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .conftest import Api

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

DEV_SET = Path(__file__).parents[1] / "data" / "planner_dev.jsonl"
REST = "/api/v1/agent-orchestrator/copilot/execute"
REFERENCE = "2026-11-24"
PLAN = """
query($command: String!, $context: CopilotContextInput) {
  copilotPlan(command: $command, context: $context) {
    templateId variables graph explanation planner warnings modelCalls language
  }
}"""
EXECUTE = """
mutation($command: String!, $context: CopilotContextInput, $dryRun: Boolean) {
  copilotExecute(command: $command, context: $context, dryRun: $dryRun) {
    plan { templateId variables graph explanation planner warnings modelCalls }
    execution { id status templateId metadata graph }
  }
}"""
FINAL = """
query($id: ID!) { execution(id: $id) { id status variables result errorMessage } }"""
LATEST = "{ executions(first: 1) { edges { node { id } } } }"
VAT_COMMAND = "Tee ALV-laskelma viime kuulta"
OCTOBER = {"period_start": "2026-10-01", "period_end": "2026-10-31"}


async def wait_final(client: GraphQLClient, execution_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        data = await client.data(FINAL, {"id": execution_id})
        if data["execution"]["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return dict(data["execution"])
        assert time.monotonic() < deadline, data
        await anyio.sleep(0.05)


def dev_cases() -> list[dict[str, Any]]:
    assert DEV_SET.exists(), f"the planner's yardstick {DEV_SET} is missing"
    lines = DEV_SET.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def recipients(graph: dict[str, Any]) -> list[str]:
    return [
        address
        for step in graph["steps"]
        if step["agent"] == "notification_agent"
        for address in step["inputs"]["recipients"]
    ]


def judge(case: dict[str, Any], body: dict[str, Any]) -> str | None:
    """Why the answer misses the case (None when it meets it)."""
    expect = case["expect"]
    if "error" in expect:
        errors = body.get("errors") or []
        code = errors[0]["extensions"].get("code") if errors else None
        return None if code == expect["error"] else f"wanted {expect['error']}: {body}"
    if body.get("errors"):
        return f"refused: {body['errors'][0]['message']}"
    plan = body["data"]["copilotPlan"]
    if plan["templateId"] != expect["template"]:
        return f"template {plan['templateId']}"
    for name, value in expect.get("variables", {}).items():
        if plan["variables"].get(name) != value:
            return f"{name}={plan['variables'].get(name)!r}, wanted {value!r}"
    if recipients(plan["graph"]) != expect.get("notify", []):
        return f"recipients {recipients(plan['graph'])}"
    return None


async def test_the_planners_yardstick_through_graphql(api: Api) -> None:
    client = api.client("operator")
    cases = dev_cases()
    misses = []
    for case in cases:
        body = await client(
            PLAN,
            {
                "command": case["command"],
                "context": {
                    "referenceDate": case["reference_date"],
                    "language": case["language"],
                },
            },
        )
        reason = judge(case, body)
        if reason is not None:
            misses.append(f"{case['command']}: {reason}")
    hits = len(cases) - len(misses)
    rate = 100 * hits / len(cases)
    print(f"copilot via GraphQL: {hits}/{len(cases)} = {rate:.1f} %")
    for miss in misses:
        print("  miss:", miss)
    assert rate >= 95, misses


async def test_copilot_execute_runs_the_plan_and_keeps_the_command(api: Api) -> None:
    client = api.client("operator")
    data = await client.data(
        EXECUTE,
        {"command": VAT_COMMAND, "context": {"referenceDate": REFERENCE}},
    )
    plan, execution = (
        data["copilotExecute"]["plan"],
        data["copilotExecute"]["execution"],
    )
    assert plan["templateId"] == "vat_report" and plan["variables"] == OCTOBER
    assert execution["status"] in ("PENDING", "RUNNING", "SUCCEEDED")
    final = await wait_final(client, execution["id"])
    assert final["status"] == "SUCCEEDED", final
    assert final["variables"] == OCTOBER
    assert set(final["result"]) >= {"sales_vat", "deductible_vat", "payable"}
    assert execution["graph"] == plan["graph"]
    assert execution["templateId"] == "vat_report", "filtering by template finds it"
    kept = execution["metadata"]
    assert kept["source"] == "copilot" and kept["via"] == "graphql"
    copilot = kept["copilot"]
    assert copilot["command"] == VAT_COMMAND
    assert copilot["template_id"] == "vat_report"
    assert copilot["variables"] == OCTOBER
    assert copilot["planner"] == plan["planner"]
    assert copilot["explanation"] == plan["explanation"]
    assert copilot["reference_date"] == REFERENCE and copilot["repairs"] == []

    logs = await api.client("admin").data(
        """{ auditLogs(first: 20, filter: {action: "copilot.execute"})
        { edges { node { action userId resourceType resourceId details } } } }"""
    )
    entries = [
        e["node"]
        for e in logs["auditLogs"]["edges"]
        if e["node"]["resourceId"] == execution["id"]
    ]
    assert len(entries) == 1
    details = entries[0]["details"]
    assert details["command"] == VAT_COMMAND
    assert details["template"] == "vat_report"
    assert details["planner"] == plan["planner"]
    assert entries[0]["resourceType"] == "execution" and entries[0]["userId"]


async def test_the_notification_step_goes_into_the_executed_graph(api: Api) -> None:
    client = api.client("operator")
    data = await client.data(
        EXECUTE,
        {
            "command": "Luo talousraportti viime kuulta ja lähetä se "
            "osoitteeseen talous@yritys.fi",
            "context": {"referenceDate": REFERENCE},
            "dryRun": True,
        },
    )
    plan = data["copilotExecute"]["plan"]
    assert plan["templateId"] == "financial_report"
    assert recipients(plan["graph"]) == ["talous@yritys.fi"]


async def test_a_dry_run_creates_no_execution(api: Api) -> None:
    client = api.client("operator")
    before = await client.data(LATEST)
    data = await client.data(
        EXECUTE,
        {
            "command": "Luo talousraportti viime kuulta",
            "context": {"referenceDate": REFERENCE},
            "dryRun": True,
        },
    )
    assert data["copilotExecute"]["execution"] is None
    assert data["copilotExecute"]["plan"]["variables"]["period_start"] == "2026-10-01"
    assert await client.data(LATEST) == before

    logs = await api.client("admin").data(
        """{ auditLogs(first: 5, filter: {action: "copilot.plan"})
        { edges { node { details } } } }"""
    )
    assert any(
        e["node"]["details"]["command"] == "Luo talousraportti viime kuulta"
        and e["node"]["details"]["template"] == "financial_report"
        for e in logs["auditLogs"]["edges"]
    )


async def test_viewers_may_not_use_the_copilot(api: Api) -> None:
    viewer = api.client("viewer")
    for query in (PLAN, EXECUTE):
        body = await viewer(query, {"command": VAT_COMMAND})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        response = await http.post(
            REST,
            json={"command": VAT_COMMAND},
            headers={"X-API-Key": api.keys["viewer"]},
        )
    assert response.status_code == 403


async def test_the_tenant_is_always_the_callers(api: Api) -> None:
    client = api.client("operator")
    own = await client.data(
        PLAN,
        {"command": VAT_COMMAND, "context": {"tenantId": "acme"}},
    )
    assert own["copilotPlan"]["templateId"] == "vat_report"
    before = await api.client("other").data(LATEST)
    body = await client(
        EXECUTE, {"command": VAT_COMMAND, "context": {"tenantId": "globex"}}
    )
    error = body["errors"][0]
    assert error["extensions"]["code"] == "PLANNING_FAILED"
    assert "organisaatiosi" in error["message"]
    assert await api.client("other").data(LATEST) == before

    logs = await api.client("admin").data(
        """{ auditLogs(first: 10, filter: {action: "copilot.plan"})
        { edges { node { result details } } } }"""
    )
    assert any(
        e["node"]["result"] == "denied"
        and "organisaatiosi" in e["node"]["details"]["reason"]
        for e in logs["auditLogs"]["edges"]
    )


async def test_refusals_and_bad_context(api: Api) -> None:
    client = api.client("operator")
    refused = await client(PLAN, {"command": "Kirjoita runo kissoista"})
    assert refused["errors"][0]["extensions"]["code"] == "PLANNING_FAILED"
    assert refused["errors"][0]["message"]
    bad = await client(
        PLAN,
        {
            "command": "  ",
            "context": {"timezone": "Mars/Olympus", "language": "de"},
        },
    )
    error = bad["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    paths = {p["path"] for p in error["extensions"]["problems"]}
    assert paths == {"command", "context.timezone", "context.language"}

    # A fingerprint that no plan can have is refused before anything is planned.
    before = await client.data(LATEST)
    for wrong in ("abc", "A" * 64, "0" * 63 + "g"):
        body = await client(
            """mutation($c: String!, $e: String) { copilotExecute(command: $c,
              expectFingerprint: $e) { execution { id } } }""",
            {"c": VAT_COMMAND, "e": wrong},
        )
        error = body["errors"][0]
        assert error["extensions"]["code"] == "VALIDATION_FAILED", body
        assert [p["path"] for p in error["extensions"]["problems"]] == [
            "expectFingerprint"
        ]
    assert await client.data(LATEST) == before


async def test_the_rest_route(api: Api) -> None:
    headers = {"X-API-Key": api.keys["operator"]}
    async with httpx.AsyncClient(base_url=api.url, headers=headers, timeout=30) as http:
        dry = await http.post(
            REST,
            json={
                "command": VAT_COMMAND,
                "context": {"reference_date": REFERENCE, "language": "fi"},
                "dry_run": True,
            },
        )
        assert dry.status_code == 200, dry.text
        body = dry.json()
        assert body["execution_id"] is None and body["status"] == "PLANNED"
        plan = body["plan"]
        assert plan["template_id"] == "vat_report" and plan["variables"] == OCTOBER
        assert {"graph", "explanation", "planner", "warnings"} <= set(plan)

        run = await http.post(
            REST,
            json={"command": VAT_COMMAND, "context": {"reference_date": REFERENCE}},
        )
        assert run.status_code == 202, run.text
        started = run.json()
        assert started["status"] in ("PENDING", "RUNNING", "SUCCEEDED")
        final = await wait_final(api.client("operator"), started["execution_id"])
        assert final["status"] == "SUCCEEDED"

        bad = await http.post(
            REST,
            json={
                "command": 5,
                "dry_run": "yes",
                "extra": 1,
                "context": {"x": 1},
                "expect_fingerprint": 7,
            },
        )
        assert bad.status_code == 422
        paths = {p["path"] for p in bad.json()["error"]["problems"]}
        assert paths == {
            "command",
            "dry_run",
            "extra",
            "context.x",
            "expect_fingerprint",
        }

        refused = await http.post(REST, json={"command": "Kirjoita runo kissoista"})
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "PLANNING_FAILED"


def openai_env(fake: FakeOpenAI, database_url: str, tmp_path: Path) -> dict[str, str]:
    """A server process's settings: its planner talks to `fake`."""
    return {
        "DATABASE_URL": database_url,
        "AGENT_FILES_DIR": str(tmp_path / "files"),
        "AGENT_TIMEOUT_MS": "5000",
        "AGENT_RATE_LIMIT": "100000/minute",
        **fake.env(),
    }


@pytest.fixture
def openai_server(
    database_url: str, tmp_path: Path
) -> Iterator[tuple[FakeOpenAI, GraphQLClient]]:
    """A server whose planner talks to a fake OpenAI server."""
    with fake_openai() as fake:
        key = make_key(database_url, "operator", "operator", "acme")
        env = openai_env(fake, database_url, tmp_path)
        with ServerProcess(env, tmp_path / "server.log") as server:
            yield fake, GraphQLClient(server.url, key)


def choice(**fields: Any) -> str:
    return answer(**fields)


async def test_the_server_plans_with_openai_when_a_key_is_set(
    openai_server: tuple[FakeOpenAI, GraphQLClient],
) -> None:
    fake, client = openai_server
    fake.reply(choice(template_id="vat_report", period_kind="previous_month"))
    data = await client.data(
        EXECUTE, {"command": VAT_COMMAND, "context": {"referenceDate": REFERENCE}}
    )
    plan, execution = (
        data["copilotExecute"]["plan"],
        data["copilotExecute"]["execution"],
    )
    assert plan["planner"] == "openai" and plan["modelCalls"] == 1
    assert plan["variables"] == OCTOBER and plan["warnings"] == []
    assert execution["metadata"]["copilot"]["planner"] == "openai"
    assert execution["metadata"]["copilot"]["model_calls"] == 1
    assert VAT_COMMAND in fake.requests[0]["messages"][1]["content"]

    # The model's service fails: the offline planner answers, and says so.
    fake.reply(Status(500))
    body = await client.data(
        PLAN, {"command": VAT_COMMAND, "context": {"referenceDate": REFERENCE}}
    )
    fallback = body["copilotPlan"]
    assert fallback["planner"] == "offline" and fallback["modelCalls"] == 1
    assert fallback["variables"] == OCTOBER
    assert any("paikallinen suunnittelija" in w for w in fallback["warnings"])

    # A proxy's HTML page, or JSON that is no completion: the same fallback.
    for reply in (
        Raw("<html><body>502 Bad Gateway</body></html>"),
        Status(200, {"object": "list", "data": []}),
    ):
        fake.reply(reply)
        body = await client.data(
            PLAN, {"command": VAT_COMMAND, "context": {"referenceDate": REFERENCE}}
        )
        assert body["copilotPlan"]["planner"] == "offline", reply
        assert body["copilotPlan"]["variables"] == OCTOBER


COMPOSE_SET = Path(__file__).parents[1] / "data" / "planner_compose_dev.jsonl"
PLAN_COMPOSED = """
query($command: String!, $context: CopilotContextInput) {
  copilotPlan(command: $command, context: $context) {
    templateId variables graph explanation schedule { cron timezone description }
  }
}"""
EXECUTE_SCHEDULED = """
mutation($command: String!, $context: CopilotContextInput, $dryRun: Boolean) {
  copilotExecute(command: $command, context: $context, dryRun: $dryRun) {
    plan { templateId explanation schedule { cron timezone description } }
    execution { id }
    schedule { id cron timezone enabled variables command }
  }
}"""


async def test_the_composed_yardstick_through_graphql(api: Api) -> None:
    from tests.planner.judge import judge as judge_composed

    client = api.client("operator")
    lines = COMPOSE_SET.read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines[1:] if line.strip()]
    misses = []
    for case in cases:
        body = await client(
            PLAN_COMPOSED,
            {
                "command": case["command"],
                "context": {
                    "referenceDate": case["reference_date"],
                    "language": case["lang"],
                },
            },
        )
        errors = body.get("errors") or []
        code = errors[0]["extensions"].get("code") if errors else None
        plan = None if errors else body["data"]["copilotPlan"]
        reason = judge_composed(case, plan, code)
        if reason is not None:
            misses.append(f"{case['command']}: {reason}")
    print(f"composed via GraphQL: {len(cases) - len(misses)}/{len(cases)}")
    assert not misses, "\n".join(misses)


async def test_a_command_that_asks_to_run_monthly_makes_a_schedule(api: Api) -> None:
    client = api.client("operator")
    command = (
        "Joka kuun ensimmäisenä päivänä klo 8 tee ALV-laskelma edelliseltä "
        "kuukaudelta ja lähetä se osoitteeseen kirjanpito@firma.fi"
    )
    variables = {"command": command, "context": {"referenceDate": REFERENCE}}
    dry = (await client.data(EXECUTE_SCHEDULED, {**variables, "dryRun": True}))[
        "copilotExecute"
    ]
    assert dry["plan"]["schedule"]["cron"] == "0 8 1 * *"
    assert dry["plan"]["schedule"]["timezone"] == "Europe/Helsinki"
    assert dry["schedule"] is None and dry["execution"] is None
    assert not (await client.data("{ schedules { id } }"))["schedules"]

    made = (await client.data(EXECUTE_SCHEDULED, variables))["copilotExecute"]
    assert made["execution"] is None
    schedule = made["schedule"]
    assert schedule["cron"] == "0 8 1 * *" and schedule["enabled"] is True
    assert schedule["command"] == command
    # Each run reports its own month: the period is resolved when a slot fires.
    assert schedule["variables"]["period_start"] == "${period.previous_month.start}"
    listed = (await client.data("{ schedules { id cron } }"))["schedules"]
    assert [s["id"] for s in listed] == [schedule["id"]]
    assert "joka kuun 1. päivä klo 8.00" in made["plan"]["explanation"]


PREVIEW = """
query($command: String!, $context: CopilotContextInput) {
  copilotPlan(command: $command, context: $context) {
    graph variables modelCalls fingerprint
  }
}"""
RUN_PREVIEWED = """
mutation($command: String!, $context: CopilotContextInput, $expect: String) {
  copilotExecute(command: $command, context: $context, expectFingerprint: $expect) {
    plan { graph modelCalls fingerprint }
    execution { id graph }
  }
}"""
COUNT = "{ executions(first: 100) { edges { node { id } } } }"


async def test_running_a_previewed_plan_runs_that_plan(
    openai_server: tuple[FakeOpenAI, GraphQLClient],
    database_url: str,
    tmp_path: Path,
) -> None:
    fake, client = openai_server
    context = {"referenceDate": REFERENCE}
    fake.reply(choice(template_id="vat_report", period_kind="previous_month"))
    seen = (await client.data(PREVIEW, {"command": VAT_COMMAND, "context": context}))[
        "copilotPlan"
    ]
    assert seen["variables"] == OCTOBER and len(seen["fingerprint"]) == 64

    # Run with the preview's fingerprint: the plan seen runs, the model is not asked
    # again (the process remembers the plan it showed).
    ran = (
        await client.data(
            RUN_PREVIEWED,
            {"command": VAT_COMMAND, "context": context, "expect": seen["fingerprint"]},
        )
    )["copilotExecute"]
    assert len(fake.requests) == 1
    assert ran["plan"]["fingerprint"] == seen["fingerprint"]
    assert ran["execution"]["graph"] == seen["graph"]
    before = len((await client.data(COUNT))["executions"]["edges"])

    # Another API process on the same database has not seen the preview: it plans
    # again, and the model answers otherwise. Nothing runs; the caller is told.
    env = openai_env(fake, database_url, tmp_path)
    with ServerProcess(env, tmp_path / "second.log") as second:
        other = GraphQLClient(second.url, client.key)
        fake.reply(choice(template_id="vat_report", period_kind="current_month"))
        body = await other(
            RUN_PREVIEWED,
            {"command": VAT_COMMAND, "context": context, "expect": seen["fingerprint"]},
        )
        assert len(fake.requests) == 2
        error = body["errors"][0]
        assert error["extensions"]["code"] == "PLAN_CHANGED", body
        assert "Suunnitelma muuttui" in error["message"]
        changed = error["extensions"]["fingerprint"]
        assert len(changed) == 64 and changed != seen["fingerprint"]
        assert len((await client.data(COUNT))["executions"]["edges"]) == before

        # Running the changed plan (as the preview page does after showing it)
        # takes the plan that process made, with no further model call.
        again = (
            await other.data(
                RUN_PREVIEWED,
                {"command": VAT_COMMAND, "context": context, "expect": changed},
            )
        )["copilotExecute"]
        assert len(fake.requests) == 2
        assert again["plan"]["fingerprint"] == changed
        assert again["execution"]["graph"] != seen["graph"]

    admin = GraphQLClient(client.base_url, make_key(database_url, "a", "admin", "acme"))
    refused = await admin.data(
        """{ auditLogs(first: 20, filter: {action: "copilot.execute"})
        { edges { node { details } } } }"""
    )
    reasons = [
        e["node"]["details"].get("reason", "") for e in refused["auditLogs"]["edges"]
    ]
    assert sum("Suunnitelma muuttui" in r for r in reasons) == 1
