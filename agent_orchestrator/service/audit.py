"""The audit log: read by a tenant's admins; failed authentications are written here
too (they have no tenant yet)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..core.records import AuditEntry
from ..security.permissions import Permission

if TYPE_CHECKING:
    import datetime as dt

    from ..core.records import AuditRecord, Page
    from .access import Access
    from .caller import Caller
    from .stores import AuditRepository

log = logging.getLogger("agent_orchestrator.audit")
#: The tenant of entries made before any tenant is known (failed authentication).
NO_TENANT = "-"


class AuditLog:
    """The audit-log use cases.

    Args:
        access: Rights and the audit trail.
        repository: The stored audit records.
    """

    def __init__(self, access: Access, repository: AuditRepository) -> None:
        self.access = access
        self.repository = repository

    async def page(
        self,
        caller: Caller,
        *,
        first: int = 20,
        after: str | None = None,
        action: str | None = None,
        user_id: str | None = None,
        resource_type: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> Page[AuditRecord]:
        """The tenant's records, newest first, filtered (admins).

        Raises:
            Forbidden: The caller may not read the audit log.
        """
        await self.access.require(
            caller, Permission.READ_AUDIT, "audit.read", resource_type="audit_log"
        )
        return await self.repository.list(
            caller.tenant_id,
            first=first,
            after=after,
            action=action,
            user_id=user_id,
            resource_type=resource_type,
            since=since,
            until=until,
        )

    async def authentication_failed(
        self,
        reason: str,
        *,
        path: str | None,
        transport: str | None,
        ip_address: str | None,
        request_id: str | None,
    ) -> None:
        """Record a refused API key (``auth.failed``, ``denied``). A failure to store
        the entry is logged, never passed to the refused client."""
        if not self.access.audit_enabled:
            return
        try:
            await self.repository.record(
                AuditEntry(
                    tenant_id=NO_TENANT,
                    action="auth.failed",
                    result="denied",
                    details={"reason": reason, "path": path, "transport": transport},
                    ip_address=ip_address,
                    request_id=request_id,
                )
            )
        except Exception:
            log.warning("could not record a failed authentication", exc_info=True)
