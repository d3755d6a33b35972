"""Every query, mutation, subscription and REST route against every kind of caller: no
key, a malformed, wrong, expired or revoked key, each role, and another tenant's admin.
Each cell's outcome is asserted."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
import websockets

from agent_orchestrator.core.enums import Role
from agent_orchestrator.core.ids import utcnow
from agent_orchestrator.security.keys import display_prefix, generate_key, hash_key
from agent_orchestrator.store.api_keys import ApiKeyStore
from agent_orchestrator.store.database import create_database
from tests.support.gql import PROTOCOL

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.api.conftest import Api

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

OK, UNAUTH, FORBID, MISSING = "OK", "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND"
CALLERS = [
    "none",
    "malformed",
    "wrong",
    "expired",
    "revoked",
    "viewer",
    "operator",
    "admin",
    "other",
]
LEVEL = {"viewer": 0, "operator": 1, "admin": 2, "other": 2}


@dataclass
class Op:
    name: str
    kind: str  # query | mutation | subscription | rest
    needs: str  # viewer | operator | admin
    owned: bool  # touches a resource of tenant "acme"
    run: Any  # builds the request from the fixtures


def expected(op: Op, caller: str) -> str:
    if caller not in LEVEL:
        return UNAUTH
    if LEVEL[caller] < LEVEL[op.needs]:
        return FORBID
    if caller == "other" and op.owned:
        return MISSING
    return OK


@pytest.fixture(scope="module")
def callers(api: Api) -> dict[str, str | None]:
    async def setup() -> dict[str, str | None]:
        async with create_database(api.database_url) as db:
            store = ApiKeyStore(db)
            keys: dict[str, str | None] = {}
            for name, expires, revoke in (("expired", -1, False), ("revoked", 5, True)):
                key = generate_key()
                record = await store.create(
                    tenant_id="acme",
                    name=name,
                    role=Role.ADMIN,
                    key_hash=hash_key(key),
                    prefix=display_prefix(key),
                    expires_at=utcnow() + dt.timedelta(days=expires),
                )
                if revoke:
                    await store.revoke(record.id)
                keys[name] = key
        return keys

    made = anyio.run(setup)
    return {
        "none": None,
        "malformed": "ao_not-a-key",
        "wrong": generate_key(),
        **made,
        **{k: api.keys[k] for k in ("viewer", "operator", "admin", "other")},
    }


@pytest.fixture(scope="module")
def ids(api: Api) -> Iterator[dict[str, str]]:
    """Resources of tenant acme that the operations touch."""
    headers = {"X-API-Key": api.keys["admin"]}
    graph = {"steps": [{"id": "w", "agent": "wait_agent", "inputs": {"seconds": 600}}]}
    with httpx.Client(base_url=api.url, headers=headers, timeout=30) as http:

        def gql(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            body = http.post(
                "/graphql", json={"query": query, "variables": variables or {}}
            ).json()
            assert not body.get("errors"), body
            data: dict[str, Any] = body["data"]
            return data

        execution = gql(
            "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }",
            {"g": graph},
        )
        workflow = gql(
            "mutation($g: JSON!) { "
            'saveWorkflow(input: {name: "w", graph: $g}) { id } }',
            {"g": graph},
        )
        made = gql(
            'mutation { createApiKey(name: "victim", role: VIEWER) { apiKey { id } } }'
        )
        report = gql(
            "mutation($v: JSON) { executeWorkflow(input: {templateId: "
            '"financial_report", initialVariables: $v}) { id } }',
            {"v": {"period_start": "2026-10-01", "period_end": "2026-10-31"}},
        )
        schedule = gql(
            "mutation($g: JSON!) { createSchedule(input: "
            '{name: "s", cron: "0 8 1 * *", graph: $g}) { id } }',
            {"g": GRAPH},
        )
        yield {
            "schedule": schedule["createSchedule"]["id"],
            "execution": execution["executeWorkflow"]["id"],
            "workflow": workflow["saveWorkflow"]["id"],
            "key": made["createApiKey"]["apiKey"]["id"],
            "artifact": finished(gql, report["executeWorkflow"]["id"])["artifact_id"],
        }
        gql(
            "mutation($id: ID!) { cancelExecution(id: $id) { id } }",
            {"id": execution["executeWorkflow"]["id"]},
        )


def finished(gql: Any, execution_id: str) -> dict[str, Any]:
    """The result of an execution, once it has succeeded."""
    deadline = time.monotonic() + 60
    query = "query($id: ID!) { execution(id: $id) { status errorMessage result } }"
    while True:
        found = gql(query, {"id": execution_id})["execution"]
        if found["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            assert found["status"] == "SUCCEEDED", found
            return dict(found["result"])
        assert time.monotonic() < deadline, found
        time.sleep(0.1)


COMMAND = "Tee ALV-laskelma viime kuulta"
GRAPH = {"steps": [{"id": "e", "agent": "echo_agent", "inputs": {"text": "hei"}}]}


def gql_op(
    name: str, kind: str, needs: str, owned: bool, query: str, variables: Any = None
) -> Op:
    return Op(name, kind, needs, owned, (query, variables or (lambda ids: {})))


OPS = [
    gql_op("agents", "query", "viewer", False, "{ agents { id } }"),
    gql_op("agent", "query", "viewer", False, '{ agent(id: "wait_agent") { id } }'),
    gql_op("templates", "query", "viewer", False, "{ templates { id } }"),
    gql_op(
        "workflows", "query", "viewer", False, "{ workflows { edges { node { id } } } }"
    ),
    gql_op(
        "workflow",
        "query",
        "viewer",
        True,
        "query($id: ID!) { workflow(id: $id) { id } }",
        lambda ids: {"id": ids["workflow"]},
    ),
    gql_op(
        "execution",
        "query",
        "viewer",
        True,
        "query($id: ID!) { execution(id: $id) { id } }",
        lambda ids: {"id": ids["execution"]},
    ),
    gql_op(
        "executions",
        "query",
        "viewer",
        False,
        "{ executions { edges { node { id } } } }",
    ),
    gql_op("metrics", "query", "viewer", False, "{ metrics { totalExecutions } }"),
    gql_op(
        "metricsSeries",
        "query",
        "viewer",
        False,
        '{ metricsSeries(window: "1h") { window queued } }',
    ),
    gql_op(
        "artifact",
        "query",
        "viewer",
        True,
        "query($id: ID!) { artifact(id: $id) { id size } }",
        lambda ids: {"id": ids["artifact"]},
    ),
    gql_op(
        "auditLogs", "query", "admin", False, "{ auditLogs { edges { node { id } } } }"
    ),
    gql_op("apiKeys", "query", "admin", False, "{ apiKeys { id } }"),
    gql_op(
        "executeWorkflow",
        "mutation",
        "operator",
        False,
        "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }",
        lambda ids: {"g": GRAPH},
    ),
    gql_op(
        "cancelExecution",
        "mutation",
        "operator",
        True,
        "mutation($id: ID!) { cancelExecution(id: $id) { id } }",
        lambda ids: {"id": ids["execution"]},
    ),
    gql_op(
        "saveWorkflow",
        "mutation",
        "operator",
        False,
        'mutation($g: JSON!) { saveWorkflow(input: {name: "m", graph: $g}) { id } }',
        lambda ids: {"g": GRAPH},
    ),
    gql_op(
        "deleteWorkflow",
        "mutation",
        "admin",
        True,
        "mutation($id: ID!) { deleteWorkflow(id: $id) }",
        lambda ids: {"id": ids["workflow"] + "-missing"},
    ),
    gql_op(
        "createApiKey",
        "mutation",
        "admin",
        False,
        'mutation { createApiKey(name: "x", role: VIEWER) { key } }',
    ),
    gql_op(
        "revokeApiKey",
        "mutation",
        "admin",
        True,
        "mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
        lambda ids: {"id": ids["key"]},
    ),
    gql_op(
        "executionEvents",
        "subscription",
        "viewer",
        True,
        "subscription($id: ID!) { executionEvents(executionId: $id) { seq } }",
        lambda ids: {"id": ids["execution"]},
    ),
    gql_op(
        "metricsUpdates",
        "subscription",
        "viewer",
        False,
        "subscription { metricsUpdates { totalExecutions } }",
    ),
    gql_op(
        "copilotPlan",
        "query",
        "operator",
        False,
        "query($c: String!) { copilotPlan(command: $c) { templateId } }",
        lambda ids: {"c": COMMAND},
    ),
    gql_op(
        "copilotExecute",
        "mutation",
        "operator",
        False,
        "mutation($c: String!) { copilotExecute(command: $c, dryRun: true) "
        "{ plan { templateId } } }",
        lambda ids: {"c": COMMAND},
    ),
    gql_op("schedules", "query", "viewer", False, "{ schedules { id } }"),
    gql_op(
        "schedule",
        "query",
        "viewer",
        True,
        "query($id: ID!) { schedule(id: $id) { id } }",
        lambda ids: {"id": ids["schedule"]},
    ),
    gql_op(
        "createSchedule",
        "mutation",
        "operator",
        False,
        "mutation($g: JSON!) { createSchedule(input: "
        '{name: "m", cron: "0 8 1 * *", graph: $g}) { id } }',
        lambda ids: {"g": GRAPH},
    ),
    *(
        gql_op(
            name,
            "mutation",
            "operator",
            True,
            f"mutation($id: ID!) {{ {name}(id: $id) {{ id }} }}",
            lambda ids: {"id": ids["schedule"]},
        )
        for name in ("pauseSchedule", "resumeSchedule")
    ),
    gql_op(
        "deleteSchedule",
        "mutation",
        "operator",
        True,
        "mutation($id: ID!) { deleteSchedule(id: $id) }",
        lambda ids: {"id": ids["schedule"] + "-missing"},
    ),
]
BASE = "/api/v1/agent-orchestrator"
SCHEDULE_BODY = {"name": "r", "cron": "0 8 1 * *", "graph": GRAPH}
REST = [
    Op("GET agents", "rest", "viewer", False, ("GET", f"{BASE}/agents", None)),
    Op(
        "GET agent", "rest", "viewer", False, ("GET", f"{BASE}/agents/wait_agent", None)
    ),
    Op(
        "GET agent health",
        "rest",
        "viewer",
        False,
        ("GET", f"{BASE}/agents/wait_agent/health", None),
    ),
    Op(
        "POST execute",
        "rest",
        "operator",
        False,
        ("POST", f"{BASE}/workflows/execute", {"template_id": "missing-template"}),
    ),
    Op(
        "GET status",
        "rest",
        "viewer",
        True,
        ("GET", f"{BASE}/workflows/{{execution}}/status", None),
    ),
    Op(
        "GET result",
        "rest",
        "viewer",
        True,
        ("GET", f"{BASE}/workflows/{{execution}}/result", None),
    ),
    Op("GET metrics", "rest", "viewer", False, ("GET", f"{BASE}/metrics", None)),
    # Allowed callers get 415 here (no multipart body): past the key and role checks.
    Op("POST files", "rest", "operator", False, ("POST", f"{BASE}/files", None)),
    Op(
        "GET artifact",
        "rest",
        "viewer",
        True,
        ("GET", f"{BASE}/artifacts/{{artifact}}", None),
    ),
    Op(
        "POST copilot execute",
        "rest",
        "operator",
        False,
        ("POST", f"{BASE}/copilot/execute", {"command": COMMAND, "dry_run": True}),
    ),
    Op("GET schedules", "rest", "viewer", False, ("GET", f"{BASE}/schedules", None)),
    Op(
        "POST schedules",
        "rest",
        "operator",
        False,
        ("POST", f"{BASE}/schedules", SCHEDULE_BODY),
    ),
    Op(
        "GET schedule",
        "rest",
        "viewer",
        True,
        ("GET", f"{BASE}/schedules/{{schedule}}", None),
    ),
    Op(
        "POST schedule pause",
        "rest",
        "operator",
        True,
        ("POST", f"{BASE}/schedules/{{schedule}}/pause", None),
    ),
    Op(
        "POST schedule resume",
        "rest",
        "operator",
        True,
        ("POST", f"{BASE}/schedules/{{schedule}}/resume", None),
    ),
    Op(
        "DELETE schedule",
        "rest",
        "operator",
        True,
        ("DELETE", f"{BASE}/schedules/{{schedule}}-missing", None),
    ),
]
REST_STATUS = {401: UNAUTH, 403: FORBID, 404: MISSING}


async def outcome_gql(api: Api, key: str | None, op: Op, ids: dict[str, str]) -> str:
    query, variables = op.run
    headers = {"X-API-Key": key} if key else {}
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables(ids)},
            headers=headers,
        )
    body = response.json()
    if response.status_code == 401:
        assert body["errors"][0]["extensions"]["code"] == UNAUTH
        return UNAUTH
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    return OK


async def outcome_ws(api: Api, key: str | None, op: Op, ids: dict[str, str]) -> str:
    query, variables = op.run
    url = api.url.replace("http://", "ws://") + "/graphql"
    try:
        async with websockets.connect(url, subprotocols=[PROTOCOL]) as ws:
            await ws.send(
                json.dumps(
                    {
                        "type": "connection_init",
                        "payload": {"X-API-Key": key} if key else {},
                    }
                )
            )
            ack = json.loads(await ws.recv())
            assert ack["type"] == "connection_ack"
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": query, "variables": variables(ids)},
                    }
                )
            )
            with anyio.fail_after(10):
                message = json.loads(await ws.recv())
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd is not None and closed.rcvd.code == 4403
        return UNAUTH
    if message["type"] == "error":
        return str(message["payload"][0]["extensions"]["code"])
    if message["type"] == "next" and message["payload"].get("errors"):
        return str(message["payload"]["errors"][0]["extensions"]["code"])
    assert message["type"] == "next", message
    return OK


async def outcome_rest(api: Api, key: str | None, op: Op, ids: dict[str, str]) -> str:
    method, path, body = op.run
    headers = {"X-API-Key": key} if key else {}
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        response = await http.request(
            method, path.format(**ids), json=body, headers=headers
        )
    if response.status_code in REST_STATUS:
        return REST_STATUS[response.status_code]
    assert response.status_code < 500, response.text
    return OK


@pytest.mark.parametrize("op", [*OPS, *REST], ids=lambda op: op.name)
async def test_every_caller(
    api: Api, callers: dict[str, str | None], ids: dict[str, str], op: Op
) -> None:
    got = {}
    for caller in CALLERS:
        if op.kind == "subscription":
            got[caller] = await outcome_ws(api, callers[caller], op, ids)
        elif op.kind == "rest":
            got[caller] = await outcome_rest(api, callers[caller], op, ids)
        else:
            got[caller] = await outcome_gql(api, callers[caller], op, ids)
    want = {caller: expected(op, caller) for caller in CALLERS}
    if op.name == "POST execute":  # an unknown template is a 404 for whoever may run
        want = {c: (MISSING if w == OK else w) for c, w in want.items()}
    if op.name in ("deleteWorkflow", "deleteSchedule", "DELETE schedule"):
        # The id does not exist, for anyone allowed.
        want = {c: (MISSING if w == OK else w) for c, w in want.items()}
    assert got == want
