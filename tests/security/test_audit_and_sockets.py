"""The audit trail holds exactly one entry per mutation (with the IP) and one per failed
authentication; WebSockets check the Origin and close subscriptions of revoked keys."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest
import websockets
from sqlalchemy import text

from agent_orchestrator.store.database import create_database
from tests.api.conftest import make_key
from tests.cli.process import cli
from tests.support.gql import PROTOCOL, GraphQLClient, ws_connect
from tests.support.server import ServerProcess

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support.databases import DatabaseFactory

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
GRAPH = {"steps": [{"id": "w", "agent": "wait_agent", "inputs": {"seconds": 30}}]}


@dataclass
class Fresh:
    url: str
    database_url: str
    key: str


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(
    request: pytest.FixtureRequest, database_factory: DatabaseFactory, tmp_path: Path
) -> Iterator[Fresh]:
    url = database_factory.new(request.param, tmp_path)
    key = make_key(url, "admin", "admin", "acme")
    env = {
        "DATABASE_URL": url,
        "AGENT_FILES_DIR": str(tmp_path),
        "AGENT_KEY_RECHECK_S": "1",
        "AGENT_CORS_ORIGINS": "https://kirjanpito.example",
    }
    try:
        with ServerProcess(env, tmp_path / "s.log") as server:
            yield Fresh(server.url, url, key)
    finally:
        database_factory.drop(url)


def revoke_api_key(database_url: str, key_id: str) -> None:
    done = cli("revoke-api-key", key_id, env={"DATABASE_URL": database_url})
    assert done.returncode == 0, done.stderr


async def audit_rows(database_url: str) -> list[dict[str, object]]:
    async with create_database(database_url) as db, db.read() as conn:
        rows = (
            (
                await conn.execute(
                    text(
                        "select action, resource_type, resource_id, ip_address, "
                        "user_id, result, tenant_id from agent_audit_logs"
                    )
                )
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


async def test_one_audit_entry_per_mutation_with_the_ip(fresh: Fresh) -> None:
    # The fixture's admin key was made with the CLI, which audits it too.
    setup = await audit_rows(fresh.database_url)
    assert [(r["action"], r["result"], r["ip_address"]) for r in setup] == [
        ("api_key.create", "success", None)
    ]
    admin = GraphQLClient(fresh.url, fresh.key)
    run = await admin.data(
        "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }",
        {"g": GRAPH},
    )
    execution_id = run["executeWorkflow"]["id"]
    await admin.data(
        "mutation($id: ID!) { cancelExecution(id: $id) { id } }", {"id": execution_id}
    )
    saved = await admin.data(
        'mutation($g: JSON!) { saveWorkflow(input: {name: "a", graph: $g}) { id } }',
        {"g": GRAPH},
    )
    workflow_id = saved["saveWorkflow"]["id"]
    await admin.data(
        "mutation($id: ID!, $g: JSON!) { "
        'saveWorkflow(input: {id: $id, name: "b", graph: $g}) { id } }',
        {"id": workflow_id, "g": GRAPH},
    )
    await admin.data(
        "mutation($id: ID!) { deleteWorkflow(id: $id) }", {"id": workflow_id}
    )
    created = await admin.data(
        'mutation { createApiKey(name: "k", role: VIEWER) { key apiKey { id } } }'
    )
    key_id = created["createApiKey"]["apiKey"]["id"]
    await admin.data(
        "mutation($id: ID!) { revokeApiKey(id: $id) { id } }", {"id": key_id}
    )
    # A failed mutation changes nothing and writes a `failed` entry, no success.
    await admin("mutation { executeWorkflow(input: {graph: {steps: []}}) { id } }")
    async with httpx.AsyncClient() as http:
        assert (
            await http.post(
                fresh.url + "/graphql",
                json={"query": "{ agents { id } }"},
                headers={"X-API-Key": "ao_" + "z" * 36},
            )
        ).status_code == 401
    rows = [r for r in await audit_rows(fresh.database_url) if r not in setup]
    counts = Counter((r["action"], r["resource_id"]) for r in rows)
    assert counts == Counter(
        {
            ("execution.start", execution_id): 1,
            ("execution.cancel", execution_id): 1,
            ("workflow.save", workflow_id): 2,
            ("workflow.delete", workflow_id): 1,
            ("api_key.create", key_id): 1,
            ("api_key.revoke", key_id): 1,
            ("auth.failed", None): 1,
            ("execution.start", None): 1,
        }
    )
    assert {(r["action"], r["result"]) for r in rows if r["resource_id"] is None} == {
        ("execution.start", "failed"),
        ("auth.failed", "denied"),
    }
    assert all(r["ip_address"] == "127.0.0.1" for r in rows)
    assert all(
        r["tenant_id"] == "acme" and r["user_id"]
        for r in rows
        if r["action"] != "auth.failed"
    )
    assert created["createApiKey"]["key"] not in json.dumps(rows)


async def test_websocket_origin_is_checked(fresh: Fresh) -> None:
    async with ws_connect(fresh.url, fresh.key, origin="https://kirjanpito.example"):
        pass
    url = fresh.url.replace("http://", "ws://") + "/graphql"
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(
            url,
            subprotocols=[PROTOCOL],
            additional_headers={"Origin": "https://evil.example"},
        ):
            pass
    assert refused.value.response.status_code == 403


async def test_revoked_key_ends_its_subscriptions(fresh: Fresh) -> None:
    admin = GraphQLClient(fresh.url, fresh.key)
    created = await admin.data(
        'mutation { createApiKey(name: "watcher", role: VIEWER) { key apiKey { id } } }'
    )
    watcher, watcher_id = (
        created["createApiKey"]["key"],
        created["createApiKey"]["apiKey"]["id"],
    )
    run = await admin.data(
        "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }",
        {"g": GRAPH},
    )
    async with ws_connect(fresh.url, watcher) as ws:
        op = await ws.start(
            "subscription($id: ID!) { executionEvents(executionId: $id) { seq } }",
            {"id": run["executeWorkflow"]["id"]},
        )
        seen = []
        with pytest.raises(websockets.ConnectionClosed) as closed:
            with anyio.fail_after(15):
                async for message in ws.messages(op):
                    seen.append(message)
                    if len(seen) == 2:
                        await admin.data(
                            "mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
                            {"id": watcher_id},
                        )
        assert len(seen) >= 2
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_a_key_revoked_by_another_process_closes_its_sockets(
    fresh: Fresh,
) -> None:
    """The command line revokes in its own process: the server learns it from the
    database within AGENT_KEY_RECHECK_S (1 s here) and closes the key's sockets."""
    watcher = make_key(fresh.database_url, "watcher", "viewer", "acme")
    async with create_database(fresh.database_url) as db, db.read() as conn:
        key_id = (
            await conn.execute(
                text("select id from agent_api_keys where name = 'watcher'")
            )
        ).scalar_one()
    with pytest.raises(websockets.ConnectionClosed) as closed:
        async with ws_connect(fresh.url, watcher) as ws:
            op = await ws.start("{ __typename }")
            async for _ in ws.messages(op):
                pass
            await anyio.to_thread.run_sync(revoke_api_key, fresh.database_url, key_id)
            with anyio.fail_after(20):
                await ws.socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
