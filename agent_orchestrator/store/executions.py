"""Reading executions for the API: filtered keyset pages, steps of many executions at
once (for DataLoaders), and counts."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, or_, select

from ..core.records import Page
from .models import ExecutionRow, StepRunRow, table_of
from .pagination import check_page_size, decode_cursor, encode_cursor
from .runs import execution_record, step_record

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from ..core.enums import ExecutionStatus
    from ..core.protocols import ExecutionRecord, StepRecord
    from .database import Database

executions = table_of(ExecutionRow)
steps = table_of(StepRunRow)


class ExecutionQueries:
    """Read-only queries over executions, always scoped to one tenant."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def page(
        self,
        tenant_id: str,
        *,
        first: int = 20,
        after: str | None = None,
        statuses: Sequence[ExecutionStatus] = (),
        template_id: str | None = None,
        workflow_id: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> Page[ExecutionRecord]:
        """Executions newest first (without steps; load those with `steps_of`)."""
        check_page_size(first)
        query = select(executions).where(executions.c.tenant_id == tenant_id)
        if statuses:
            query = query.where(executions.c.status.in_([s.value for s in statuses]))
        if template_id:
            query = query.where(executions.c.template_id == template_id)
        if workflow_id:
            query = query.where(executions.c.workflow_id == workflow_id)
        if since:
            query = query.where(executions.c.created_at >= since)
        if until:
            query = query.where(executions.c.created_at < until)
        if after:
            at, row_id = decode_cursor(after)
            query = query.where(
                or_(
                    executions.c.created_at < at,
                    and_(executions.c.created_at == at, executions.c.id < row_id),
                )
            )
        query = query.order_by(executions.c.created_at.desc(), executions.c.id.desc())
        async with self.db.read() as conn:
            rows = (await conn.execute(query.limit(first + 1))).mappings().all()
        records = [execution_record(r) for r in rows[:first]]
        return Page(
            [(encode_cursor(r.created_at, r.id), r) for r in records],
            has_next=len(rows) > first,
            has_previous=after is not None,
        )

    async def get_many(
        self, tenant_id: str, execution_ids: Sequence[str]
    ) -> dict[str, ExecutionRecord]:
        """Executions by id (missing or another tenant's ids are absent)."""
        if not execution_ids:
            return {}
        query = select(executions).where(
            executions.c.tenant_id == tenant_id,
            executions.c.id.in_(list(execution_ids)),
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return {r["id"]: execution_record(r) for r in rows}

    async def steps_of(
        self, tenant_id: str, execution_ids: Sequence[str]
    ) -> dict[str, list[StepRecord]]:
        """The steps of many executions in one query, in graph order."""
        found: dict[str, list[StepRecord]] = defaultdict(list)
        if not execution_ids:
            return found
        query = (
            select(steps)
            .where(
                steps.c.tenant_id == tenant_id,
                steps.c.execution_id.in_(list(execution_ids)),
            )
            .order_by(steps.c.execution_id, steps.c.position)
        )
        async with self.db.read() as conn:
            for row in (await conn.execute(query)).mappings():
                found[row["execution_id"]].append(step_record(row))
        return found

    async def count_by_status(self, tenant_id: str | None = None) -> dict[str, int]:
        """How many executions are in each status (all tenants when None)."""
        query = select(executions.c.status, func.count()).group_by(executions.c.status)
        if tenant_id is not None:
            query = query.where(executions.c.tenant_id == tenant_id)
        async with self.db.read() as conn:
            return {status: int(n) for status, n in (await conn.execute(query)).all()}
