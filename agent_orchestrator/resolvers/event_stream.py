"""`executionEvents` over graphql-transport-ws: each event is made into its `next`
payload once per selection, and the execution's feed (`engine.hub`) sends it straight
to every subscriber's socket.

Why not Strawberry's own subscription path (the resolver yields, Strawberry executes
the selection and sends, for every subscriber and event): `bench/api.py --subscribers
500` (500 clients of one run on a 2-core machine; three runs of each, in turn) measured
p50 208-501 ms and p99 658-1 208 ms that way, the server spending 2.3-2.4 s of CPU on
the run's 9 000 live messages; sent from the feed as here, p50 20-41 ms and p99 42-135
ms, with 0.35-0.41 s of CPU (completions included). The goal is p99 under 100 ms.

Everything else is Strawberry's, through its public API: parsing, validation and the
limits, the resolver's rights checks, its errors, `complete`. Before Strawberry sees an
operation, `EventStreamHandler.handle_subscribe` admits it: the socket's key must still
be usable (else the socket is closed with 4403), the operation counts against the key's
rate limit like an HTTP request (else an `error` with ``RATE_LIMITED`` for that id; the
socket stays open), and the socket may hold at most ``AGENT_WS_MAX_OPERATIONS`` in
flight. Each payload is made by
`Schema.execute` on the subscription document with the event as root value (what a
subscription does per event). The one private hook is `EventStreamHandler.run_operation`
(an override of Strawberry's graphql-transport-ws handler): it tells the resolver which
operation it serves (id, document, variables), so that the resolver can hand the hub
a `deliver` that writes `next` messages on the Starlette WebSocket itself.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.types.graphql import OperationType

from ..core.errors import RateLimited, Unauthenticated
from ..core.protocols import ExecutionEvent as Event
from ..engine.hub import Deliver
from ..schema.context import Context, Info
from ..schema.feeds import EventPayloads
from ..schema.types.execution import ExecutionEvent
from ..security.sockets import KEY_DIED, TOO_MANY
from .errors import error_extensions

if TYPE_CHECKING:
    from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
        ConnectionInitMessage,
        SubscribeMessage,
    )


@dataclass(frozen=True)
class Subscriber:
    """The graphql-transport-ws operation a subscription resolver serves."""

    operation_id: str
    query: str
    variables: dict[str, object] | None
    operation_name: str | None

    @property
    def selection(self) -> str:
        """What decides a payload besides the event: the document and its inputs."""
        variables = json.dumps(self.variables, sort_keys=True, default=str)
        return f"{self.operation_name}\x00{variables}\x00{self.query}"


_serving: ContextVar[Subscriber | None] = ContextVar("serving", default=None)


class EventStreamHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws as Strawberry runs it; each operation is admitted first and
    its task knows its `Subscriber` (see the module)."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        """As Strawberry's, with one more refusal: a key over its number of open
        sockets (raised by the view's `on_ws_connect`) is closed with 4429."""
        try:
            await super().handle_connection_init(message)
        except RateLimited as exc:
            await self.websocket.close(code=TOO_MANY, reason=_reason(exc))

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """Admit the operation (see the module), then run it as Strawberry does."""
        if self.connection_acknowledged:
            try:
                # The key first (a dead one closes the socket), then the socket's
                # cap, then the rate: a refused operation costs no rate budget.
                self.context.services.api_keys.ensure_current(self.context.principal)
                cap = self.context.services.settings.agent_ws_max_operations
                if len(self.operations) >= cap:
                    raise RateLimited(
                        f"this WebSocket already runs {len(self.operations)} "
                        "operations (AGENT_WS_MAX_OPERATIONS); wait for one to "
                        "complete, or complete a subscription",
                        retry_after_s=1.0,
                    )
                await self.context.admit()
            except Unauthenticated as exc:
                await self.websocket.close(code=KEY_DIED, reason=_reason(exc))
                return
            except RateLimited as exc:
                if message["id"] not in self.operations:
                    await self.send_message(_refusal(message["id"], exc))
                    return
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        """As Strawberry's, and the socket no longer counts for its key."""
        try:
            await super().shutdown()
        finally:
            self.context.services.sockets.release(self.context.socket)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        token = _serving.set(
            Subscriber(
                operation.id,
                operation.query,
                operation.variables,
                operation.operation_name,
            )
        )
        try:
            await super().run_operation(operation)
        finally:
            _serving.reset(token)


def _reason(exc: Exception) -> str:
    """A close reason: at most 123 bytes (RFC 6455, 5.5)."""
    return str(exc).encode()[:123].decode(errors="ignore")


def _refusal(operation_id: str, exc: RateLimited) -> Any:
    """The graphql-transport-ws `error` message refusing one operation."""
    return {
        "id": operation_id,
        "type": "error",
        "payload": [{"message": str(exc), "extensions": error_extensions(exc)}],
    }


def socket_delivery(info: Info) -> Deliver:
    """A `deliver` for the hub that sends each event as a `next` message of the
    operation `info` belongs to.

    Raises:
        RuntimeError: Not inside a graphql-transport-ws operation (the only transport
            this server offers subscriptions on).
    """
    subscriber = _serving.get()
    socket = info.context.request
    if subscriber is None or not isinstance(socket, WebSocket):
        raise RuntimeError("executionEvents is served over graphql-transport-ws only")
    payloads: EventPayloads = info.context.event_payloads
    schema = info.schema
    context = info.context
    selection = subscriber.selection
    head = '{"id":' + json.dumps(subscriber.operation_id) + ',"type":"next","payload":'

    async def make(event: Event) -> str:
        result = await schema.execute(
            subscriber.query,
            variable_values=subscriber.variables,
            context_value=context,
            root_value=ExecutionEvent.of(event),
            operation_name=subscriber.operation_name,
            allowed_operation_types=(OperationType.SUBSCRIPTION,),
        )
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
        if result.extensions:
            payload["extensions"] = result.extensions
        return json.dumps(payload, separators=(",", ":"))

    async def deliver(event: Event) -> None:
        payload = await payloads.get(event, selection, make)
        await socket.send_text(head + payload + "}")

    return deliver
