"""Failed authentication is limited per client address and summed up in the audit
trail: a flood of wrong keys gets 429 after AGENT_AUTH_FAILURE_LIMIT and two audit
entries, not one each; a stored key's failures are recorded under its tenant, where
its admins read them; the others in the platform audit, which the CLI shows. Unknown,
revoked and expired keys are refused with one message. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
import websockets
from sqlalchemy import text

from agent_orchestrator.core.enums import Role
from agent_orchestrator.security.api_keys import ApiKeyService
from agent_orchestrator.security.keys import generate_key
from agent_orchestrator.store.api_keys import ApiKeyStore
from agent_orchestrator.store.database import create_database
from tests.api.conftest import make_keys
from tests.cli.process import cli
from tests.support.gql import PROTOCOL, GraphQLClient
from tests.support.server import ServerProcess

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support.databases import DatabaseFactory

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
LIMIT = 5


@dataclass
class Server:
    url: str
    database_url: str
    admin: str


@pytest.fixture(params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, database_factory: DatabaseFactory, tmp_path: Path
) -> Iterator[Server]:
    url = database_factory.new(request.param, tmp_path)
    admin = make_keys(url, {"admin": ("admin", "acme")})["admin"]
    env = {
        "DATABASE_URL": url,
        "AGENT_FILES_DIR": str(tmp_path / "files"),
        "AGENT_AUTH_FAILURE_LIMIT": f"{LIMIT}/minute",
    }
    try:
        with ServerProcess(env, tmp_path / "server.log") as process:
            yield Server(process.url, url, admin)
    finally:
        database_factory.drop(url)


async def post(http: httpx.AsyncClient, key: str | None) -> httpx.Response:
    headers = {"X-API-Key": key} if key else {}
    return await http.post(
        "/graphql", json={"query": "{ __typename }"}, headers=headers
    )


async def failed_rows(database_url: str) -> list[dict[str, Any]]:
    """The audit table's ``auth.failed`` rows, oldest first, read directly."""
    async with create_database(database_url) as db, db.read() as conn:
        found = (
            await conn.execute(
                text(
                    "select tenant_id, details, ip_address from agent_audit_logs "
                    "where action = 'auth.failed' order by created_at"
                )
            )
        ).mappings()
        rows = [dict(r) for r in found]
    for row in rows:
        if isinstance(row["details"], str):
            row["details"] = json.loads(row["details"])
    return rows


async def test_a_flood_of_wrong_keys_is_refused_and_summed_up(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        answers = [await post(http, generate_key()) for _ in range(3 * LIMIT)]
        codes = [a.status_code for a in answers]
        assert codes == [401] * LIMIT + [429] * (2 * LIMIT), codes
        refused = answers[-1]
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        # A valid key from the same address waits too: the address is refused
        # before any key is looked at.
        assert (await post(http, server.admin)).status_code == 429
    # WebSockets from that address are refused at connection_init as well.
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[PROTOCOL]) as ws:
        init = {"type": "connection_init", "payload": {"X-API-Key": generate_key()}}
        await ws.send(json.dumps(init))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            with anyio.fail_after(20):
                await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429

    rows = await failed_rows(server.database_url)
    assert [r["tenant_id"] for r in rows] == ["-", "-"], rows
    first, limited = (r["details"] for r in rows)
    assert first["attempts"] == 1 and "127.0.0.1" in first["reason"]
    assert limited["attempts"] == LIMIT
    assert f"{LIMIT} failed attempts from 127.0.0.1 in 60 s" in limited["reason"]
    assert all(r["ip_address"] == "127.0.0.1" for r in rows)

    shown = await anyio.to_thread.run_sync(
        lambda: cli(
            "audit",
            "--platform",
            "--json",
            env={"DATABASE_URL": server.database_url},
        )
    )
    assert shown.returncode == 0, shown.stderr
    entries = json.loads(shown.stdout)
    assert [e["action"] for e in entries] == ["auth.failed", "auth.failed"]
    assert entries[0]["details"]["attempts"] == LIMIT  # newest first


async def test_stored_keys_fail_alike_and_are_recorded_under_their_tenant(
    server: Server,
) -> None:
    async with create_database(server.database_url) as database:
        store = ApiKeyStore(database)
        keys = ApiKeyService(store)
        old, revoked = await keys.create(name="old", role=Role.VIEWER, tenant_id="acme")
        await store.revoke(old.id)
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        _, expired = await keys.create(
            name="short", role=Role.VIEWER, tenant_id="acme", expires_at=soon
        )
    # Waiting for the clock itself: the key's expiry time.
    await anyio.sleep((soon - dt.datetime.now(dt.UTC)).total_seconds())
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        refusals = [await post(http, k) for k in (generate_key(), revoked, expired)]
    assert [r.status_code for r in refusals] == [401, 401, 401]
    messages = {r.json()["errors"][0]["message"] for r in refusals}
    assert len(messages) == 1, messages
    assert "unknown, revoked or expired" in messages.pop()

    # The unknown key's failure is the platform's; the first of acme's keys in the
    # window is acme's, where its admins read it.
    rows = await failed_rows(server.database_url)
    assert [r["tenant_id"] for r in rows] == ["-", "acme"], rows
    admin = GraphQLClient(server.url, server.admin)
    logs = await admin.data(
        '{ auditLogs(first: 10, filter: {action: "auth.failed"}) '
        "{ edges { node { action ipAddress details } } } }"
    )
    seen = [e["node"] for e in logs["auditLogs"]["edges"]]
    assert len(seen) == 1 and seen[0]["ipAddress"] == "127.0.0.1", seen
