"""Schedules over the real server on SQLite and PostgreSQL: GraphQL (`createSchedule`,
`schedules`, `pauseSchedule`, `resumeSchedule`, `deleteSchedule`) and REST
(``/schedules``), with rights (a viewer reads, an operator makes), tenants (another
tenant's schedule is NOT_FOUND) and precise VALIDATION_FAILED problems."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from .conftest import Api

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
BASE = "/api/v1/agent-orchestrator"
FIELDS = (
    "id name cron timezone enabled nextRunAt lastRunAt templateId workflowId variables "
    "command"
)
CREATE = f"""mutation($input: CreateScheduleInput!) {{
  createSchedule(input: $input) {{ {FIELDS} }} }}"""
LIST = f"query {{ schedules {{ {FIELDS} }} }}"
PAUSE = f"mutation($id: ID!) {{ pauseSchedule(id: $id) {{ {FIELDS} }} }}"
RESUME = f"mutation($id: ID!) {{ resumeSchedule(id: $id) {{ {FIELDS} }} }}"
DELETE = "mutation($id: ID!) { deleteSchedule(id: $id) }"
MONTHLY = {
    "name": "ALV kuukausittain",
    "cron": "0 8 1 * *",
    "templateId": "vat_report",
    "variables": {
        "period_start": "${period.previous_month.start}",
        "period_end": "${period.previous_month.end}",
    },
}


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_graphql_schedules(api: Api) -> None:
    operator, viewer, other = (
        api.client("operator"),
        api.client("viewer"),
        api.client("other"),
    )
    assert codes(await viewer(CREATE, {"input": MONTHLY})) == ["FORBIDDEN"]
    made = (await operator.data(CREATE, {"input": MONTHLY}))["createSchedule"]
    assert made["timezone"] == "Europe/Helsinki" and made["enabled"] is True
    assert made["templateId"] == "vat_report" and made["lastRunAt"] is None
    # 08:00 on the 1st in Helsinki is 05:00 or 06:00 UTC.
    assert made["nextRunAt"][8:10] == "01" and made["nextRunAt"][11:13] in ("05", "06")
    assert made["variables"] == MONTHLY["variables"]
    assert made["command"] is None  # made by hand, not from a copilot command
    listed = (await viewer.data(LIST))["schedules"]
    assert [s["id"] for s in listed] == [made["id"]]
    assert (await other.data(LIST))["schedules"] == []
    for mutation in (PAUSE, RESUME, DELETE):
        assert codes(await other(mutation, {"id": made["id"]})) == ["NOT_FOUND"]
    assert codes(await viewer(PAUSE, {"id": made["id"]})) == ["FORBIDDEN"]
    paused = (await operator.data(PAUSE, {"id": made["id"]}))["pauseSchedule"]
    assert paused["enabled"] is False and paused["nextRunAt"] is None
    resumed = (await operator.data(RESUME, {"id": made["id"]}))["resumeSchedule"]
    assert resumed["enabled"] is True and resumed["nextRunAt"] == made["nextRunAt"]
    assert (await operator.data(DELETE, {"id": made["id"]}))["deleteSchedule"] is True
    assert codes(await operator(DELETE, {"id": made["id"]})) == ["NOT_FOUND"]
    assert (await viewer.data(LIST))["schedules"] == []


async def test_graphql_refuses_what_cannot_run(api: Api) -> None:
    operator = api.client("operator")
    body = await operator(
        CREATE,
        {
            "input": {
                "name": "rikki",
                "cron": "0 8 * *",
                "timezone": "Mars/Olympus",
                "graph": {"steps": [{"id": "a", "agent": "no_such_agent"}]},
                "variables": {"x": "${period.next_month.start}"},
            }
        },
    )
    assert codes(body) == ["VALIDATION_FAILED"]
    problems = {
        p["path"]: p["message"] for p in body["errors"][0]["extensions"]["problems"]
    }
    assert "five fields" in problems["input.cron"]
    assert "Mars/Olympus" in problems["input.timezone"]
    assert "previous_month" in problems["input.variables.x"]
    # The graph goes through the executeWorkflow validator once the rest is right.
    body = await operator(
        CREATE,
        {
            "input": {
                "name": "rikki",
                "cron": "0 8 * * *",
                "graph": {"steps": [{"id": "a", "agent": "no_such_agent"}]},
            }
        },
    )
    assert codes(body) == ["VALIDATION_FAILED"]
    assert "no_such_agent" in str(body["errors"][0]["extensions"]["problems"])
    body = await operator(CREATE, {"input": {**MONTHLY, "graph": {"steps": []}}})
    assert codes(body) == ["VALIDATION_FAILED"]
    assert "exactly one" in str(body["errors"][0]["extensions"]["problems"])
    assert (await operator.data(LIST))["schedules"] == []


async def test_rest_schedules(api: Api) -> None:
    def headers(who: str) -> dict[str, str]:
        return {"X-API-Key": api.keys[who]}

    body = {
        "name": "ALV",
        "cron": "0 8 1 * *",
        "timezone": "Europe/Helsinki",
        "template_id": "vat_report",
        "variables": MONTHLY["variables"],
    }
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        refused = await http.post(
            f"{BASE}/schedules", json=body, headers=headers("viewer")
        )
        assert refused.status_code == 403
        bad = await http.post(
            f"{BASE}/schedules",
            json={
                **body,
                "cron": "every day",
                "extra": 1,
                # What made a schedule is the product's to say, not the client's.
                "origin": {"copilot": {"command": "Tee ALV-laskelma"}},
            },
            headers=headers("operator"),
        )
        assert bad.status_code == 422
        paths = {p["path"] for p in bad.json()["error"]["problems"]}
        assert paths == {"extra", "origin"}
        bad = await http.post(
            f"{BASE}/schedules",
            json={**body, "cron": "every day"},
            headers=headers("operator"),
        )
        assert bad.status_code == 422
        assert "input.cron" in {p["path"] for p in bad.json()["error"]["problems"]}
        made = await http.post(
            f"{BASE}/schedules", json=body, headers=headers("operator")
        )
        assert made.status_code == 201, made.text
        schedule = made.json()
        assert schedule["enabled"] is True and schedule["next_run_at"]
        assert schedule["command"] is None
        one = f"{BASE}/schedules/{schedule['id']}"
        listed = await http.get(f"{BASE}/schedules", headers=headers("viewer"))
        assert [s["id"] for s in listed.json()["schedules"]] == [schedule["id"]]
        assert (await http.get(one, headers=headers("other"))).status_code == 404
        assert (await http.delete(one, headers=headers("other"))).status_code == 404
        paused = await http.post(f"{one}/pause", headers=headers("operator"))
        assert paused.status_code == 200 and paused.json()["enabled"] is False
        resumed = await http.post(f"{one}/resume", headers=headers("operator"))
        assert resumed.json()["next_run_at"] == schedule["next_run_at"]
        assert (await http.delete(one, headers=headers("viewer"))).status_code == 403
        assert (await http.delete(one, headers=headers("operator"))).status_code == 204
        assert (await http.get(one, headers=headers("operator"))).status_code == 404
