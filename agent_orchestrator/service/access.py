"""Rights and the audit trail, as every use case applies them: one permission check
against the one table (`security.permissions`), one audit entry per action, and one
entry per refusal however many checks the refusal passes through: ``denied`` for a
missing right or object (and a command the copilot refuses), ``failed`` for input
the use case could not take (invalid, or in conflict with an earlier request)."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol

from ..core.errors import (
    AgentOrchestratorError,
    Conflict,
    Forbidden,
    NotFound,
    PlanningFailed,
    ValidationFailed,
)
from ..core.records import AuditEntry
from ..security.permissions import Permission, effective_role, require

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping
    from contextlib import AbstractAsyncContextManager

    from ..core.enums import Role
    from .caller import Caller

log = logging.getLogger("agent_orchestrator.audit")
# Set on an error once its refusal has its audit entry, so that a refusal crossing
# several guards (a use case calling another) is recorded once.
_RECORDED = "_agent_orchestrator_audited"
# The errors that answer a request (not an incident): each is worth an entry.
_REFUSALS = (Forbidden, NotFound, PlanningFailed, ValidationFailed, Conflict)


class AuditWriter(Protocol):
    """Where audit entries go (the store's audit table)."""

    async def record(self, entry: AuditEntry) -> None:
        """Store one entry in its own transaction."""
        ...


class Access:
    """Checks rights and makes the audit entries of the use cases.

    Args:
        audit: Where entries that are not part of a change's transaction go.
        rbac: ``AGENT_RBAC_ENABLED``: with False every caller may do everything.
        audit_enabled: ``AGENT_AUDIT_ENABLED``: with False no entry is made.
    """

    def __init__(
        self, audit: AuditWriter, *, rbac: bool = True, audit_enabled: bool = True
    ) -> None:
        self.audit = audit
        self.rbac = rbac
        self.audit_enabled = audit_enabled

    def role(self, caller: Caller) -> Role:
        """The role graphs are validated against (ADMIN when RBAC is off)."""
        return effective_role(caller.principal, rbac=self.rbac)

    def entry(
        self,
        caller: Caller,
        action: str,
        *,
        resource_type: str | None = None,
        resource_id: str | None = None,
        details: Mapping[str, Any] | None = None,
        result: str = "success",
    ) -> AuditEntry | None:
        """The audit entry of `caller` doing `action` (None when auditing is off).

        Use cases hand it to the store so that it is written in the same transaction
        as the change it records.
        """
        if not self.audit_enabled:
            return None
        return AuditEntry(
            tenant_id=caller.tenant_id,
            action=action,
            user_id=caller.actor,
            resource_type=resource_type,
            resource_id=resource_id,
            details={**(details or {}), "via": caller.via.value},
            ip_address=caller.ip_address,
            result=result,
            request_id=caller.request_id,
        )

    async def record(self, entry: AuditEntry | None) -> None:
        """Store an entry on its own (nothing when None)."""
        if entry is not None:
            await self.audit.record(entry)

    async def require(
        self,
        caller: Caller,
        permission: Permission,
        action: str,
        *,
        resource_type: str | None = None,
        resource_id: str | None = None,
    ) -> None:
        """Refuse a caller whose role lacks `permission`, with a ``denied`` entry.

        Raises:
            Forbidden: Naming the role needed.
        """
        try:
            require(caller.principal, permission, rbac=self.rbac)
        except Forbidden as exc:
            await self.refused(
                caller,
                action,
                exc,
                resource_type=resource_type,
                resource_id=resource_id,
            )
            raise

    def owned(
        self,
        caller: Caller,
        action: str,
        resource_type: str,
        resource_id: str | None,
    ) -> AbstractAsyncContextManager[None]:
        """Around a lookup of one of the tenant's objects by id: `NotFound` (an
        unknown id or another tenant's, which are told apart for nobody) is a refusal
        and gets its ``denied`` entry before it propagates."""
        return self._recording(caller, action, resource_type, resource_id, (NotFound,))

    def reading(
        self, caller: Caller, resource_type: str, resource_id: str
    ) -> AbstractAsyncContextManager[None]:
        """Around a read of one of the tenant's objects by id (``<type>.read``)."""
        return self.guarded(
            caller, Permission.READ, f"{resource_type}.read", resource_type, resource_id
        )

    @asynccontextmanager
    async def guarded(
        self,
        caller: Caller,
        permission: Permission,
        action: str,
        resource_type: str,
        resource_id: str,
    ) -> AsyncIterator[None]:
        """Around a use case on one of the tenant's objects by id: a caller without
        `permission` is refused (`require`), and an unknown id or another tenant's
        is a refusal too (`owned`); both get their ``denied`` entry."""
        await self.require(
            caller,
            permission,
            action,
            resource_type=resource_type,
            resource_id=resource_id,
        )
        async with self.owned(caller, action, resource_type, resource_id):
            yield

    def attempt(
        self,
        caller: Caller,
        action: str,
        resource_type: str,
        resource_id: str | None = None,
    ) -> AbstractAsyncContextManager[None]:
        """Around the body of a use case that changes something: a refusal no guard
        inside has recorded (invalid input, a conflicting idempotency key, an
        unknown template) gets its entry before it propagates."""
        return self._recording(caller, action, resource_type, resource_id, _REFUSALS)

    @asynccontextmanager
    async def _recording(
        self,
        caller: Caller,
        action: str,
        resource_type: str,
        resource_id: str | None,
        errors: tuple[type[AgentOrchestratorError], ...],
    ) -> AsyncIterator[None]:
        """Record `errors` raised in the block as refusals of `action`, then let them
        propagate."""
        try:
            yield
        except errors as exc:
            await self.refused(
                caller,
                action,
                exc,
                resource_type=resource_type,
                resource_id=resource_id,
            )
            raise

    async def refused(
        self,
        caller: Caller,
        action: str,
        error: AgentOrchestratorError,
        *,
        resource_type: str | None = None,
        resource_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Record that `action` was refused with `error` (once per error):
        ``failed`` for input the use case could not take, else ``denied``.

        A failure to store the entry is logged and does not hide the refusal.
        """
        if getattr(error, _RECORDED, False):
            return
        setattr(error, _RECORDED, True)
        failed = isinstance(error, ValidationFailed | Conflict)
        entry = self.entry(
            caller,
            action,
            resource_type=resource_type,
            resource_id=resource_id,
            details={**(details or {}), "reason": str(error)},
            result="failed" if failed else "denied",
        )
        try:
            await self.record(entry)
        except Exception:
            log.warning("could not record a refused %s", action, exc_info=True)
