"""The GraphQL API on a real server process (SQLite and PostgreSQL): every query and
mutation, errors with codes and problems, roles and tenants."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest

from tests.support.gql import GraphQLClient

if TYPE_CHECKING:
    from .conftest import Api

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

EXECUTE = """
mutation($input: ExecuteWorkflowInput!) {
  executeWorkflow(input: $input) {
    id status templateId workflowId steps { stepId status }
  }
}"""
EXECUTION = """
query($id: ID!) {
  execution(id: $id) {
    id status startedAt completedAt durationMs errorMessage variables result
    steps {
      stepId agentId status attempts startedAt completedAt durationMs error output
    }
    events { seq type stepId }
  }
}"""

WAIT_GRAPH = {
    "variables": {"s": {"type": "number", "default": 0.05}},
    "steps": [
        {"id": "first", "agent": "wait_agent", "inputs": {"seconds": "${vars.s}"}},
        {
            "id": "second",
            "agent": "echo_agent",
            "inputs": {"text": "after ${steps.first.waited_s}"},
        },
    ],
    "outputs": {"text": "${steps.second.text}"},
}


async def wait_final(
    client: GraphQLClient, execution_id: str, timeout: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        data = await client.data(EXECUTION, {"id": execution_id})
        execution: dict[str, Any] = data["execution"]
        if execution["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return execution
        assert time.monotonic() < deadline, data
        await anyio.sleep(0.05)


async def test_agents_and_agent_queries(api: Api) -> None:
    client = api.client("viewer")
    data = await client.data(
        "{ agents { id name descriptionFi minRole inputSchema outputSchema } }"
    )
    by_id = {a["id"]: a for a in data["agents"]}
    assert (
        by_id["wait_agent"]["inputSchema"]["properties"]["seconds"]["type"] == "number"
    )
    assert by_id["admin_only_agent"]["minRole"] == "ADMIN"
    one = await client.data(
        '{ agent(id: "wait_agent") { id health { ok detail } '
        'description(language: "en") } }'
    )
    assert (
        one["agent"]["health"]["ok"] is True and "Waits" in one["agent"]["description"]
    )
    missing = await client('{ agent(id: "nope") { id } }')
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    templates = await client.data("{ templates { id name graph variables } }")
    assert isinstance(templates["templates"], list)


async def test_execute_returns_at_once_and_runs_to_the_end(api: Api) -> None:
    client = api.client("operator")
    started = await client.data(
        EXECUTE, {"input": {"graph": WAIT_GRAPH, "initialVariables": {"s": 0.3}}}
    )
    run = started["executeWorkflow"]
    assert run["status"] in ("PENDING", "RUNNING") and run["templateId"] is None
    final = await wait_final(client, run["id"])
    assert final["status"] == "SUCCEEDED"
    assert final["result"] == {
        "text": "after " + str(final["steps"][0]["output"]["waited_s"])
    }
    assert [s["status"] for s in final["steps"]] == ["SUCCEEDED", "SUCCEEDED"]
    assert [e["seq"] for e in final["events"]] == list(
        range(1, len(final["events"]) + 1)
    )
    assert final["variables"] == {"s": 0.3} and final["durationMs"] >= 300


async def test_idempotency_key_returns_the_same_execution(api: Api) -> None:
    client = api.client("operator")
    body = {"input": {"graph": WAIT_GRAPH, "idempotencyKey": "order-42"}}
    first = await client.data(EXECUTE, body)
    again = await client.data(EXECUTE, body)
    assert first["executeWorkflow"]["id"] == again["executeWorkflow"]["id"]
    clash = await client(
        EXECUTE,
        {
            "input": {
                "graph": WAIT_GRAPH,
                "idempotencyKey": "order-42",
                "initialVariables": {"s": 0.01},
            }
        },
    )
    assert clash["errors"][0]["extensions"]["code"] == "CONFLICT"


async def test_validation_errors_list_every_problem(api: Api) -> None:
    client = api.client("operator")
    graph = {
        "steps": [
            {"id": "a", "agent": "ghost_agent"},
            {"id": "a", "agent": "wait_agent", "inputs": {"seconds": "${steps.zzz.x}"}},
            {"id": "b", "agent": "echo_agent", "depends_on": ["c"]},
            {"id": "c", "agent": "echo_agent", "depends_on": ["b"]},
        ]
    }
    body = await client(EXECUTE, {"input": {"graph": graph}})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    problems = {(p["path"], p["code"]) for p in error["extensions"]["problems"]}
    assert problems == {
        ("steps[0].agent", "unknown_agent"),
        ("steps[1].id", "duplicate_step"),
        ("steps[1].inputs.seconds", "unknown_step"),
        ("steps[2]", "cycle"),
    }
    cycle = next(p for p in error["extensions"]["problems"] if p["code"] == "cycle")
    assert "'b'" in cycle["message"] and "'c'" in cycle["message"]
    missing = await client(EXECUTE, {"input": {"templateId": "nope"}})
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    both = await client(EXECUTE, {"input": {"templateId": "x", "graph": WAIT_GRAPH}})
    assert both["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"


async def test_executions_connection_filters_and_pages(api: Api) -> None:
    client = api.client("operator")
    ids = []
    for _ in range(3):
        ids.append(
            (await client.data(EXECUTE, {"input": {"graph": WAIT_GRAPH}}))[
                "executeWorkflow"
            ]["id"]
        )
    for execution_id in ids:
        await wait_final(client, execution_id)
    query = """query($after: String, $filter: ExecutionFilter) {
      executions(first: 2, after: $after, filter: $filter) {
        edges { cursor node { id status steps { stepId status } } }
        pageInfo { hasNextPage hasPreviousPage endCursor }
      }
    }"""
    seen: list[str] = []
    after = None
    while True:
        page = (
            await client.data(
                query, {"after": after, "filter": {"status": ["SUCCEEDED"]}}
            )
        )["executions"]
        seen += [e["node"]["id"] for e in page["edges"]]
        assert all(e["node"]["status"] == "SUCCEEDED" for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert set(ids) <= set(seen) and len(seen) == len(set(seen))
    none = await client.data(
        query, {"filter": {"templateId": "vat_report", "status": ["FAILED"]}}
    )
    assert none["executions"]["edges"] == []
    too_many = await client("{ executions(first: 101) { edges { cursor } } }")
    assert too_many["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    bad_cursor = await client('{ executions(after: "garbage") { edges { cursor } } }')
    assert bad_cursor["errors"][0]["extensions"]["problems"][0]["code"] == "bad_cursor"


async def test_cancel_execution(api: Api) -> None:
    client = api.client("operator")
    graph = {
        "steps": [{"id": "long", "agent": "wait_agent", "inputs": {"seconds": 60}}]
    }
    run = (await client.data(EXECUTE, {"input": {"graph": graph}}))["executeWorkflow"]
    deadline = time.monotonic() + 10
    while (await client.data(EXECUTION, {"id": run["id"]}))["execution"]["steps"][0][
        "status"
    ] != "RUNNING":
        assert time.monotonic() < deadline
        await anyio.sleep(0.05)
    await client.data(
        "mutation($id: ID!) { cancelExecution(id: $id) { id } }", {"id": run["id"]}
    )
    final = await wait_final(client, run["id"], timeout=5)
    assert final["status"] == "CANCELLED" and final["steps"][0]["status"] == "CANCELLED"


async def test_saved_workflows_are_versioned(api: Api) -> None:
    client = api.client("operator")
    save = """mutation($input: SaveWorkflowInput!) {
      saveWorkflow(input: $input) { id name version graph } }"""
    v1 = (await client.data(save, {"input": {"name": "odotus", "graph": WAIT_GRAPH}}))[
        "saveWorkflow"
    ]
    changed = {**WAIT_GRAPH, "variables": {"s": {"type": "number", "default": 0.01}}}
    v2 = (
        await client.data(
            save, {"input": {"id": v1["id"], "name": "odotus 2", "graph": changed}}
        )
    )["saveWorkflow"]
    assert (v1["version"], v2["version"], v2["id"]) == (1, 2, v1["id"])
    old = await client.data(
        "query($id: ID!) { workflow(id: $id, version: 1) { version name graph } }",
        {"id": v1["id"]},
    )
    assert (
        old["workflow"]["name"] == "odotus"
        and old["workflow"]["graph"]["variables"]["s"]["default"] == 0.05
    )
    versions = await client.data(
        "query($id: ID!) { workflow(id: $id) { versions { version name } } }",
        {"id": v1["id"]},
    )
    assert [v["version"] for v in versions["workflow"]["versions"]] == [1, 2]
    listed = await client.data(
        "{ workflows(first: 10) { edges { node { id version } } } }"
    )
    assert {"id": v1["id"], "version": 2} in [
        e["node"] for e in listed["workflows"]["edges"]
    ]
    run = (await client.data(EXECUTE, {"input": {"workflowId": v1["id"]}}))[
        "executeWorkflow"
    ]
    assert run["workflowId"] == v1["id"]
    assert (await wait_final(client, run["id"]))["status"] == "SUCCEEDED"
    invalid = await client(
        save,
        {"input": {"name": "bad", "graph": {"steps": [{"id": "x", "agent": "nope"}]}}},
    )
    assert invalid["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    delete = "mutation($id: ID!) { deleteWorkflow(id: $id) }"
    forbidden = await client(delete, {"id": v1["id"]})
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await api.client("admin").data(delete, {"id": v1["id"]}))[
        "deleteWorkflow"
    ] is True
    gone = await client(
        "query($id: ID!) { workflow(id: $id) { id } }", {"id": v1["id"]}
    )
    assert gone["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_roles_and_tenants(api: Api) -> None:
    viewer, operator, other = (
        api.client("viewer"),
        api.client("operator"),
        api.client("other"),
    )
    denied = await viewer(EXECUTE, {"input": {"graph": WAIT_GRAPH}})
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    run = (await operator.data(EXECUTE, {"input": {"graph": WAIT_GRAPH}}))[
        "executeWorkflow"
    ]
    hidden = await other(EXECUTION, {"id": run["id"]})
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    cancel = await other(
        "mutation($id: ID!) { cancelExecution(id: $id) { id } }", {"id": run["id"]}
    )
    assert cancel["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    mine = await other.data("{ executions(first: 100) { edges { node { id } } } }")
    assert run["id"] not in [e["node"]["id"] for e in mine["executions"]["edges"]]
    admin_agent = {"steps": [{"id": "a", "agent": "admin_only_agent"}]}
    refused = await operator(EXECUTE, {"input": {"graph": admin_agent}})
    assert (
        refused["errors"][0]["extensions"]["problems"][0]["code"] == "forbidden_agent"
    )
    assert (await api.client("admin").data(EXECUTE, {"input": {"graph": admin_agent}}))[
        "executeWorkflow"
    ]["id"]
    nobody = await GraphQLClient(api.url, None).raw("{ agents { id } }")
    assert nobody.status_code == 401
    assert nobody.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    wrong = await GraphQLClient(api.url, "ao_" + "x" * 36).raw("{ agents { id } }")
    assert wrong.status_code == 401


async def test_metrics_query(api: Api) -> None:
    client = api.client("operator")
    run = (await client.data(EXECUTE, {"input": {"graph": WAIT_GRAPH}}))[
        "executeWorkflow"
    ]
    await wait_final(client, run["id"])
    data = await client.data(
        """{ metrics(hoursBack: 24) {
          hoursBack totalExecutions successRate avgDurationMs p95DurationMs errorRate
          agents { agentId executions successRate avgDurationMs } } }"""
    )
    metrics = data["metrics"]
    assert metrics["totalExecutions"] >= 1 and 0 <= metrics["successRate"] <= 1
    assert (
        metrics["p95DurationMs"] >= metrics["avgDurationMs"] * 0
        and metrics["errorRate"] >= 0
    )
    assert "wait_agent" in {a["agentId"] for a in metrics["agents"]}
    other = await api.client("other").data("{ metrics { totalExecutions } }")
    assert (
        other["metrics"]["totalExecutions"] < metrics["totalExecutions"]
        or other["metrics"]["totalExecutions"] == 0
    )
    bad = await client("{ metrics(hoursBack: 0) { totalExecutions } }")
    assert bad["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"


async def test_api_keys_and_audit_log(api: Api) -> None:
    admin = api.client("admin")
    created = await admin.data("""mutation { createApiKey(name: "ci", role: OPERATOR) {
        key apiKey { id name role tenantId prefix expiresAt lastUsedAt } } }""")
    key, record = created["createApiKey"]["key"], created["createApiKey"]["apiKey"]
    assert (
        record["tenantId"] == "acme"
        and key.startswith(record["prefix"])
        and record["expiresAt"]
    )
    fresh = GraphQLClient(api.url, key)
    assert (await fresh.data("{ agents { id } }"))["agents"]
    listed = await admin.data("{ apiKeys { id name lastUsedAt } }")
    assert any(k["id"] == record["id"] and k["lastUsedAt"] for k in listed["apiKeys"])
    assert (await api.client("operator")("{ apiKeys { id } }"))["errors"][0][
        "extensions"
    ]["code"] == "FORBIDDEN"
    revoked = await admin.data(
        "mutation($id: ID!) { revokeApiKey(id: $id) { id } }", {"id": record["id"]}
    )
    assert revoked["revokeApiKey"]["id"] == record["id"]
    assert (await fresh.raw("{ agents { id } }")).status_code == 401
    other_tenant = await api.client("other")(
        "mutation($id: ID!) { revokeApiKey(id: $id) { id } }", {"id": record["id"]}
    )
    assert other_tenant["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    logs = await admin.data(
        """{ auditLogs(first: 50, filter: {resourceType: "api_key"}) {
          edges { node { action userId resourceId ipAddress createdAt details } } } }"""
    )
    actions = [
        (e["node"]["action"], e["node"]["resourceId"])
        for e in logs["auditLogs"]["edges"]
    ]
    assert ("api_key.create", record["id"]) in actions and (
        "api_key.revoke",
        record["id"],
    ) in actions
    assert all(
        e["node"]["ipAddress"] == "127.0.0.1" for e in logs["auditLogs"]["edges"]
    )
    assert key not in str(logs)


async def test_lone_surrogates_in_variables_are_refused_on_every_database(
    api: Api,
) -> None:
    # A client that cut an emoji in half sends "\ud83d" alone: JSON allows the escape,
    # PostgreSQL cannot store it. The request is refused saying so, on both databases,
    # and nothing is saved.
    save = """mutation($input: SaveWorkflowInput!) {
      saveWorkflow(input: $input) { id name graph } }"""
    graph = {
        "steps": [
            {"id": "a", "agent": "echo_agent", "inputs": {"text": "kuitti \ud83d"}}
        ]
    }
    body = {
        "query": save,
        "variables": {"input": {"name": "kuitit \ud83d", "graph": graph}},
    }
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        response = await http.post(
            "/graphql",
            content=json.dumps(body),  # ensure_ascii: the surrogate as an escape
            headers={
                **api.client("operator").headers(),
                "content-type": "application/json",
            },
        )
    assert response.status_code == 400, response.text
    assert "lone surrogate" in response.text
    listed = await api.client("operator").data(
        "{ workflows(first: 100) { edges { node { name } } } }"
    )
    names = [e["node"]["name"] for e in listed["workflows"]["edges"]]
    assert not [name for name in names if name.startswith("kuitit")]
