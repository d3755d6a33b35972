"""A WebSocket is authorised per operation, not once: a key revoked or expired after
the socket opened may do nothing more on it (the socket closes with 4403), every
operation counts against the key's rate limit, and a key's sockets and a socket's
operations in flight are capped. Real server, real `websockets` client, SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
import websockets

from agent_orchestrator.core.enums import Role
from agent_orchestrator.security.api_keys import ApiKeyService
from agent_orchestrator.store.api_keys import ApiKeyStore
from agent_orchestrator.store.database import create_database
from tests.api.conftest import make_keys
from tests.support.gql import PROTOCOL, GraphQLClient
from tests.support.server import ServerProcess

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from websockets.asyncio.client import ClientConnection

    from tests.support.databases import DatabaseFactory

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
RATE = 30
MAX_SOCKETS = 3
MAX_OPERATIONS = 4
GRAPH = {"steps": [{"id": "w", "agent": "wait_agent", "inputs": {"seconds": 0}}]}


@dataclass
class Server:
    url: str
    database_url: str
    admin: GraphQLClient

    async def key(self, role: Role = Role.ADMIN, *, expires_in_s: float = 3600) -> Key:
        """A new key of tenant acme (made in the database, not counted anywhere)."""
        async with create_database(self.database_url) as database:
            record, key = await ApiKeyService(ApiKeyStore(database)).create(
                name=f"k-{uuid.uuid4().hex[:6]}",
                role=role,
                tenant_id="acme",
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=expires_in_s),
            )
        assert record.expires_at is not None
        return Key(key, record.id, record.expires_at)


@dataclass
class Key:
    key: str
    id: str
    expires_at: dt.datetime


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp(f"sockets-{request.param}")
    url = database_factory.new(request.param, workdir)
    admin = make_keys(url, {"admin": ("admin", "acme")})["admin"]
    env = {
        "DATABASE_URL": url,
        "AGENT_FILES_DIR": str(workdir / "files"),
        # The longest recheck: what happens sooner is not the periodic recheck.
        "AGENT_KEY_RECHECK_S": "60",
        "AGENT_RATE_LIMIT": f"{RATE}/minute",
        "AGENT_WS_MAX_SOCKETS_PER_KEY": str(MAX_SOCKETS),
        "AGENT_WS_MAX_OPERATIONS": str(MAX_OPERATIONS),
        "AGENT_METRICS_INTERVAL_S": "0.2",
    }
    with ServerProcess(env, workdir / "server.log") as process:
        yield Server(process.url, url, GraphQLClient(process.url, admin))
    database_factory.drop(url)


@asynccontextmanager
async def socket(server: Server, key: str) -> AsyncIterator[ClientConnection]:
    """An acknowledged graphql-transport-ws socket."""
    async with raw_socket(server) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"X-API-Key": key}})
        )
        ack = json.loads(await ws.recv())
        assert ack["type"] == "connection_ack", ack
        yield ws


@asynccontextmanager
async def raw_socket(server: Server) -> AsyncIterator[ClientConnection]:
    """A socket before `connection_init`; its closing code is the test's to check."""
    url = server.url.replace("http://", "ws://") + "/graphql"
    ws = await websockets.connect(url, subprotocols=[PROTOCOL])
    try:
        yield ws
    finally:
        with suppress(websockets.ConnectionClosed):
            await ws.close()


async def send(ws: ClientConnection, query: str, op: str | None = None) -> str:
    """Send an operation (on a socket the server closed already, nothing is sent)."""
    op = op or uuid.uuid4().hex[:8]
    with suppress(websockets.ConnectionClosed):
        await ws.send(
            json.dumps({"id": op, "type": "subscribe", "payload": {"query": query}})
        )
    return op


async def outcome(ws: ClientConnection, op: str) -> dict[str, Any]:
    """The `next` payload, or the `error` message, of a one-result operation."""
    result: dict[str, Any] = {}
    with anyio.fail_after(20):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if message.get("id") != op:
                continue
            if message["type"] == "next":
                result = message["payload"]
            elif message["type"] == "complete":
                return result
            elif message["type"] == "error":
                return message


async def closed_with(ws: ClientConnection) -> int | None:
    """The close code the server sent (reading whatever came before it)."""
    with anyio.fail_after(20):
        try:
            while True:
                await ws.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None


async def key_names(server: Server) -> set[str]:
    data = await server.admin.data("{ apiKeys { name } }")
    return {k["name"] for k in data["apiKeys"]}


async def test_a_revoked_key_can_do_nothing_more_on_its_open_sockets(
    server: Server,
) -> None:
    key = await server.key(Role.ADMIN)
    async with socket(server, key.key) as idle, socket(server, key.key) as busy:
        answer = await outcome(busy, await send(busy, "{ apiKeys { id } }"))
        assert answer["data"]["apiKeys"], answer
        await server.admin.data(
            "mutation($id: ID!) { revokeApiKey(id: $id) { id } }", {"id": key.id}
        )
        # Sent at once on the old socket: refused, not run, and the socket closes.
        await send(
            busy, 'mutation { createApiKey(name: "minted", role: ADMIN) { key } }'
        )
        assert await closed_with(busy) == 4403
        # The idle socket is closed too, long before the 60 s recheck.
        assert await closed_with(idle) == 4403
    assert "minted" not in await key_names(server)


