"""The answers of a switched-off service (``AGENT_ORCHESTRATOR_ENABLED=false``): HTTP
503 with the reason, GraphQL-shaped on ``/graphql`` and ``{"error": {...}}`` elsewhere;
WebSockets are refused with the same body."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from ..service.switch import DISABLED_CODE, DISABLED_MESSAGE

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# RFC 6455 close code 1013, "Try Again Later".
_TRY_AGAIN_LATER = 1013


def disabled_body(path: str) -> dict[str, Any]:
    """What a request to `path` is told while the service is switched off."""
    if path.startswith("/graphql"):
        return {
            "data": None,
            "errors": [
                {"message": DISABLED_MESSAGE, "extensions": {"code": DISABLED_CODE}}
            ],
        }
    return {"error": {"code": DISABLED_CODE, "message": DISABLED_MESSAGE}}


async def _refuse(request: Request) -> JSONResponse:
    return JSONResponse(disabled_body(request.url.path), status_code=503)


async def _refuse_socket(websocket: WebSocket) -> None:
    # The WebSocket Denial Response extension (ASGI spec) lets the refusal carry the
    # same 503 and body as HTTP; without it, the handshake is closed with 1013.
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(
            JSONResponse(disabled_body(websocket.url.path), status_code=503)
        )
    else:
        await websocket.close(_TRY_AGAIN_LATER, DISABLED_MESSAGE[:120])


def disabled_routes() -> list[BaseRoute]:
    """Routes that refuse every path (mount them after ``/health``)."""
    return [
        Route("/{path:path}", _refuse, methods=_METHODS),
        WebSocketRoute("/{path:path}", _refuse_socket),
    ]
