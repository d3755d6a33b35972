"""Rights checks shared by the resolvers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ..core.auth import Principal
from ..core.enums import Role
from ..core.errors import NotFound, Unauthenticated
from ..core.ids import utcnow
from ..schema.context import Context, Info
from ..security.permissions import Permission, effective_role, require


def allow(info: Info, permission: Permission) -> Principal:
    """The caller, once it is known to have `permission`.

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
    store = context.services.api_key_store

    async def check() -> None:
        if principal.key_id is None:
            return
        try:
            record = await store.get(principal.key_id)
        except NotFound:
            record = None
        if record is None or not record.is_usable(utcnow()):
            raise Unauthenticated(
                "this API key was revoked or expired; the subscription ends"
            )

    return check


def agent_role(info: Info) -> Role:
    """The role graphs are validated against for this caller."""
    return effective_role(
        info.context.principal, rbac=info.context.services.settings.agent_rbac_enabled
    )
