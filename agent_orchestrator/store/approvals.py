"""Approval requests and their decisions (``agent_approvals``).

The engine inserts a request with its batch (`store.batches`). A decision is one
transaction: it locks the execution's row (so that a run parking the execution and a
decision cannot miss each other), changes the request from ``PENDING`` once (a
conditional update: of two deciders racing, one wins and the other is told), keeps the
decision on the waiting step for the engine, returns a parked execution to
``PENDING`` and writes the audit entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select, update

from ..core.approvals import ApprovalRecord, ApprovalRequest, ApprovalStatus, Decision
from ..core.enums import ExecutionStatus, Role, StepStatus
from ..core.errors import Conflict, NotFound
from ..core.ids import as_utc, utcnow
from .audit import write_audit
from .models import ApprovalRow, ExecutionRow, StepRunRow, StoredRow, table_of
from .runs import announce_work, reopen_statement

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from sqlalchemy.ext.asyncio import AsyncConnection

    from ..core.records import AuditEntry
    from .database import Database

approvals = table_of(ApprovalRow)
executions = table_of(ExecutionRow)
steps = table_of(StepRunRow)

_WAITING_STEP = StepStatus.WAITING_APPROVAL.value
_PENDING = ApprovalStatus.PENDING.value
_COLUMNS = (
    approvals,
    executions.c.status.label("execution_status"),
    steps.c.status.label("step_status"),
)


def _joined() -> Any:
    return (
        select(*_COLUMNS)
        .join(executions, executions.c.id == approvals.c.execution_id)
        .join(
            steps,
            and_(
                steps.c.execution_id == approvals.c.execution_id,
                steps.c.step_id == approvals.c.step_id,
            ),
        )
    )


def approval_record(row: StoredRow) -> ApprovalRecord:
    """An `ApprovalRecord` from a joined ``agent_approvals`` row."""
    created_at = as_utc(row["created_at"])
    expires_at = as_utc(row["expires_at"])
    assert created_at is not None and expires_at is not None
    status = ApprovalStatus(row["status"])
    if status is ApprovalStatus.PENDING and row["step_status"] != _WAITING_STEP:
        # Its execution ended (cancelled, or failed elsewhere) undecided.
        status = ApprovalStatus.CANCELLED
    return ApprovalRecord(
        request=ApprovalRequest(
            id=row["id"],
            tenant_id=row["tenant_id"],
            execution_id=row["execution_id"],
            step_id=row["step_id"],
            title=row["title"],
            details=row["details"],
            approver_role=Role(row["approver_role"]),
            requested_by=row["requested_by"],
            created_at=created_at,
            expires_at=expires_at,
            notify=tuple(row["notify"] or ()),
        ),
        status=status,
        decided_by=row["decided_by"],
        decided_at=as_utc(row["decided_at"]),
        comment=row["comment"],
        execution_status=row["execution_status"],
    )


class SqlApprovalStore:
    """Approval requests on SQLite or PostgreSQL."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def find(
        self,
        tenant_id: str,
        *,
        status: ApprovalStatus | None = None,
        execution_id: str | None = None,
        limit: int = 100,
    ) -> list[ApprovalRecord]:
        """A tenant's approvals, newest first (PENDING: those still waiting)."""
        query = _joined().where(approvals.c.tenant_id == tenant_id)
        if execution_id is not None:
            query = query.where(approvals.c.execution_id == execution_id)
        if status is ApprovalStatus.PENDING:
            query = query.where(
                approvals.c.status == _PENDING, steps.c.status == _WAITING_STEP
            )
        elif status is ApprovalStatus.CANCELLED:
            query = query.where(
                approvals.c.status == _PENDING, steps.c.status != _WAITING_STEP
            )
        elif status is not None:
            query = query.where(approvals.c.status == status.value)
        query = query.order_by(approvals.c.created_at.desc(), approvals.c.id).limit(
            limit
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [approval_record(r) for r in rows]

    async def get(
        self, tenant_id: str, execution_id: str, step_id: str
    ) -> ApprovalRecord:
        """One approval of the tenant (NotFound for another tenant's)."""
        async with self.db.read() as conn:
            return await self._get(conn, tenant_id, execution_id, step_id)

    async def _get(
        self, conn: AsyncConnection, tenant_id: str, execution_id: str, step_id: str
    ) -> ApprovalRecord:
        row = (
            (
                await conn.execute(
                    _joined().where(
                        approvals.c.tenant_id == tenant_id,
                        approvals.c.execution_id == execution_id,
                        approvals.c.step_id == step_id,
                    )
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(
                f"no approval for step '{step_id}' of execution {execution_id}; "
                "list the waiting ones with the approvals query"
            )
        return approval_record(row)

    async def decide(
        self,
        tenant_id: str,
        execution_id: str,
        step_id: str,
        decision: Decision,
        *,
        check: Callable[[ApprovalRecord], None] | None = None,
        audit: AuditEntry | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[ApprovalRecord, bool]:
        """Store a decision (or an expiry) once.

        Args:
            check: Called with the approval as stored, inside the transaction; what
                it raises (a refusal) leaves everything unchanged.

        Returns:
            The decided approval, and whether its execution was parked and is now
            PENDING again (a runner may take it).

        Raises:
            NotFound: The tenant has no such approval.
            Conflict: It was decided already, expired, or its execution ended.
        """
        now = now or utcnow()
        status = (
            ApprovalStatus.EXPIRED
            if decision.expired
            else ApprovalStatus.APPROVED
            if decision.approved
            else ApprovalStatus.REJECTED
        )
        async with self.db.write() as conn:
            lock = select(executions.c.id).where(
                executions.c.id == execution_id, executions.c.tenant_id == tenant_id
            )
            if not self.db.is_sqlite:
                # The run that parks the execution updates this row: one of the two
                # waits for the other (SQLite has one writer at a time anyway).
                lock = lock.with_for_update()
            if (await conn.execute(lock)).first() is None:
                raise NotFound(f"execution {execution_id} not found")
            record = await self._get(conn, tenant_id, execution_id, step_id)
            if record.status is not ApprovalStatus.PENDING:
                raise Conflict(_settled(record))
            if check is not None:
                check(record)
            changed = await conn.execute(
                update(approvals)
                .where(
                    approvals.c.id == record.request.id,
                    approvals.c.status == _PENDING,
                )
                .values(
                    status=status.value,
                    decided_by=decision.decided_by,
                    decided_at=now,
                    comment=decision.comment,
                )
                .returning(approvals.c.id)
            )
            if changed.first() is None:
                raise Conflict(f"the approval of step '{step_id}' was decided already")
            await conn.execute(
                update(steps)
                .where(
                    steps.c.execution_id == execution_id,
                    steps.c.step_id == step_id,
                    steps.c.status == _WAITING_STEP,
                )
                .values(output=decision.as_output())
            )
            reopened = (
                await conn.execute(
                    reopen_statement().where(executions.c.id == execution_id)
                )
            ).first() is not None
            if reopened:
                await announce_work(conn)
            await write_audit(conn, audit)
        decided = ApprovalRecord(
            request=record.request,
            status=status,
            decided_by=decision.decided_by,
            decided_at=now,
            comment=decision.comment,
            execution_status=(
                ExecutionStatus.PENDING.value if reopened else record.execution_status
            ),
        )
        return decided, reopened

    async def due(self, now: dt.datetime, limit: int = 100) -> list[ApprovalRecord]:
        """Waiting approvals whose time ran out at `now` (every tenant's)."""
        query = (
            _joined()
            .where(
                approvals.c.status == _PENDING,
                approvals.c.expires_at <= now,
                steps.c.status == _WAITING_STEP,
            )
            .order_by(approvals.c.expires_at)
            .limit(limit)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [approval_record(r) for r in rows]

    async def reopen_decided(self) -> list[str]:
        """Every parked execution that has a decided waiting step back to PENDING
        (a decision whose runner stopped before taking the execution)."""
        async with self.db.write() as conn:
            reopened = [r[0] for r in await conn.execute(reopen_statement())]
            if reopened:
                await announce_work(conn)
            return reopened

    async def take_unannounced(self, limit: int = 20) -> list[ApprovalRecord]:
        """Waiting approvals nobody was told of yet, marked as told (each is taken
        by one process: a conditional update)."""
        query = (
            _joined()
            .where(
                approvals.c.status == _PENDING,
                approvals.c.notified_at.is_(None),
                steps.c.status == _WAITING_STEP,
            )
            .order_by(approvals.c.created_at)
            .limit(limit)
        )
        taken: list[ApprovalRecord] = []
        async with self.db.write() as conn:
            rows = (await conn.execute(query)).mappings().all()
            for row in rows:
                won = await conn.execute(
                    update(approvals)
                    .where(
                        approvals.c.id == row["id"], approvals.c.notified_at.is_(None)
                    )
                    .values(notified_at=utcnow())
                    .returning(approvals.c.id)
                )
                if won.first() is not None:
                    taken.append(approval_record(row))
        return taken


def _settled(record: ApprovalRecord) -> str:
    step = record.request.step_id
    when = record.decided_at.isoformat() if record.decided_at else "earlier"
    if record.status is ApprovalStatus.CANCELLED:
        return (
            f"the approval of step '{step}' can no longer be decided: its execution "
            f"ended ({record.execution_status}) before anyone decided"
        )
    if record.status is ApprovalStatus.EXPIRED:
        return f"the approval of step '{step}' expired at {when}; it cannot be decided"
    return (
        f"the approval of step '{step}' was already {record.status.value.lower()} "
        f"by {record.decided_by or 'someone'} at {when}; a decision is made once"
    )
