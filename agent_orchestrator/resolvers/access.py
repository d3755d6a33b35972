"""What the resolvers share: the caller of an operation, the checks long-lived
subscriptions repeat, and the record of a refused key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ..core.auth import Principal
from ..core.errors import Unauthenticated
from ..schema.context import Context, Info
from ..security.permissions import Permission, require
from ..security.ratelimit import FailureReport
from ..service.audit import AuditLog


def allow(info: Info, permission: Permission) -> Principal:
    """The caller of a subscription, once it is known to have `permission` (queries
    and mutations leave the check to their use case).

    Raises:
        Unauthenticated: No valid key.
        Forbidden: The key's role lacks the permission.
    """
    principal = info.context.principal
    require(
        principal, permission, rbac=info.context.services.settings.agent_rbac_enabled
    )
    return principal


def key_guard(info: Info) -> Callable[[], Awaitable[None]]:
    """A check that the caller's key is still usable, for long-lived subscriptions: a
    revoked or expired key ends them (SECURITY.md: within 60 s)."""
    return key_guard_for(info.context)


def key_guard_for(context: Context) -> Callable[[], Awaitable[None]]:
    """`key_guard` for a context (the WebSocket fast path has no `Info`)."""
    principal = context.principal
    keys = context.services.api_keys

    async def check() -> None:
        if not await keys.still_usable(principal):
            raise Unauthenticated(
                "this API key was revoked or expired; the subscription ends"
            )

    return check


async def record_authentication_failure(
    audit: AuditLog,
    scope: Mapping[str, Any],
    error: Unauthenticated,
    report: FailureReport,
) -> None:
    """Record failed authentications of HTTP requests or WebSockets (their ASGI
    scope), as `report` sums them up: under the tenant of the presented key when it
    is a stored (revoked or expired) one, else in the platform audit."""
    await audit.authentication_failed(
        report.reason,
        tenant_id=error.tenant_id,
        attempts=report.attempts,
        path=scope.get("path"),
        transport=scope.get("type"),
        ip_address=report.address,
        request_id=scope.get("state", {}).get("request_id"),
    )
