"""`RunStore` on SQL: the engine's durable state.

A batch (step updates, execution updates, events) is one transaction, written by
`store.batches` in as few round trips as the database allows. Leases (`lease_owner`,
`lease_expires_at`) let several workers share PostgreSQL: claims take rows with
``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, case, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..core.enums import EventType, ExecutionStatus, Role, StepStatus
from ..core.errors import Conflict, NotFound
from ..core.ids import as_utc, utcnow
from ..core.protocols import (
    ExecutionEvent,
    ExecutionRecord,
    NewExecution,
    StepRecord,
    WriteBatch,
)
from .audit import write_audit
from .models import ExecutionEventRow, ExecutionRow, StepRunRow, StoredRow, table_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncConnection

    from ..core.records import AuditEntry
    from .database import Database

executions = table_of(ExecutionRow)
steps = table_of(StepRunRow)
events = table_of(ExecutionEventRow)

_UNFINISHED = (ExecutionStatus.PENDING.value, ExecutionStatus.RUNNING.value)
_WAITING = ExecutionStatus.WAITING_APPROVAL.value
_PENDING = ExecutionStatus.PENDING.value
_CANCELLABLE = (*_UNFINISHED, _WAITING)
#: The advisory lock claims take on PostgreSQL while a per-tenant cap is in force.
_CLAIM_LOCK_KEY = 0x616F_636C  # "aocl"
#: New work (an execution nobody holds) is announced here, once it is committed, so
#: that idle workers claim it at once rather than at their next poll.
WORK_CHANNEL = "agent_orchestrator_work"
# Statements of the read paths, built once (building them costs more than SQLite
# takes to run them).
_BY_ID = select(executions).where(executions.c.id == bindparam("id"))
_BY_ID_AND_TENANT = _BY_ID.where(executions.c.tenant_id == bindparam("tenant"))
_STEPS_OF = (
    select(steps)
    .where(steps.c.execution_id == bindparam("id"))
    .order_by(steps.c.position)
)
_LAST_SEQ = select(func.coalesce(func.max(events.c.seq), 0)).where(
    events.c.execution_id == bindparam("id")
)
_LAST_EVENT = (
    select(events)
    .where(events.c.execution_id == bindparam("id"))
    .order_by(events.c.seq.desc())
    .limit(1)
)
_EXISTS = select(executions.c.id).where(
    executions.c.id == bindparam("id"), executions.c.tenant_id == bindparam("tenant")
)


class SqlRunStore:
    """The engine's store on SQLite or PostgreSQL (a `core.protocols.RunStore`)."""

    def __init__(self, database: Database) -> None:
        self.db = database

    # --- creating and loading ------------------------------------------------------

    async def create_execution(
        self,
        new: NewExecution,
        *,
        lease_owner: str | None = None,
        lease_s: float | None = None,
        audit: AuditEntry | None = None,
    ) -> tuple[ExecutionRecord, bool]:
        """Store a new PENDING execution with its steps; see `RunStore`.

        With `lease_owner`, the new execution is leased to that worker at once so that
        no other worker takes it before it starts.
        """
        now = utcnow()
        expires = (
            now + dt.timedelta(seconds=lease_s) if lease_owner and lease_s else None
        )
        graph, variables, metadata = (
            dict(new.graph),
            dict(new.variables),
            dict(new.metadata),
        )
        row: dict[str, Any] = {
            "id": new.id,
            "tenant_id": new.tenant_id,
            "workflow_id": new.workflow_id,
            "workflow_version": new.workflow_version,
            "template_id": new.template_id,
            "status": ExecutionStatus.PENDING.value,
            "graph": graph,
            "variables": variables,
            "idempotency_key": new.idempotency_key,
            "request_hash": new.request_hash,
            "created_by": new.created_by,
            "role": new.role.value if new.role else None,
            "created_at": now,
            "cancel_requested": False,
            "lease_owner": lease_owner,
            "lease_expires_at": expires,
            "metadata": metadata,
            "resumes": 0,
            "resume_progress": 0,
        }
        step_rows = [
            {
                "execution_id": new.id,
                "tenant_id": new.tenant_id,
                "step_id": step_id,
                "agent_id": agent_id,
                "position": position,
                "status": StepStatus.PENDING.value,
                "attempts": 0,
            }
            for position, (step_id, agent_id) in enumerate(new.steps)
        ]
        if new.idempotency_key is not None:
            existing = await self._by_idempotency_key(new)
            if existing is not None:
                return existing, False
        try:
            async with self.db.write() as conn:
                await conn.execute(insert(executions), [row])
                if step_rows:
                    await conn.execute(insert(steps), step_rows)
                if lease_owner is None:
                    await announce_work(conn)
                if audit is not None:
                    await write_audit(
                        conn, replace(audit, resource_id=audit.resource_id or new.id)
                    )
        except IntegrityError:
            # Two requests with one idempotency key raced; the other one won.
            if new.idempotency_key is None:
                raise
            existing = await self._by_idempotency_key(new)
            if existing is None:
                raise
            return existing, False
        # What was just stored, without reading it back.
        record = ExecutionRecord(
            id=new.id,
            tenant_id=new.tenant_id,
            status=ExecutionStatus.PENDING,
            graph=graph,
            variables=variables,
            created_at=now,
            template_id=new.template_id,
            workflow_id=new.workflow_id,
            workflow_version=new.workflow_version,
            idempotency_key=new.idempotency_key,
            request_hash=new.request_hash,
            created_by=new.created_by,
            role=new.role,
            metadata=metadata,
            steps=tuple(
                StepRecord(step_id, agent_id, StepStatus.PENDING)
                for step_id, agent_id in new.steps
            ),
        )
        return record, True

    async def _by_idempotency_key(self, new: NewExecution) -> ExecutionRecord | None:
        async with self.db.read() as conn:
            found = (
                await conn.execute(
                    select(executions.c.id, executions.c.request_hash).where(
                        executions.c.tenant_id == new.tenant_id,
                        executions.c.idempotency_key == new.idempotency_key,
                    )
                )
            ).first()
        if found is None:
            return None
        if found.request_hash != new.request_hash:
            raise Conflict(
                f"idempotency key {new.idempotency_key!r} was already used for a "
                f"different request (execution {found.id}); use a new key for a new "
                "request"
            )
        return await self.load_execution(found.id)

    async def load_execution(
        self, execution_id: str, tenant_id: str | None = None, *, with_seq: bool = True
    ) -> ExecutionRecord:
        """The execution with its steps and (unless `with_seq` is false, as the API
        does not need it) its last event number; see `RunStore`."""
        async with self.db.read() as conn:
            if tenant_id is None:
                found = await conn.execute(_BY_ID, {"id": execution_id})
            else:
                found = await conn.execute(
                    _BY_ID_AND_TENANT, {"id": execution_id, "tenant": tenant_id}
                )
            row = found.mappings().first()
            if row is None:
                raise NotFound(f"execution {execution_id} not found")
            step_rows = (await conn.execute(_STEPS_OF, {"id": execution_id})).mappings()
            step_records = tuple(step_record(s) for s in step_rows)
            last_seq = 0
            if with_seq:
                last_seq = (
                    await conn.execute(_LAST_SEQ, {"id": execution_id})
                ).scalar_one()
        return execution_record(row, step_records, int(last_seq))

    async def exists(self, execution_id: str, tenant_id: str) -> bool:
        """Whether the tenant has this execution (one cheap query)."""
        async with self.db.read() as conn:
            found = await conn.execute(
                _EXISTS, {"id": execution_id, "tenant": tenant_id}
            )
            return found.first() is not None

    # --- writing ---------------------------------------------------------------------

    async def write(self, batch: WriteBatch) -> None:
        """Apply a batch in one transaction; see `RunStore.write`."""
        if batch:
            await self.db.write_batch(batch)

    # --- leases ----------------------------------------------------------------------

    async def claim(
        self,
        owner: str,
        lease_s: float,
        *,
        execution_ids: Sequence[str] | None = None,
        limit: int = 100,
        tenant_cap: int | None = None,
        dead_owners: Sequence[str] = (),
    ) -> list[str]:
        """Lease unfinished executions that nobody holds; see `RunStore.claim`.

        Tenants take turns: candidates are ordered by how many executions their
        tenant runs now plus their place in that tenant's queue, so one tenant's burst
        does not keep another's single execution waiting. With `tenant_cap`, no
        tenant gets more running executions than that (claims of all processes are
        serialised on PostgreSQL while a cap is in force, so that two of them cannot
        both take a tenant's last free place).
        """
        if limit <= 0:
            return []
        now = utcnow()
        dead = list(dead_owners)
        nobody_holds = or_(
            executions.c.lease_owner.is_(None),
            executions.c.lease_expires_at < now,
            *([executions.c.lease_owner.in_(dead)] if dead else []),
        )
        claimable = and_(executions.c.status.in_(_UNFINISHED), nobody_holds)
        running = (
            select(executions.c.tenant_id, func.count().label("n"))
            .where(executions.c.status.in_(_UNFINISHED), ~nobody_holds)
            .group_by(executions.c.tenant_id)
            .cte("running")
        )
        queued = select(
            executions.c.id,
            executions.c.tenant_id,
            executions.c.created_at,
            func.row_number()
            .over(partition_by=executions.c.tenant_id, order_by=executions.c.created_at)
            .label("place"),
        ).where(claimable)
        if execution_ids is not None:
            queued = queued.where(executions.c.id.in_(list(execution_ids)))
        ranked = queued.subquery("queued")
        turn = func.coalesce(running.c.n, 0) + ranked.c.place
        # Chosen from the ranked rows alone, then locked by primary key: joining the
        # ranking back to the table let the planner pick a nested loop over the whole
        # queue (hundreds of ms for a thousand waiting rows) when its statistics were
        # stale, as a queue table's often are.
        chosen = (
            select(ranked.c.id)
            .select_from(
                ranked.outerjoin(running, running.c.tenant_id == ranked.c.tenant_id)
            )
            .order_by(turn, ranked.c.created_at)
            .limit(limit)
        )
        if tenant_cap is not None:
            chosen = chosen.where(turn <= tenant_cap)
        candidates = select(executions.c.id).where(
            executions.c.id.in_(chosen.scalar_subquery()), claimable
        )
        if not self.db.is_sqlite:
            # A row another claim holds now is skipped: that claim takes it.
            candidates = candidates.with_for_update(skip_locked=True)
        statement = (
            update(executions)
            .where(executions.c.id.in_(candidates.scalar_subquery()))
            .values(
                lease_owner=owner, lease_expires_at=now + dt.timedelta(seconds=lease_s)
            )
            .returning(executions.c.id)
        )
        async with self.db.write() as conn:
            if tenant_cap is not None and not self.db.is_sqlite:
                await conn.execute(select(func.pg_advisory_xact_lock(_CLAIM_LOCK_KEY)))
            return [r[0] for r in await conn.execute(statement)]

    async def lease_owners(self, prefix: str) -> list[str]:
        """Owners of live leases whose names start with `prefix` (a host's)."""
        now = utcnow()
        async with self.db.read() as conn:
            found = await conn.execute(
                select(executions.c.lease_owner)
                .where(
                    executions.c.status.in_(_UNFINISHED),
                    executions.c.lease_owner.startswith(prefix, autoescape=True),
                    executions.c.lease_expires_at >= now,
                )
                .distinct()
            )
            return [r[0] for r in found]

    async def renew(
        self, owner: str, execution_ids: Sequence[str], lease_s: float
    ) -> dict[str, bool]:
        """Extend leases `owner` still holds.

        Returns:
            For each execution still held, whether someone asked to cancel it.
        """
        if not execution_ids:
            return {}
        statement = (
            update(executions)
            .where(
                executions.c.id.in_(list(execution_ids)),
                executions.c.lease_owner == owner,
            )
            .values(lease_expires_at=utcnow() + dt.timedelta(seconds=lease_s))
            .returning(executions.c.id, executions.c.cancel_requested)
        )
        async with self.db.write() as conn:
            return {
                r.id: bool(r.cancel_requested) for r in await conn.execute(statement)
            }

    async def release(self, owner: str, execution_ids: Sequence[str]) -> None:
        """Give up leases; see `RunStore.release`."""
        if not execution_ids:
            return
        async with self.db.write() as conn:
            await conn.execute(
                update(executions)
                .where(
                    executions.c.id.in_(list(execution_ids)),
                    executions.c.lease_owner == owner,
                )
                .values(lease_owner=None, lease_expires_at=None)
            )
            await announce_work(conn)

    async def request_cancel(
        self, execution_id: str, tenant_id: str, audit: AuditEntry | None = None
    ) -> ExecutionRecord:
        """Ask for an execution to be cancelled; its lease holder carries it out."""
        async with self.db.write() as conn:
            found = (
                await conn.execute(
                    update(executions)
                    .where(
                        executions.c.id == execution_id,
                        executions.c.tenant_id == tenant_id,
                    )
                    .values(
                        cancel_requested=executions.c.cancel_requested
                        | executions.c.status.in_(_CANCELLABLE),
                        # A parked execution goes back to the runners, whose claim
                        # then closes it as CANCELLED.
                        status=case(
                            (executions.c.status == _WAITING, _PENDING),
                            else_=executions.c.status,
                        ),
                    )
                    .returning(executions.c.id)
                )
            ).first()
            if found is not None:
                await write_audit(conn, audit)
                await announce_work(conn)
        if found is None:
            raise NotFound(f"execution {execution_id} not found")
        return await self.load_execution(execution_id, tenant_id)

    async def reopen_decided(self, execution_id: str) -> bool:
        """See `RunStore.reopen_decided`."""
        async with self.db.write() as conn:
            found = await conn.execute(
                reopen_statement().where(executions.c.id == execution_id)
            )
            if found.first() is None:
                return False
            await announce_work(conn)
            return True

    # --- events ----------------------------------------------------------------------

    async def events_after(
        self, execution_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[ExecutionEvent]:
        """Stored events after `after_seq`, in order; see `RunStore.events_after`."""
        query = (
            select(events)
            .where(events.c.execution_id == execution_id, events.c.seq > after_seq)
            .order_by(events.c.seq)
        )
        if limit is not None:
            query = query.limit(limit)
        async with self.db.read() as conn:
            return [event_record(r) for r in (await conn.execute(query)).mappings()]

    async def last_event(self, execution_id: str) -> ExecutionEvent | None:
        """The newest stored event; see `RunStore.last_event`."""
        async with self.db.read() as conn:
            row = (
                (await conn.execute(_LAST_EVENT, {"id": execution_id}))
                .mappings()
                .first()
            )
        return event_record(row) if row is not None else None


async def announce_work(conn: AsyncConnection) -> None:
    """Tell idle workers of every process that there is work to claim (PostgreSQL
    NOTIFY, heard once the transaction commits; nothing on SQLite, one process)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(select(func.pg_notify(WORK_CHANNEL, "")))


def reopen_statement() -> Any:
    """UPDATE of parked executions with a decided waiting step back to PENDING (add
    a WHERE to narrow it); returns their ids."""
    decided = exists().where(
        and_(
            steps.c.execution_id == executions.c.id,
            steps.c.status == StepStatus.WAITING_APPROVAL.value,
            steps.c.output.is_not(None),
        )
    )
    return (
        update(executions)
        .where(executions.c.status == _WAITING, decided)
        .values(status=_PENDING, lease_owner=None, lease_expires_at=None)
        .returning(executions.c.id)
    )


def step_record(row: StoredRow) -> StepRecord:
    """A `StepRecord` from an ``agent_step_runs`` row."""
    return StepRecord(
        step_id=row["step_id"],
        agent_id=row["agent_id"],
        status=StepStatus(row["status"]),
        attempts=row["attempts"],
        started_at=as_utc(row["started_at"]),
        completed_at=as_utc(row["completed_at"]),
        duration_ms=row["duration_ms"],
        output=row["output"],
        error=row["error"],
    )


def execution_record(
    row: StoredRow, step_records: tuple[StepRecord, ...] = (), last_seq: int = 0
) -> ExecutionRecord:
    """An `ExecutionRecord` from an ``agent_workflow_executions`` row."""
    created_at = as_utc(row["created_at"])
    assert created_at is not None
    return ExecutionRecord(
        id=row["id"],
        tenant_id=row["tenant_id"],
        status=ExecutionStatus(row["status"]),
        graph=row["graph"],
        variables=row["variables"],
        created_at=created_at,
        template_id=row["template_id"],
        workflow_id=row["workflow_id"],
        workflow_version=row["workflow_version"],
        result=row["result"],
        error_message=row["error_message"],
        idempotency_key=row["idempotency_key"],
        request_hash=row["request_hash"],
        created_by=row["created_by"],
        role=Role(row["role"]) if row["role"] else None,
        started_at=as_utc(row["started_at"]),
        completed_at=as_utc(row["completed_at"]),
        duration_ms=row["duration_ms"],
        cancel_requested=bool(row["cancel_requested"]),
        last_seq=last_seq,
        metadata=row["metadata"] or {},
        steps=step_records,
        resumes=row["resumes"],
        resume_progress=row["resume_progress"],
    )


def event_record(row: StoredRow) -> ExecutionEvent:
    """An `ExecutionEvent` from an ``agent_execution_events`` row."""
    at = as_utc(row["at"])
    assert at is not None
    return ExecutionEvent(
        execution_id=row["execution_id"],
        tenant_id=row["tenant_id"],
        seq=row["seq"],
        type=EventType(row["type"]),
        at=at,
        step_id=row["step_id"],
        agent_id=row["agent_id"],
        attempt=row["attempt"],
        data=row["data"] or {},
    )
