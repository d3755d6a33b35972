"""Listing executions with their steps costs a constant number of SQL statements,
however many executions there are (DataLoaders, built per request)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import event
from starlette.applications import Starlette
from starlette.testclient import TestClient

from agent_orchestrator.app import create_app
from agent_orchestrator.config import load_settings
from agent_orchestrator.core.enums import Role
from agent_orchestrator.service.caller import Caller

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from agent_orchestrator.service.container import Services

GRAPH = {
    "steps": [
        {"id": f"s{i}", "agent": "echo_agent", "inputs": {"value": i}} for i in range(3)
    ]
}
LIST = """query($first: Int!) { executions(first: $first) {
  edges { node { id status steps { stepId status output } } } } }"""


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    settings = load_settings(
        database_url=database_url,
        agent_plugins=["tests.support.agents"],
        agent_files_dir=tmp_path,
        # The process's periodic work (the dashboard's figures, lease upkeep, the
        # schedules' and approvals' rounds) would be counted too: far apart here.
        agent_metrics_interval_s=3_600,
        agent_lease_seconds=3_600,
        agent_schedule_rescan_s=3_600,
        agent_approval_check_s=3_600,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        services = app.state.services
        portal = client.portal
        assert portal is not None  # the client has one while it is entered
        _, key = portal.call(
            lambda: services.api_keys.create(Caller.cli(), name="t", role=Role.ADMIN)
        )
        yield client, key


def test_listing_executions_with_steps_costs_constant_statements(
    client: tuple[TestClient, str],
) -> None:
    http, key = client
    headers = {"X-API-Key": key}
    mutation = "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }"
    started = []
    for _ in range(100):
        body = http.post(
            "/graphql",
            json={"query": mutation, "variables": {"g": GRAPH}},
            headers=headers,
        ).json()
        assert not body.get("errors"), body
        started.append(body["data"]["executeWorkflow"]["id"])
    app = http.app
    assert isinstance(app, Starlette)
    services: Services = app.state.services
    # The engine's own statements (claims, step writes) would be counted too while
    # the executions run: let them all end first.
    portal = http.portal
    assert portal is not None
    for execution_id in started:
        portal.call(services.executions.wait_finished, Caller.cli(), execution_id)
    statements: list[str] = []

    def count(
        conn: object,
        cursor: object,
        statement: str,
        parameters: object,
        context: object,
        executemany: bool,
    ) -> None:
        statements.append(statement)

    engines = {
        services.database.reader.sync_engine,
        services.database.writer.sync_engine,
    }
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        figures = {}
        seen: dict[int, list[str]] = {}
        for first in (1, 10, 100):
            statements.clear()
            body = http.post(
                "/graphql",
                json={"query": LIST, "variables": {"first": first}},
                headers=headers,
            ).json()
            edges = body["data"]["executions"]["edges"]
            assert len(edges) == first and all(
                len(e["node"]["steps"]) == 3 for e in edges
            )
            seen[first] = [s for s in statements if "agent_api_keys" not in s]
            figures[first] = len(seen[first])
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)
    print(f"SQL statements per listing (first=1/10/100): {figures}")
    assert figures[1] == figures[10] == figures[100] <= 3, seen
