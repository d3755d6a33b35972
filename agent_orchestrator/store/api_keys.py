"""API keys in ``agent_api_keys``: created, looked up by hash, listed, revoked."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update

from ..core.auth import ApiKeyRecord
from ..core.enums import Role
from ..core.errors import NotFound
from ..core.ids import as_utc, new_id, utcnow
from .audit import write_audit
from .models import ApiKeyRow, StoredRow, table_of

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Collection

    from ..core.records import AuditEntry
    from .database import Database

keys = table_of(ApiKeyRow)


class ApiKeyStore:
    """Repository of API keys."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def create(
        self,
        *,
        tenant_id: str,
        name: str,
        role: Role,
        key_hash: str,
        prefix: str,
        expires_at: dt.datetime | None,
        created_by: str | None = None,
        audit: AuditEntry | None = None,
    ) -> ApiKeyRecord:
        """Store a new key's hash and metadata (and `audit` in the same transaction)."""
        key_id = new_id()
        row: dict[str, Any] = {
            "id": key_id,
            "tenant_id": tenant_id,
            "name": name,
            "role": role.value,
            "key_hash": key_hash,
            "prefix": prefix,
            "created_by": created_by,
            "created_at": utcnow(),
            "expires_at": expires_at,
        }
        async with self.db.write() as conn:
            await conn.execute(insert(keys), [row])
            if audit is not None:
                await write_audit(conn, replace(audit, resource_id=key_id))
        return api_key_record(row)

    async def by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        """The key with this hash, usable or not."""
        async with self.db.read() as conn:
            row = (
                (await conn.execute(select(keys).where(keys.c.key_hash == key_hash)))
                .mappings()
                .first()
            )
        return api_key_record(row) if row else None

    async def touch(self, record: ApiKeyRecord) -> None:
        """Record use of a key now."""
        now = utcnow()
        async with self.db.write() as conn:
            await conn.execute(
                update(keys).where(keys.c.id == record.id).values(last_used_at=now)
            )

    async def get(self, key_id: str, tenant_id: str | None = None) -> ApiKeyRecord:
        """The key with this id (NotFound for another tenant's)."""
        query = select(keys).where(keys.c.id == key_id)
        if tenant_id is not None:
            query = query.where(keys.c.tenant_id == tenant_id)
        async with self.db.read() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            raise NotFound(f"API key {key_id} not found")
        return api_key_record(row)

    async def list(self, tenant_id: str) -> list[ApiKeyRecord]:
        """A tenant's keys, newest first."""
        query = (
            select(keys)
            .where(keys.c.tenant_id == tenant_id)
            .order_by(keys.c.created_at.desc())
        )
        async with self.db.read() as conn:
            return [api_key_record(r) for r in (await conn.execute(query)).mappings()]

    async def usable_ids(self, key_ids: Collection[str]) -> set[str]:
        """Which of `key_ids` are neither revoked nor expired now (one query)."""
        if not key_ids:
            return set()
        query = select(keys.c.id, keys.c.expires_at).where(
            keys.c.id.in_(list(key_ids)), keys.c.revoked_at.is_(None)
        )
        now = utcnow()
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return {
            key_id
            for key_id, expires_at in rows
            if expires_at is None or as_utc(expires_at) > now  # type: ignore[operator]
        }

    async def revoke(
        self, key_id: str, tenant_id: str | None = None, audit: AuditEntry | None = None
    ) -> ApiKeyRecord:
        """Revoke a key now (revoking twice keeps the first time).

        Raises:
            NotFound: No such key (in this tenant).
        """
        await self.get(key_id, tenant_id)
        condition = [keys.c.id == key_id, keys.c.revoked_at.is_(None)]
        if tenant_id is not None:
            condition.append(keys.c.tenant_id == tenant_id)
        async with self.db.write() as conn:
            await conn.execute(
                update(keys).where(*condition).values(revoked_at=utcnow())
            )
            await write_audit(conn, audit)
        return await self.get(key_id, tenant_id)

    async def count(self) -> int:
        """How many keys exist in all tenants."""
        async with self.db.read() as conn:
            return int(
                (
                    await conn.execute(select(func.count()).select_from(keys))
                ).scalar_one()
            )


def api_key_record(row: StoredRow) -> ApiKeyRecord:
    """An `ApiKeyRecord` from a row."""
    created = as_utc(row["created_at"])
    assert created is not None
    return ApiKeyRecord(
        id=row["id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        role=Role(row["role"]),
        prefix=row["prefix"],
        created_at=created,
        expires_at=as_utc(row.get("expires_at")),
        revoked_at=as_utc(row.get("revoked_at")),
        last_used_at=as_utc(row.get("last_used_at")),
        created_by=row.get("created_by"),
    )
