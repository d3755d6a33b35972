"""Clients for a real server: GraphQL over HTTP (httpx) and over WebSocket
(graphql-transport-ws with the `websockets` library)."""

from __future__ import annotations

import json
import uuid
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import websockets
from websockets.typing import Subprotocol

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

PROTOCOL = Subprotocol("graphql-transport-ws")


class GraphQLClient:
    """POSTs GraphQL documents with an API key."""

    def __init__(self, base_url: str, key: str | None) -> None:
        self.base_url = base_url
        self.key = key

    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key} if self.key else {}

    async def raw(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as http:
            return await http.post(
                "/graphql",
                json={"query": query, "variables": variables or {}},
                headers=self.headers(),
            )

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The whole response body (data and errors)."""
        response = await self.raw(query, variables)
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The data, asserting there were no errors."""
        body = await self(query, variables)
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data


class Subscription:
    """One graphql-transport-ws connection."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket

    async def start(self, query: str, variables: dict[str, Any] | None = None) -> str:
        op = uuid.uuid4().hex[:8]
        await self.socket.send(
            json.dumps(
                {
                    "id": op,
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables or {}},
                }
            )
        )
        return op

    async def messages(self, op: str) -> AsyncIterator[dict[str, Any]]:
        """`next` payloads until `complete` (raises on `error`)."""
        async for raw in self.socket:
            message = json.loads(raw)
            if message.get("id") != op:
                if message["type"] == "ping":
                    await self.socket.send(json.dumps({"type": "pong"}))
                continue
            if message["type"] == "next":
                if message["payload"].get("errors"):
                    raise AssertionError(
                        f"subscription error: {message['payload']['errors']}"
                    )
                yield message["payload"]
            elif message["type"] == "complete":
                return
            elif message["type"] == "error":
                raise AssertionError(f"subscription error: {message['payload']}")


@asynccontextmanager
async def ws_connect(
    base_url: str, key: str | None, *, origin: str | None = None, init: bool = True
) -> AsyncIterator[Subscription]:
    """A connected, acknowledged WebSocket to /graphql."""
    url = base_url.replace("http://", "ws://") + "/graphql"
    headers = {"Origin": origin} if origin else None
    async with websockets.connect(
        url, subprotocols=[PROTOCOL], additional_headers=headers, max_size=2**22
    ) as socket:
        if init:
            payload = {"X-API-Key": key} if key else {}
            await socket.send(
                json.dumps({"type": "connection_init", "payload": payload})
            )
            ack = json.loads(await socket.recv())
            assert ack["type"] == "connection_ack", ack
        yield Subscription(socket)


async def follow_to_end(
    base_url: str, key: str, execution_id: str, timeout: float = 120
) -> None:
    """Follow an execution's events over a WebSocket until its stream completes (after
    the final event): the execution has ended when this returns."""
    with anyio.fail_after(timeout):
        async with ws_connect(base_url, key) as ws:
            op = await ws.start(
                "subscription($id: ID!) { executionEvents(executionId: $id, "
                "afterSeq: 0) { type } }",
                {"id": execution_id},
            )
            async for _ in ws.messages(op):
                pass
