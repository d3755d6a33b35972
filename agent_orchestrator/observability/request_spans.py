"""The span of each HTTP request (`TraceRequests`), named by its route or by the
GraphQL operation it carries (`name_graphql_operation`); see `observability.spans`."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from .spans import REQUEST_ID, TENANT_ID, Tracing

if TYPE_CHECKING:
    from collections.abc import Sequence

    from opentelemetry.util.types import AttributeValue
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["TraceRequests", "name_graphql_operation"]


@dataclass
class _Request:
    """The span of the request being served, for `name_graphql_operation`."""

    tracing: Tracing
    span: Span
    name: str | None = None


_REQUEST: ContextVar[_Request | None] = ContextVar(
    "agent_orchestrator_request_span", default=None
)


class TraceRequests:
    """A server span around each HTTP request: a pure ASGI middleware, outermost, so
    that refused requests (401, 429) have spans too.

    Args:
        app: The wrapped application.
        tracing: The process's spans.
    """

    def __init__(self, app: ASGIApp, tracing: Tracing) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracing = self.tracing
        method: str = scope["method"]
        span = tracing.tracer.start_span(
            method,
            context=tracing.incoming(scope["headers"]),
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": method,
                "url.path": tracing.clean(scope["path"]),
                "url.scheme": scope.get("scheme", "http"),
            },
        )
        request = _Request(tracing, span)
        status: int | None = None

        async def send_traced(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        token = otel_context.attach(trace.set_span_in_context(span))
        request_token = _REQUEST.set(request)
        try:
            await self.app(scope, receive, send_traced)
        except Exception as exc:
            tracing.record_error(span, exc)
            # Starlette's outermost middleware answers it with a 500.
            status = status or 500
            raise
        finally:
            _REQUEST.reset(request_token)
            otel_context.detach(token)
            _finish(request, scope, method, status)


def _finish(request: _Request, scope: Scope, method: str, status: int | None) -> None:
    span = request.span
    route = getattr(scope.get("route"), "path", None)
    if isinstance(route, str):
        span.set_attribute("http.route", route)
    span.update_name(request.name or (f"{method} {route}" if route else method))
    if status is not None:
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
    state = scope.get("state") or {}
    request_id = state.get("request_id")
    if isinstance(request_id, str):
        span.set_attribute(REQUEST_ID, request_id)
    tenant_id = getattr(state.get("principal"), "tenant_id", None)
    if isinstance(tenant_id, str):
        span.set_attribute(TENANT_ID, tenant_id)
    span.end()


def name_graphql_operation(kind: str, name: str | None, fields: Sequence[str]) -> None:
    """Name the current HTTP request's span after the GraphQL operation it carries:
    ``<kind> <name>``, or ``<kind> <root fields>`` for an operation without a name
    (nothing outside a traced request, e.g. on a WebSocket)."""
    request = _REQUEST.get()
    if request is None:
        return
    tracing = request.tracing
    attributes: dict[str, AttributeValue] = {"graphql.operation.type": kind}
    if name:
        label = attributes["graphql.operation.name"] = tracing.clean(name)[:100]
    else:
        label = ",".join(fields[:3]) + (",..." if len(fields) > 3 else "")
    request.span.set_attributes(attributes)
    request.name = f"{kind} {label}".rstrip()
