"""The audit trail (``agent_audit_logs``): insert-only, read by admins with filters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, insert, or_, select

from ..core.ids import as_utc, new_id, utcnow
from ..core.records import AuditEntry, AuditRecord, Page
from .models import AuditLogRow, StoredRow, table_of
from .pagination import check_page_size, decode_cursor, encode_cursor

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncConnection

    from .database import Database

audit = table_of(AuditLogRow)


async def write_audit(conn: AsyncConnection, entry: AuditEntry | None) -> None:
    """Insert an entry inside the caller's transaction (nothing when None)."""
    if entry is None:
        return
    await conn.execute(
        insert(audit),
        [
            {
                "id": new_id(),
                "tenant_id": entry.tenant_id,
                "user_id": entry.user_id,
                "action": entry.action,
                "resource_type": entry.resource_type,
                "resource_id": _fit(entry.resource_id, audit.c.resource_id),
                "details": dict(entry.details),
                "ip_address": entry.ip_address,
                "result": entry.result,
                "request_id": _fit(entry.request_id, audit.c.request_id),
                "created_at": utcnow(),
            }
        ],
    )


def _fit(value: str | None, column: ColumnElement[Any]) -> str | None:
    """A value cut to its column's length: a refused request may name an id far
    longer than any we make, and its entry must not be lost to the database's
    refusal (PostgreSQL checks lengths, SQLite does not)."""
    length: int | None = getattr(column.type, "length", None)
    if value is None or length is None or len(value) <= length:
        return value
    return value[: length - 1] + "…"


class AuditStore:
    """Writes and reads audit records."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def record(self, entry: AuditEntry) -> None:
        """Store one entry in its own transaction."""
        async with self.db.write() as conn:
            await write_audit(conn, entry)

    async def list(
        self,
        tenant_id: str,
        *,
        first: int = 20,
        after: str | None = None,
        action: str | None = None,
        user_id: str | None = None,
        resource_type: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> Page[AuditRecord]:
        """A tenant's records, newest first, filtered."""
        check_page_size(first)
        query = select(audit).where(audit.c.tenant_id == tenant_id)
        if action:
            query = query.where(audit.c.action == action)
        if user_id:
            query = query.where(audit.c.user_id == user_id)
        if resource_type:
            query = query.where(audit.c.resource_type == resource_type)
        if since:
            query = query.where(audit.c.created_at >= since)
        if until:
            query = query.where(audit.c.created_at < until)
        if after:
            at, row_id = decode_cursor(after)
            query = query.where(
                or_(
                    audit.c.created_at < at,
                    and_(audit.c.created_at == at, audit.c.id < row_id),
                )
            )
        query = query.order_by(audit.c.created_at.desc(), audit.c.id.desc()).limit(
            first + 1
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        records = [audit_record(r) for r in rows[:first]]
        return Page(
            [(encode_cursor(r.created_at, r.id), r) for r in records],
            has_next=len(rows) > first,
            has_previous=after is not None,
        )


def audit_record(row: StoredRow) -> AuditRecord:
    """An `AuditRecord` from a row."""
    created = as_utc(row["created_at"])
    assert created is not None
    return AuditRecord(
        id=row["id"],
        created_at=created,
        entry=AuditEntry(
            tenant_id=row["tenant_id"],
            action=row["action"],
            user_id=row["user_id"],
            resource_type=row["resource_type"],
            resource_id=row["resource_id"],
            details=row["details"] or {},
            ip_address=row["ip_address"],
            result=row["result"],
            request_id=row["request_id"],
        ),
    )
