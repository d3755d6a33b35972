"""One audit entry per action through GraphQL and REST, and one ``denied`` entry per
refusal (a role too low, another tenant's id): counted by the request id the client
sends, on a real server (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import text

from agent_orchestrator.store.database import create_database

if TYPE_CHECKING:
    from tests.api.conftest import Api

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
BASE = "/api/v1/agent-orchestrator"
WAIT = {"steps": [{"id": "w", "agent": "wait_agent", "inputs": {"seconds": 30}}]}
ECHO = {"steps": [{"id": "a", "agent": "echo_agent", "inputs": {"value": 1}}]}
OCTOBER = {"referenceDate": "2026-11-24"}


class Client:
    """Sends each request with a fresh X-Request-Id and finds its audit rows."""

    def __init__(self, api: Api) -> None:
        self.api = api

    async def send(
        self, who: str, method: str, path: str, **kwargs: Any
    ) -> tuple[httpx.Response, str]:
        request_id = uuid.uuid4().hex
        headers = {"X-API-Key": self.api.keys[who], "X-Request-Id": request_id}
        async with httpx.AsyncClient(base_url=self.api.url, timeout=60) as http:
            response = await http.request(method, path, headers=headers, **kwargs)
        return response, request_id

    async def graphql(
        self, who: str, query: str, variables: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], str]:
        response, request_id = await self.send(
            who, "POST", "/graphql", json={"query": query, "variables": variables}
        )
        body: dict[str, Any] = response.json()
        return body, request_id

    async def entry(self, request_id: str) -> dict[str, Any]:
        """The one audit row of a request."""
        async with create_database(self.api.database_url) as db, db.read() as conn:
            rows = (
                (
                    await conn.execute(
                        text(
                            "select tenant_id, action, resource_id, result, details "
                            "from agent_audit_logs where request_id = :id"
                        ),
                        {"id": request_id},
                    )
                )
                .mappings()
                .all()
            )
        assert len(rows) == 1, rows
        row = dict(rows[0])
        if isinstance(row["details"], str):
            row["details"] = json.loads(row["details"])
        return row


async def test_graphql_mutations_and_refusals(api: Api) -> None:
    client = Client(api)
    body, rid = await client.graphql(
        "admin",
        "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }",
        {"g": WAIT},
    )
    execution_id = body["data"]["executeWorkflow"]["id"]
    entry = await client.entry(rid)
    assert (entry["action"], entry["resource_id"]) == ("execution.start", execution_id)
    assert entry["details"]["via"] == "graphql"

    body, rid = await client.graphql(
        "other",
        "mutation($id: ID!) { cancelExecution(id: $id) { id } }",
        {"id": execution_id},
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    entry = await client.entry(rid)
    assert entry["result"] == "denied" and entry["tenant_id"] == "globex"
    assert (entry["action"], entry["resource_id"]) == ("execution.cancel", execution_id)

    body, rid = await client.graphql(
        "admin",
        "mutation($id: ID!) { cancelExecution(id: $id) { id } }",
        {"id": execution_id},
    )
    assert not body.get("errors"), body
    entry = await client.entry(rid)
    assert (entry["action"], entry["result"]) == ("execution.cancel", "success")

    body, rid = await client.graphql(
        "viewer",
        "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }",
        {"g": ECHO},
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    entry = await client.entry(rid)
    assert (entry["action"], entry["result"]) == ("execution.start", "denied")
    assert "OPERATOR" in entry["details"]["reason"]

    body, rid = await client.graphql(
        "operator",
        'mutation($g: JSON!) { saveWorkflow(input: {name: "a", graph: $g}) { id } }',
        {"g": ECHO},
    )
    workflow_id = body["data"]["saveWorkflow"]["id"]
    assert (await client.entry(rid))["action"] == "workflow.save"
    body, rid = await client.graphql(
        "admin", "mutation($id: ID!) { deleteWorkflow(id: $id) }", {"id": workflow_id}
    )
    assert (await client.entry(rid))["action"] == "workflow.delete"

    for dry_run, action in ((True, "copilot.plan"), (False, "copilot.execute")):
        body, rid = await client.graphql(
            "operator",
            "mutation($c: String!, $x: CopilotContextInput, $d: Boolean) { "
            "copilotExecute(command: $c, context: $x, dryRun: $d) "
            "{ plan { planner } } }",
            {"c": "Tee ALV-laskelma viime kuulta", "x": OCTOBER, "d": dry_run},
        )
        assert not body.get("errors"), body
        assert (await client.entry(rid))["action"] == action

    body, rid = await client.graphql(
        "admin",
        'mutation { createApiKey(name: "k", role: VIEWER) { apiKey { id } } }',
    )
    key_id = body["data"]["createApiKey"]["apiKey"]["id"]
    entry = await client.entry(rid)
    assert (entry["action"], entry["resource_id"]) == ("api_key.create", key_id)
    body, rid = await client.graphql(
        "admin",
        'mutation { createApiKey(name: "k", role: VIEWER, tenantId: "globex") '
        "{ apiKey { id } } }",
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    entry = await client.entry(rid)
    assert (entry["action"], entry["result"]) == ("api_key.create", "denied")
    body, rid = await client.graphql(
        "admin", "mutation($id: ID!) { revokeApiKey(id: $id) { id } }", {"id": key_id}
    )
    assert (await client.entry(rid))["action"] == "api_key.revoke"


async def test_rest_actions_and_refusals(api: Api) -> None:
    client = Client(api)
    response, rid = await client.send(
        "operator",
        "POST",
        f"{BASE}/workflows/execute",
        json={
            "template_id": "vat_report",
            "initial_variables": {
                "period_start": "2026-10-01",
                "period_end": "2026-10-31",
            },
        },
    )
    assert response.status_code == 202, response.text
    execution_id = response.json()["execution_id"]
    entry = await client.entry(rid)
    assert (entry["action"], entry["resource_id"]) == ("execution.start", execution_id)
    assert entry["details"]["via"] == "rest"

    response, rid = await client.send(
        "other", "GET", f"{BASE}/workflows/{execution_id}/status"
    )
    assert response.status_code == 404
    entry = await client.entry(rid)
    assert (entry["action"], entry["result"]) == ("execution.read", "denied")
    assert entry["tenant_id"] == "globex"

    response, rid = await client.send(
        "viewer", "POST", f"{BASE}/workflows/execute", content=b"not even JSON"
    )
    assert response.status_code == 403, "refused before the body is read"
    entry = await client.entry(rid)
    assert (entry["action"], entry["result"]) == ("execution.start", "denied")

    response, rid = await client.send(
        "operator",
        "POST",
        f"{BASE}/copilot/execute",
        json={
            "command": "Tee ALV-laskelma viime kuulta",
            "context": {"reference_date": "2026-11-24"},
            "dry_run": True,
        },
    )
    assert response.status_code == 200, response.text
    assert (await client.entry(rid))["action"] == "copilot.plan"

    response, rid = await client.send(
        "operator",
        "POST",
        f"{BASE}/files",
        files={"file": ("kuitti.txt", b"K-Market 12,40", "text/plain")},
    )
    assert response.status_code == 201, response.text
    entry = await client.entry(rid)
    assert (entry["action"], entry["resource_id"]) == (
        "file.upload",
        response.json()["file"],
    )

    response, rid = await client.send(
        "viewer",
        "POST",
        f"{BASE}/files",
        files={"file": ("kuitti.txt", b"K-Market 12,40", "text/plain")},
    )
    assert response.status_code == 403
    entry = await client.entry(rid)
    assert (entry["action"], entry["result"]) == ("file.upload", "denied")


async def test_failures_and_replays_leave_one_entry_each(api: Api) -> None:
    client = Client(api)
    start = (
        "mutation($g: JSON!, $k: String) { executeWorkflow(input: "
        "{graph: $g, idempotencyKey: $k}) { id } }"
    )
    broken = {"steps": [{"id": "a", "agent": "no_such_agent"}]}
    body, rid = await client.graphql("operator", start, {"g": broken})
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    entry = await client.entry(rid)
    assert (entry["action"], entry["result"]) == ("execution.start", "failed")
    assert "no_such_agent" in entry["details"]["reason"]

    key = uuid.uuid4().hex
    body, rid = await client.graphql("operator", start, {"g": ECHO, "k": key})
    execution_id = body["data"]["executeWorkflow"]["id"]
    assert (await client.entry(rid))["result"] == "success"
    body, rid = await client.graphql("operator", start, {"g": ECHO, "k": key})
    assert body["data"]["executeWorkflow"]["id"] == execution_id
    entry = await client.entry(rid)
    assert (entry["action"], entry["result"], entry["resource_id"]) == (
        "execution.start",
        "replayed",
        execution_id,
    )
    assert entry["details"]["idempotency_key"] == key
    body, rid = await client.graphql("operator", start, {"g": WAIT, "k": key})
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    entry = await client.entry(rid)
    assert (entry["action"], entry["result"]) == ("execution.start", "failed")

    body, rid = await client.graphql(
        "operator",
        'mutation($g: JSON!) { saveWorkflow(input: {name: "w", graph: $g}) { id } }',
        {"g": broken},
    )
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    entry = await client.entry(rid)
    assert (entry["action"], entry["result"]) == ("workflow.save", "failed")

    body, rid = await client.graphql(
        "admin",
        'mutation { createApiKey(name: "k", role: VIEWER, '
        'expiresAt: "2099-01-01T00:00:00+00:00") { key } }',
    )
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    entry = await client.entry(rid)
    assert (entry["action"], entry["result"]) == ("api_key.create", "failed")
    assert "366" in entry["details"]["reason"]

    body, rid = await client.graphql(
        "operator",
        "query($x: CopilotContextInput) { copilotPlan(command: "
        '"Tee ALV-laskelma viime kuulta", context: $x) { planner } }',
        {"x": {"timezone": "Europe", **OCTOBER}},
    )
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    entry = await client.entry(rid)
    assert (entry["action"], entry["result"]) == ("copilot.plan", "failed")
    assert "context.timezone" in entry["details"]["reason"]

    body, rid = await client.graphql(
        "operator",
        'query { copilotPlan(command: "Kirjoita runo kissoista") { planner } }',
    )
    assert body["errors"][0]["extensions"]["code"] == "PLANNING_FAILED"
    entry = await client.entry(rid)
    assert (entry["action"], entry["result"]) == ("copilot.plan", "denied")

    response, rid = await client.send(
        "operator",
        "POST",
        f"{BASE}/workflows/execute",
        json={"template_id": "vat_report", "initial_variables": {}},
    )
    assert response.status_code == 422, response.text
    entry = await client.entry(rid)
    assert (entry["action"], entry["result"]) == ("execution.start", "failed")
    assert entry["details"]["via"] == "rest"
