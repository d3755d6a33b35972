"""The Strawberry ASGI view: context per request, API key at WebSocket connect, and a
GraphiQL page whose files this server serves itself."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from ..config import Settings
from ..core.auth import Principal
from ..core.enums import Role
from ..core.errors import Unauthenticated
from ..core.ids import DEFAULT_TENANT
from ..schema.context import Context
from ..schema.feeds import EventPayloads
from ..schema.scalars import NUL_MESSAGE, has_nul
from ..service.container import Services
from .access import record_authentication_failure
from .bodies import BadBody, read_json
from .event_stream import EventStreamHandler

INIT_TIMEOUT = dt.timedelta(seconds=10)
MAX_SUBSCRIPTIONS = 100


def _may_hold_nul(data: str | bytes) -> bool:
    """Whether a JSON text can hold U+0000 at all. A decoded NUL, and the backslash and
    `u` of a GraphQL escape in a document, need a raw NUL or a ``\\u`` escape in the
    JSON text (``\\\\u``, ``\\u005cu``, ``\\u0000``, ...); most bodies have neither and
    need no walk through their values."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return b"\\u" in raw or b"\x00" in raw


class GraphQLView(GraphQL[Context, None]):
    """`/graphql` over HTTP and WebSocket.

    Attributes:
        services: The process's use cases (set by the app's lifespan).
        event_payloads: Each event's encoded payload per selection, made once and
            shared by its subscribers.
    """

    services: Services
    graphql_transport_ws_handler_class = EventStreamHandler

    def __init__(self, schema: Any, settings: Settings, ide_html: str | None) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if ide_html else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=INIT_TIMEOUT,
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS,
            allowed_origins=settings.agent_cors_origins,
            multipart_uploads_enabled=False,
        )
        self._ide_html = ide_html or ""
        self.event_payloads = EventPayloads()

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        # The gate's notes (`scope["state"]`, read without Starlette's State wrapper).
        state = request.scope.get("state", {})
        principal: Principal | None = state.get("principal")
        request_id = state.get("request_id") or uuid.uuid4().hex
        return Context(
            request=request,
            response=response,
            services=self.services,
            request_id=request_id,
            event_payloads=self.event_payloads,
            principal_=principal,
        )

    async def on_ws_connect(self, context: Context) -> Any:
        """Authenticate the `connection_init` payload's ``X-API-Key``."""
        settings = self.services.settings
        if not settings.agent_api_key_enabled:
            context.principal_ = Principal(DEFAULT_TENANT, Role.ADMIN)
            return None
        params = context.connection_params or {}
        key = params.get("X-API-Key") or params.get("x-api-key")
        try:
            context.principal_ = await self.services.api_keys.authenticate(
                key if isinstance(key, str) else None
            )
        except Unauthenticated as exc:
            await record_authentication_failure(
                self.services.audit, context.request.scope, str(exc)
            )
            raise ConnectionRejectionError(
                {"message": str(exc), "code": "UNAUTHENTICATED"}
            ) from None
        return None

    def parse_json(self, data: str | bytes) -> Any:
        """Request bodies (and GET variables): a JSON object, read by `read_json`,
        with no NUL in the document either (PostgreSQL cannot store it).

        Raises:
            HTTPException: 400, saying what is wrong and where.
        """
        try:
            value = read_json(data)
        except BadBody as exc:
            raise HTTPException(400, str(exc)) from None
        if not isinstance(value, dict):
            raise HTTPException(
                400,
                'the body must be a JSON object: {"query": "...", "variables": {...}}',
            )
        if _may_hold_nul(data) and has_nul(value):
            raise HTTPException(400, NUL_MESSAGE)
        return value

    def parse_query_params(self, params: Any) -> Any:
        """GET requests: the same check as bodies."""
        value = super().parse_query_params(params)
        if has_nul(value):
            raise HTTPException(400, NUL_MESSAGE)
        return value

    def decode_json(self, data: str | bytes) -> object:
        """WebSocket messages: read as bodies are, a refusal ends the connection
        as the protocol says (4400)."""
        try:
            value = read_json(data)
        except BadBody as exc:
            text = data.decode(errors="replace") if isinstance(data, bytes) else data
            raise json.JSONDecodeError(str(exc), text, 0) from None
        if has_nul(value):
            text = data.decode(errors="replace") if isinstance(data, bytes) else data
            raise json.JSONDecodeError(NUL_MESSAGE, text, 0)
        return value

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._ide_html)
