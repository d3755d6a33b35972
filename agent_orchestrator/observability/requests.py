"""Request ids on log lines: a pure ASGI middleware, placed inside the API gate (which
makes the id), that binds the request id and the caller's tenant to every line logged
while the request is served."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.logcontext import log_fields

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["RequestLogFields"]


class RequestLogFields:
    """Adds ``request_id`` (and ``tenant_id`` once the caller is known) to the log
    fields of a request's task (`core.logcontext`).

    Args:
        app: The wrapped application.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        state = scope.get("state") or {}
        fields: dict[str, object] = {}
        request_id = state.get("request_id")
        if request_id:
            fields["request_id"] = request_id
        tenant_id = getattr(state.get("principal"), "tenant_id", None)
        if tenant_id:
            fields["tenant_id"] = tenant_id
        with log_fields(**fields):
            await self.app(scope, receive, send)
