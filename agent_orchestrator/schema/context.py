"""The per-request (or per-WebSocket) context resolvers receive."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from ..core.auth import Principal
from ..core.errors import Unauthenticated
from ..security.sockets import OpenSocket
from ..service.caller import Caller, Transport
from ..service.container import Services
from .loaders import Loaders

if TYPE_CHECKING:
    # Only named here: `feeds` builds on the types, which name this module's `Info`.
    from .feeds import EventPayloads  # noqa: TC004 (never evaluated: not a Strawberry type)


@dataclass
class Context:
    """What one GraphQL operation (or one WebSocket connection) knows.

    Attributes:
        request: The HTTP request or the WebSocket.
        services: The process's use cases and long-lived parts.
        request_id: Correlates logs and audit records.
        event_payloads: The process's shared GraphQL payloads of events.
        connection_params: The WebSocket `connection_init` payload.
        limit: Counts one operation of a principal against its rate limit (raises
            `RateLimited`); None when nothing limits.
        socket: The WebSocket as its key's open sockets know it.
    """

    request: Request | WebSocket
    response: Any
    services: Services
    request_id: str
    event_payloads: EventPayloads
    principal_: Principal | None = None
    connection_params: dict[str, Any] | None = field(default=None)
    limit: Callable[[Principal], Awaitable[None]] | None = None
    socket: OpenSocket | None = None
    _loaders: Loaders | None = field(default=None, repr=False)

    @property
    def loaders(self) -> Loaders:
        """This request's DataLoaders (made on first use)."""
        if self._loaders is None:
            self._loaders = Loaders(self.services.executions, lambda: self.tenant_id)
        return self._loaders

    @property
    def principal(self) -> Principal:
        """Who is calling.

        Raises:
            Unauthenticated: No key was accepted for this request.
        """
        if self.principal_ is None:
            raise Unauthenticated("missing API key; send it in the X-API-Key header")
        return self.principal_

    async def admit(self) -> None:
        """Before each operation on a WebSocket: the key must still be usable (no
        database query), and the operation counts against its rate limit.

        Raises:
            Unauthenticated: The key expired or was revoked since the socket opened.
            RateLimited: The key is over its rate.
        """
        principal = self.principal
        self.services.api_keys.ensure_current(principal)
        if self.limit is not None:
            await self.limit(principal)

    @property
    def caller(self) -> Caller:
        """The caller as the use cases take it.

        Raises:
            Unauthenticated: No key was accepted for this request.
        """
        return Caller(
            self.principal, Transport.GRAPHQL, self.ip_address, self.request_id
        )

    @property
    def tenant_id(self) -> str:
        """The caller's tenant; every query is scoped to it."""
        return self.principal.tenant_id

    @property
    def ip_address(self) -> str | None:
        """The client's address as the server saw it."""
        client = self.request.client
        return client.host if client else None


Info = StrawberryInfo[Context, None]
