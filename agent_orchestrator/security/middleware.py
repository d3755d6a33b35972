"""The HTTP gate in front of the API: request ids, the body size cap, and the API key.

Pure ASGI (no BaseHTTPMiddleware) so that it adds nothing to streaming responses.
WebSockets pass through: they authenticate at `connection_init`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.auth import Principal
from ..core.enums import Role
from ..core.errors import RateLimited, Unauthenticated
from ..core.ids import DEFAULT_TENANT
from .ratelimit import AuthFailures, FailureReport

log = logging.getLogger("agent_orchestrator.security")
MAX_BODY_BYTES = 256 * 1024

Authenticate = Callable[[str | None], Awaitable[Principal]]
OnFailure = Callable[[Scope, Unauthenticated, FailureReport], Awaitable[None]]
Limit = Callable[[Principal], Awaitable[None]]


class ApiGate:
    """Authenticates every non-public HTTP request and caps request bodies.

    Args:
        app: The wrapped application.
        services: Returns the object with `.api_keys` (made in the lifespan).
        public: Whether a request needs no key (health, static files, the IDE page).
        keys_enabled: False only in local development (``AGENT_API_KEY_ENABLED``).
        on_failure: Records failed authentications (audit), when `failures` reports
            them.
        limit: Raises `RateLimited` when the caller is over its rate.
        failures: Failed authentications per client address: over their limit, an
            address is answered 429 before its key is looked at.
        body_limits: Path prefixes with their own body caps (uploads).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticate: Callable[[], Authenticate],
        public: Callable[[Scope], bool],
        keys_enabled: bool = True,
        on_failure: Callable[[], OnFailure | None] = lambda: None,
        limit: Callable[[], Limit | None] = lambda: None,
        failures: Callable[[], AuthFailures | None] = lambda: None,
        body_limits: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.authenticate = authenticate
        self.public = public
        self.keys_enabled = keys_enabled
        self.on_failure = on_failure
        self.limit = limit
        self.failures = failures
        self.body_limits = body_limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = _headers(scope)
        state = scope.setdefault("state", {})
        request_id = given.request_id or os.urandom(16).hex()
        state["request_id"] = request_id
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            await _json(
                send,
                400,
                _body(
                    scope,
                    "VALIDATION_FAILED",
                    "the address must not contain NUL characters",
                ),
            )
            return
        cap = self._cap(scope["path"])
        length = given.content_length
        if length is not None and length.isdigit() and int(length) > cap:
            await _json(send, 413, _body(scope, "PAYLOAD_TOO_LARGE", self._over(cap)))
            return
        if not self.public(scope):
            failures = self.failures() if self.keys_enabled else None
            address = client_address(scope)
            try:
                if failures is not None and (refusal := failures.refused(address)):
                    raise refusal
                principal = await self._principal(given.api_key)
                limiter = self.limit()
                if limiter is not None:
                    await limiter(principal)
            except Unauthenticated as exc:
                report = (
                    failures.failed(address, exc.tenant_id)
                    if failures is not None
                    else None
                )
                failure = self.on_failure()
                if failure is not None and report is not None:
                    await failure(scope, exc, report)
                await _json(send, 401, _body(scope, "UNAUTHENTICATED", str(exc)))
                return
            except RateLimited as exc:
                retry = max(1, round(exc.retry_after_s + 0.499))
                await _json(
                    send,
                    429,
                    _body(scope, "RATE_LIMITED", str(exc), retryAfter=retry),
                    extra_headers=[(b"retry-after", str(retry).encode())],
                )
                return
            state["principal"] = principal
        started = False
        stamp = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [*message.get("headers", ()), stamp]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, _capped(receive, cap), send_with_id)
        except _BodyTooLarge:
            if started:
                raise
            await _json(send, 413, _body(scope, "PAYLOAD_TOO_LARGE", self._over(cap)))

    def _over(self, cap: int) -> str:
        size = f"{cap / 2**20:.0f} MiB" if cap >= 2**20 else f"{cap // 1024} KiB"
        hint = (
            "send a smaller file (scan at 300 dpi, compress the image or split the PDF)"
            if cap != MAX_BODY_BYTES
            else "send a smaller request"
        )
        return f"the request body is over the {size} limit ({cap} bytes); {hint}"

    def _cap(self, path: str) -> int:
        for prefix, cap in self.body_limits.items():
            if path.startswith(prefix):
                return cap
        return MAX_BODY_BYTES

    async def _principal(self, key: str | None) -> Principal:
        if not self.keys_enabled:
            return Principal(DEFAULT_TENANT, Role.ADMIN)
        return await self.authenticate()(key)


def client_address(scope: Scope) -> str:
    """The client's address as the server saw it ("-" when unknown)."""
    client = scope.get("client")
    return str(client[0]) if client else "-"


class _BodyTooLarge(Exception):
    pass


class _Given(NamedTuple):
    request_id: str | None
    content_length: str | None
    api_key: str | None


def _headers(scope: Scope) -> _Given:
    """The request headers the gate reads (the first of each), in one pass: ASGI names
    are lower case; values are latin-1, as Starlette decodes them."""
    request_id = length = key = None
    for name, value in scope["headers"]:
        if name == b"x-api-key" and key is None:
            key = value.decode("latin-1")
        elif name == b"content-length" and length is None:
            length = value.decode("latin-1")
        elif name == b"x-request-id" and request_id is None:
            request_id = value.decode("latin-1")[:64]
    return _Given(request_id or None, length, key)


def _capped(receive: Receive, cap: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > cap:
                raise _BodyTooLarge(f"request body over {cap} bytes")
        return message

    return wrapped


def _body(scope: Scope, code: str, message: str, **extra: Any) -> dict[str, Any]:
    if scope["path"].startswith("/graphql"):
        return {
            "data": None,
            "errors": [{"message": message, "extensions": {"code": code, **extra}}],
        }
    return {"error": {"code": code, "message": message, **extra}}


async def _json(
    send: Send,
    status: int,
    body: dict[str, Any],
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(extra_headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
