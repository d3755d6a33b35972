"""API keys and the audit log (admins)."""

from __future__ import annotations

import datetime as dt

import strawberry

from ..schema.context import Info
from ..schema.enums import Role
from ..schema.types.relay import Connection
from ..schema.types.security import (
    ApiKey,
    AuditLog,
    AuditLogFilter,
    CreatedApiKey,
    Viewer,
)


@strawberry.type
class SecurityQuery:
    """Reading keys and the audit log."""

    # Strawberry types its decorators called with arguments as returning Any (one
    # overload also serves `x: int = strawberry.field(...)`), hence these ignores.
    @strawberry.field(description="The key this request authenticated with.")  # type: ignore[untyped-decorator]
    def viewer(self, info: Info) -> Viewer:
        caller = info.context.caller
        key_id = caller.principal.key_id
        return Viewer(
            key_id=strawberry.ID(key_id) if key_id is not None else None,
            name=caller.principal.key_name,
            role=info.context.services.access.role(caller),
            tenant_id=caller.tenant_id,
        )

    @strawberry.field(description="The tenant's API keys (admins).")  # type: ignore[untyped-decorator]
    async def api_keys(self, info: Info) -> list[ApiKey]:
        keys = await info.context.services.api_keys.list(info.context.caller)
        return [ApiKey.of(k) for k in keys]

    @strawberry.field(description="The tenant's audit log, newest first (admins).")  # type: ignore[untyped-decorator]
    async def audit_logs(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        filter: AuditLogFilter | None = None,
    ) -> Connection[AuditLog]:
        f = filter or AuditLogFilter()
        page = await info.context.services.audit.page(
            info.context.caller,
            first=first,
            after=after,
            action=f.action,
            user_id=f.user_id,
            resource_type=f.resource_type,
            since=f.since,
            until=f.until,
        )
        return Connection[AuditLog].from_page(page, AuditLog.of)


@strawberry.type
class SecurityMutation:
    """Creating and revoking keys."""

    @strawberry.mutation(description="Create an API key; the key is returned only now.")  # type: ignore[untyped-decorator]
    async def create_api_key(
        self,
        info: Info,
        name: str,
        role: Role,
        tenant_id: str | None = None,
        expires_at: dt.datetime | None = None,
    ) -> CreatedApiKey:
        record, key = await info.context.services.api_keys.create(
            info.context.caller,
            name=name,
            role=role,
            tenant_id=tenant_id,
            expires_at=expires_at,
        )
        return CreatedApiKey(key=key, api_key=ApiKey.of(record))

    @strawberry.mutation(description="Revoke an API key at once.")  # type: ignore[untyped-decorator]
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> ApiKey:
        record = await info.context.services.api_keys.revoke(
            info.context.caller, str(id)
        )
        return ApiKey.of(record)
