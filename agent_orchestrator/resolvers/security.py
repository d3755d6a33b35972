"""API keys and the audit log (admins)."""

from __future__ import annotations

import datetime as dt

import strawberry

from ..schema.context import Info
from ..schema.enums import Role
from ..schema.types.relay import Connection
from ..schema.types.security import ApiKey, AuditLog, AuditLogFilter, CreatedApiKey
from ..security.permissions import Permission
from .access import allow


@strawberry.type
class SecurityQuery:
    """Reading keys and the audit log."""

    # Strawberry types its decorators called with arguments as returning Any (one
    # overload also serves `x: int = strawberry.field(...)`), hence these ignores.
    @strawberry.field(description="The tenant's API keys (admins).")  # type: ignore[untyped-decorator]
    async def api_keys(self, info: Info) -> list[ApiKey]:
        principal = allow(info, Permission.MANAGE_KEYS)
        return [
            ApiKey.of(k)
            for k in await info.context.services.api_key_store.list(principal.tenant_id)
        ]

    @strawberry.field(description="The tenant's audit log, newest first (admins).")  # type: ignore[untyped-decorator]
    async def audit_logs(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        filter: AuditLogFilter | None = None,
    ) -> Connection[AuditLog]:
        principal = allow(info, Permission.READ_AUDIT)
        f = filter or AuditLogFilter()
        page = await info.context.services.audit.list(
            principal.tenant_id,
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
        principal = allow(info, Permission.MANAGE_KEYS)
        # An admin makes keys for its own tenant; naming another one is refused as if
        # it did not exist (no existence oracle).
        tenant = principal.tenant_id
        if tenant_id is not None and tenant_id != tenant:
            from ..core.errors import NotFound

            raise NotFound(f"tenant '{tenant_id}' not found")
        record, key = await info.context.services.api_keys.create(
            name=name,
            role=role,
            tenant_id=tenant,
            expires_at=expires_at,
            expires_in_days=None if expires_at else 90,
            created_by=principal.key_id,
            audit=info.context.audit(
                "api_key.create",
                resource_type="api_key",
                details={"name": name, "role": role.value},
            ),
        )
        return CreatedApiKey(key=key, api_key=ApiKey.of(record))

    @strawberry.mutation(description="Revoke an API key at once.")  # type: ignore[untyped-decorator]
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> ApiKey:
        principal = allow(info, Permission.MANAGE_KEYS)
        services = info.context.services
        record = await services.api_key_store.revoke(
            str(id),
            principal.tenant_id,
            audit=info.context.audit(
                "api_key.revoke", resource_type="api_key", resource_id=str(id)
            ),
        )
        services.api_keys.forget(record.id)
        return ApiKey.of(record)
