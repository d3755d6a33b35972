"""Schedules (``agent_schedules``): a tenant's schedules, and the due ones of every
tenant for the processes that fire them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, update

from ..core.enums import Role
from ..core.errors import NotFound
from ..core.ids import as_utc, utcnow
from ..core.schedules import ScheduleRecord, SlotOutcome
from .audit import write_audit
from .models import ScheduleRow, StoredRow, table_of

if TYPE_CHECKING:
    import builtins
    import datetime as dt

    from ..core.records import AuditEntry
    from .database import Database

schedules = table_of(ScheduleRow)
#: Due schedules taken per look (the rest are seen on the next one, at once).
DUE_BATCH = 100


class ScheduleStore:
    """Stores schedules and moves them from slot to slot."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def create(
        self, record: ScheduleRecord, audit: AuditEntry | None = None
    ) -> ScheduleRecord:
        """Store a new schedule with its audit entry, in one transaction."""
        async with self.db.write() as conn:
            await conn.execute(insert(schedules), [_row(record)])
            await write_audit(conn, audit)
        return record

    async def get(self, schedule_id: str, tenant_id: str) -> ScheduleRecord:
        """The tenant's schedule.

        Raises:
            NotFound: No such schedule for this tenant.
        """
        async with self.db.read() as conn:
            row = (
                (
                    await conn.execute(
                        select(schedules).where(
                            schedules.c.id == schedule_id,
                            schedules.c.tenant_id == tenant_id,
                        )
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"schedule {schedule_id} not found")
        return _record(row)

    async def list(self, tenant_id: str) -> builtins.list[ScheduleRecord]:
        """The tenant's schedules, oldest first."""
        async with self.db.read() as conn:
            rows = (
                (
                    await conn.execute(
                        select(schedules)
                        .where(schedules.c.tenant_id == tenant_id)
                        .order_by(schedules.c.created_at, schedules.c.id)
                    )
                )
                .mappings()
                .all()
            )
        return [_record(r) for r in rows]

    async def set_enabled(
        self,
        schedule_id: str,
        tenant_id: str,
        *,
        enabled: bool,
        next_run_at: dt.datetime | None,
        audit: AuditEntry | None = None,
    ) -> ScheduleRecord:
        """Pause (`enabled` False, no next slot) or resume a schedule.

        Raises:
            NotFound: No such schedule for this tenant.
        """
        async with self.db.write() as conn:
            done = await conn.execute(
                update(schedules)
                .where(
                    schedules.c.id == schedule_id, schedules.c.tenant_id == tenant_id
                )
                .values(enabled=enabled, next_run_at=next_run_at, updated_at=utcnow())
            )
            if done.rowcount != 1:
                raise NotFound(f"schedule {schedule_id} not found")
            await write_audit(conn, audit)
        return await self.get(schedule_id, tenant_id)

    async def delete(
        self, schedule_id: str, tenant_id: str, audit: AuditEntry | None = None
    ) -> None:
        """Delete a schedule (the executions it started stay).

        Raises:
            NotFound: No such schedule for this tenant.
        """
        async with self.db.write() as conn:
            done = await conn.execute(
                delete(schedules).where(
                    schedules.c.id == schedule_id, schedules.c.tenant_id == tenant_id
                )
            )
            if done.rowcount != 1:
                raise NotFound(f"schedule {schedule_id} not found")
            await write_audit(conn, audit)

    async def due(
        self, now: dt.datetime, limit: int = DUE_BATCH
    ) -> builtins.list[ScheduleRecord]:
        """Enabled schedules of every tenant whose next slot is at or before `now`,
        the most overdue first."""
        async with self.db.read() as conn:
            rows = (
                (
                    await conn.execute(
                        select(schedules)
                        .where(
                            schedules.c.enabled.is_(True),
                            schedules.c.next_run_at <= now,
                        )
                        .order_by(schedules.c.next_run_at, schedules.c.id)
                        .limit(limit)
                    )
                )
                .mappings()
                .all()
            )
        return [_record(r) for r in rows]

    async def next_due_at(self) -> dt.datetime | None:
        """The earliest next slot of any enabled schedule (None when there is none)."""
        async with self.db.read() as conn:
            value = (
                await conn.execute(
                    select(func.min(schedules.c.next_run_at)).where(
                        schedules.c.enabled.is_(True)
                    )
                )
            ).scalar()
        return as_utc(value)

    async def advance(
        self,
        schedule_id: str,
        expected_next: dt.datetime,
        outcome: SlotOutcome,
        audit: AuditEntry | None = None,
    ) -> bool:
        """Move an enabled schedule from the slot `expected_next` on, recording
        `outcome`, if no one has moved it yet (a conditional update: of processes
        that try the same slot, exactly one gets True). The audit entry is written only
        by that one, in the same transaction.
        """
        async with self.db.write() as conn:
            done = await conn.execute(
                update(schedules)
                .where(
                    schedules.c.id == schedule_id,
                    schedules.c.enabled.is_(True),
                    schedules.c.next_run_at == expected_next,
                )
                .values(
                    next_run_at=outcome.next_run_at,
                    last_run_at=outcome.slot,
                    last_execution_id=outcome.execution_id,
                    last_error=outcome.error,
                    updated_at=utcnow(),
                )
            )
            moved = done.rowcount == 1
            if moved:
                await write_audit(conn, audit)
        return moved


def _row(record: ScheduleRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "tenant_id": record.tenant_id,
        "name": record.name,
        "cron": record.cron,
        "timezone": record.timezone,
        "enabled": record.enabled,
        "template_id": record.template_id,
        "workflow_id": record.workflow_id,
        "graph": dict(record.graph) if record.graph is not None else None,
        "variables": dict(record.variables),
        "next_run_at": record.next_run_at,
        "last_run_at": record.last_run_at,
        "last_execution_id": record.last_execution_id,
        "last_error": record.last_error,
        "created_by": record.created_by,
        "origin": dict(record.origin) if record.origin is not None else None,
        "role": record.role.value,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def _record(row: StoredRow) -> ScheduleRecord:
    created = as_utc(row["created_at"])
    updated = as_utc(row["updated_at"])
    assert created is not None and updated is not None
    return ScheduleRecord(
        id=row["id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        cron=row["cron"],
        timezone=row["timezone"],
        enabled=bool(row["enabled"]),
        role=Role(row["role"]),
        created_at=created,
        updated_at=updated,
        template_id=row["template_id"],
        workflow_id=row["workflow_id"],
        graph=row["graph"],
        variables=row["variables"] or {},
        next_run_at=as_utc(row["next_run_at"]),
        last_run_at=as_utc(row["last_run_at"]),
        last_execution_id=row["last_execution_id"],
        last_error=row["last_error"],
        created_by=row["created_by"],
        origin=row["origin"],
    )
