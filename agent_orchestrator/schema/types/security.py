"""API keys and audit records as GraphQL types."""

from __future__ import annotations

import datetime as dt

import strawberry

from ...core.auth import ApiKeyRecord
from ...core.records import AuditRecord
from ..enums import Role
from ..scalars import JSON


@strawberry.type
class ApiKey:
    """An API key's metadata (never the key)."""

    id: strawberry.ID
    name: str
    role: Role
    tenant_id: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @classmethod
    def of(cls, record: ApiKeyRecord) -> ApiKey:
        """The GraphQL view of a key."""
        return cls(
            id=strawberry.ID(record.id),
            name=record.name,
            role=record.role,
            tenant_id=record.tenant_id,
            prefix=record.prefix,
            created_at=record.created_at,
            expires_at=record.expires_at,
            last_used_at=record.last_used_at,
            revoked_at=record.revoked_at,
        )


@strawberry.type(description="Who the request's API key is (`viewer`).")
class Viewer:
    """The caller as its key makes it: pages use it to offer only what it may do."""

    key_id: strawberry.ID | None = strawberry.field(
        description="The key's id (what `Approval.requestedBy` names); null when API "
        "keys are switched off."
    )
    name: str | None = strawberry.field(description="The key's name.")
    role: Role = strawberry.field(
        description="The role rights are checked against (ADMIN when RBAC is off)."
    )
    tenant_id: str


@strawberry.type
class CreatedApiKey:
    """A new key: `key` is shown this once and never again."""

    key: str
    api_key: ApiKey


@strawberry.type
class AuditLog:
    """One audit record."""

    id: strawberry.ID
    action: str
    user_id: str | None
    resource_type: str | None
    resource_id: str | None
    details: JSON
    ip_address: str | None
    result: str
    request_id: str | None
    created_at: dt.datetime

    @classmethod
    def of(cls, record: AuditRecord) -> AuditLog:
        """The GraphQL view of an audit record."""
        entry = record.entry
        return cls(
            id=strawberry.ID(record.id),
            action=entry.action,
            user_id=entry.user_id,
            resource_type=entry.resource_type,
            resource_id=entry.resource_id,
            details=JSON(dict(entry.details)),
            ip_address=entry.ip_address,
            result=entry.result,
            request_id=entry.request_id,
            created_at=record.created_at,
        )


@strawberry.input
class AuditLogFilter:
    """Which audit records to list."""

    action: str | None = None
    user_id: str | None = None
    resource_type: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
