"""The Strawberry ASGI view: context per request, API key at WebSocket connect, a
GraphiQL page whose files this server serves itself, and the response media type of
GraphQL over HTTP (`media`)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.execution import ExecutionResult

from ..config import Settings
from ..core.auth import Principal
from ..core.enums import Role
from ..core.errors import Unauthenticated
from ..core.ids import DEFAULT_TENANT
from ..core.text import clean_json
from ..schema.context import Context
from ..schema.feeds import EventPayloads
from ..schema.scalars import NUL_MESSAGE, has_nul
from ..security.middleware import client_address
from ..security.ratelimit import AuthFailures
from ..service.container import Services
from .access import record_authentication_failure
from .bodies import BadBody, read_json
from .event_stream import EventStreamHandler
from .media import GRAPHQL_RESPONSE_JSON, response_media_type

INIT_TIMEOUT = dt.timedelta(seconds=10)


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
        limit: Counts an operation of a principal against its rate limit (set by the
            app's lifespan; HTTP requests are counted by the gate in front).
        failures: Failed authentications per client address (set by the app's
            lifespan); an address over their limit is closed with 4429.
        event_payloads: Each event's encoded payload per selection, made once and
            shared by its subscribers.
    """

    services: Services
    limit: Callable[[Principal], Awaitable[None]] | None = None
    failures: AuthFailures | None = None
    graphql_transport_ws_handler_class = EventStreamHandler

    def __init__(self, schema: Any, settings: Settings, ide_html: str | None) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if ide_html else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=INIT_TIMEOUT,
            max_subscriptions_per_connection=settings.agent_ws_max_operations,
            allowed_origins=settings.agent_cors_origins,
            multipart_uploads_enabled=False,
            allow_queries_via_get=settings.agent_graphql_get,
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
            limit=self.limit if isinstance(request, WebSocket) else None,
        )

    async def on_ws_connect(self, context: Context) -> Any:
        """Authenticate the `connection_init` payload's ``X-API-Key`` and count the
        socket among its key's open ones.

        Raises:
            ConnectionRejectionError: No valid key (closed with 4403).
            RateLimited: The key holds ``AGENT_WS_MAX_SOCKETS_PER_KEY`` sockets
                already, or the address failed to authenticate too often (closed
                with 4429 by the handler).
        """
        settings = self.services.settings
        if not settings.agent_api_key_enabled:
            context.principal_ = Principal(DEFAULT_TENANT, Role.ADMIN)
            return None
        params = context.connection_params or {}
        key = params.get("X-API-Key") or params.get("x-api-key")
        scope = context.request.scope
        address = client_address(scope)
        if self.failures is not None and (refusal := self.failures.refused(address)):
            raise refusal
        try:
            context.principal_ = await self.services.api_keys.authenticate(
                key if isinstance(key, str) else None
            )
        except Unauthenticated as exc:
            report = (
                self.failures.failed(address, exc.tenant_id) if self.failures else None
            )
            if report is not None:
                await record_authentication_failure(
                    self.services.audit, scope, exc, report
                )
            raise ConnectionRejectionError(
                {"message": str(exc), "code": "UNAUTHENTICATED"}
            ) from None
        socket = context.request
        assert isinstance(socket, WebSocket)
        context.socket = self.services.sockets.open(
            context.principal_, lambda code, reason: socket.close(code, reason)
        )
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
        """GET requests: the same checks as bodies."""
        value = super().parse_query_params(params)
        if has_nul(value):
            raise HTTPException(400, NUL_MESSAGE)
        return clean_json(value)

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
        return clean_json(value)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._ide_html)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        """The response's media type, chosen from ``Accept`` (`media`)."""
        sub_response = await super().get_sub_response(request)
        if response_media_type(request.headers.get("accept", "")) == (
            GRAPHQL_RESPONSE_JSON
        ):
            sub_response.media_type = GRAPHQL_RESPONSE_JSON
        return sub_response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """A request error has no ``data`` entry in ``graphql-response+json``."""
        response = process_result(result)
        if _request_error(result) and (
            response_media_type(request.headers.get("accept", ""))
            == GRAPHQL_RESPONSE_JSON
        ):
            del response["data"]
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """``graphql-response+json`` answers a request error 400 (500 if it was our
        fault), a document that ran 200; ``application/json`` answers 200."""
        response = super().create_response(response_data, sub_response)
        if sub_response.media_type != GRAPHQL_RESPONSE_JSON:
            return response
        response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
        if isinstance(response_data, dict) and "data" not in response_data:
            response.status_code = 500 if _internal(response_data) else 400
        return response


def _request_error(result: ExecutionResult) -> bool:
    """Whether nothing was executed: the document did not parse or validate, or its
    variables did not fit. Such errors have no path; an error raised by a field has
    one, even when it made ``data`` null."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


def _internal(response: GraphQLHTTPResponse) -> bool:
    return any(
        isinstance(error, dict)
        and (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR"
        for error in response.get("errors") or ()
    )