async def test_a_key_that_expires_can_do_nothing_more_on_its_open_socket(
    server: Server,
) -> None:
    key = await server.key(Role.ADMIN, expires_in_s=4)
    async with socket(server, key.key) as ws:
        answer = await outcome(ws, await send(ws, "{ agents { id } }"))
        assert answer["data"]["agents"], answer
        # Waiting for the clock itself: the key's expiry time.
        await anyio.sleep((key.expires_at - dt.datetime.now(dt.UTC)).total_seconds())
        await send(ws, 'mutation { createApiKey(name: "late", role: ADMIN) { key } }')
        assert await closed_with(ws) == 4403
    assert "late" not in await key_names(server)


async def test_an_expiring_key_s_idle_socket_is_closed_at_its_expiry(
    server: Server,
) -> None:
    key = await server.key(Role.VIEWER, expires_in_s=3)
    async with socket(server, key.key) as ws:
        assert await closed_with(ws) == 4403
        assert dt.datetime.now(dt.UTC) >= key.expires_at


async def test_socket_operations_count_against_the_key_s_rate_limit(
    server: Server,
) -> None:
    key = await server.key(Role.VIEWER)
    http = GraphQLClient(server.url, key.key)
    for _ in range(RATE - 10):
        assert (await http.raw("{ __typename }")).status_code == 200
    async with socket(server, key.key) as ws:
        outcomes = [
            await outcome(ws, await send(ws, "{ __typename }")) for _ in range(15)
        ]
        answered = [o for o in outcomes if o.get("data")]
        refused = [o for o in outcomes if o.get("type") == "error"]
        assert len(answered) == 10 and len(refused) == 5, outcomes
        error = refused[0]["payload"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED", error
        assert error["extensions"]["retryAfter"] > 0
        # The socket stays open.
        await ws.send(json.dumps({"type": "ping"}))
        with anyio.fail_after(10):
            assert json.loads(await ws.recv())["type"] == "pong"
    # And HTTP sees the operations the socket ran.
    refused_http = await http.raw("{ __typename }")
    assert refused_http.status_code == 429


async def test_a_key_holds_a_limited_number_of_sockets(server: Server) -> None:
    key = await server.key(Role.VIEWER)
    async with (
        socket(server, key.key),
        socket(server, key.key),
        socket(server, key.key) as third,
    ):
        async with raw_socket(server) as extra:
            await extra.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"X-API-Key": key.key}}
                )
            )
            assert await closed_with(extra) == 4429
            assert "AGENT_WS_MAX_SOCKETS_PER_KEY" in (extra.close_reason or "")
        # The sockets open still work; another key is not affected.
        answer = await outcome(third, await send(third, "{ __typename }"))
        assert answer["data"], answer
        other = await server.key(Role.VIEWER)
        async with socket(server, other.key):
            pass
    # Closed sockets stop counting (the server notices the close on its own time).
    with anyio.fail_after(20):
        while True:
            try:
                async with socket(server, key.key):
                    break
            except (AssertionError, websockets.ConnectionClosed):
                await anyio.sleep(0.1)


async def test_a_socket_holds_a_limited_number_of_operations(server: Server) -> None:
    key = await server.key(Role.VIEWER)
    subscription = "subscription { metricsUpdates { totalExecutions } }"
    async with socket(server, key.key) as ws:
        running = [await send(ws, subscription) for _ in range(MAX_OPERATIONS)]
        for op in running:  # each has started (its first update arrived)
            with anyio.fail_after(20):
                while json.loads(await ws.recv()).get("id") != op:
                    pass
        over = await outcome(ws, await send(ws, subscription))
        assert over["type"] == "error", over
        assert over["payload"][0]["extensions"]["code"] == "RATE_LIMITED", over
        assert "AGENT_WS_MAX_OPERATIONS" in over["payload"][0]["message"]
        await ws.send(json.dumps({"id": running[0], "type": "complete"}))
        with anyio.fail_after(20):
            while True:
                answer = await outcome(ws, await send(ws, "{ __typename }"))
                if answer.get("data"):
                    break


async def test_http_rate_limit_still_answers_429(server: Server) -> None:
    key = await server.key(Role.VIEWER)
    async with httpx.AsyncClient(base_url=server.url) as http:
        codes = [
            (
                await http.post(
                    "/graphql",
                    json={"query": "{ __typename }"},
                    headers={"X-API-Key": key.key},
                )
            ).status_code
            for _ in range(RATE + 1)
        ]
    assert codes.count(200) == RATE and codes[-1] == 429
