"""The audit log: read by a tenant's admins. Failed authentications are written under
the tenant of the presented key when it is a stored (revoked or expired) one, and
otherwise in the platform audit (tenant ``-``), which no API key can read: the command
line shows it (``agent-orchestrator audit --platform``)."""

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
#: The tenant of the platform audit: entries that belong to no tenant (failed
#: authentication with a key that is not ours). No tenant id can be "-".
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
        tenant_id: str | None = None,
        attempts: int = 1,
        path: str | None,
        transport: str | None,
        ip_address: str | None,
        request_id: str | None,
    ) -> None:
        """Record refused keys (``auth.failed``, ``denied``): `attempts` of them from
        one address, under `tenant_id` (the presented key's) or in the platform audit.
        A failure to store the entry is logged, never passed to the refused client."""
        if not self.access.audit_enabled:
            return
        try:
            await self.repository.record(
                AuditEntry(
                    tenant_id=tenant_id or NO_TENANT,
                    action="auth.failed",
                    result="denied",
                    details={
                        "reason": reason,
                        "attempts": attempts,
                        "path": path,
                        "transport": transport,
                    },
                    ip_address=ip_address,
                    request_id=request_id,
                )
            )
        except Exception:
            log.warning("could not record a failed authentication", exc_info=True)
