"""Execution metrics computed in SQL over a time window (the deployment guide's figures
plus p95 duration and error rate)."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select

from ..core.enums import ExecutionStatus, StepStatus
from ..core.errors import Problem, ValidationFailed
from ..core.ids import utcnow
from ..core.records import AgentFigures, MetricsSnapshot
from .models import ExecutionRow, StepRunRow, table_of

if TYPE_CHECKING:
    from .database import Database

executions = table_of(ExecutionRow)
steps = table_of(StepRunRow)
MAX_HOURS_BACK = 24 * 366
_FINISHED = [s.value for s in ExecutionStatus if s.is_final]
_STEP_FINISHED = [StepStatus.SUCCEEDED.value, StepStatus.FAILED.value]


class MetricsQueries:
    """Figures for one tenant over the last `hours_back` hours."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def snapshot(self, tenant_id: str, hours_back: int = 24) -> MetricsSnapshot:
        """Compute the metrics.

        Success and error rates are shares of the executions that ended in the window's
        executions (running ones are counted in the total only). p95 is the nearest-rank
        95th percentile of finished executions' durations.

        Raises:
            ValidationFailed: `hours_back` outside 1..8784.
        """
        if not 1 <= hours_back <= MAX_HOURS_BACK:
            raise ValidationFailed(
                [
                    Problem(
                        "hoursBack",
                        f"must be between 1 and {MAX_HOURS_BACK}",
                        "bad_range",
                    )
                ]
            )
        since = utcnow() - dt.timedelta(hours=hours_back)
        window = (executions.c.tenant_id == tenant_id) & (
            executions.c.created_at >= since
        )
        async with self.db.read() as conn:
            by_status = {
                status: int(n)
                for status, n in (
                    await conn.execute(
                        select(executions.c.status, func.count())
                        .where(window)
                        .group_by(executions.c.status)
                    )
                ).all()
            }
            finished_durations = select(executions.c.duration_ms).where(
                window,
                executions.c.status.in_(_FINISHED),
                executions.c.duration_ms.is_not(None),
            )
            durations = finished_durations.subquery()
            count, average = (
                await conn.execute(
                    select(func.count(), func.avg(durations.c.duration_ms))
                )
            ).one()
            p95 = None
            if count:
                rank = math.ceil(0.95 * count) - 1
                p95 = (
                    await conn.execute(
                        finished_durations.order_by(executions.c.duration_ms)
                        .offset(rank)
                        .limit(1)
                    )
                ).scalar()
            agent_rows = (
                await conn.execute(
                    select(
                        steps.c.agent_id,
                        func.count(),
                        func.sum(
                            case(
                                (steps.c.status == StepStatus.SUCCEEDED.value, 1),
                                else_=0,
                            )
                        ),
                        func.sum(
                            case((steps.c.status.in_(_STEP_FINISHED), 1), else_=0)
                        ),
                        func.avg(steps.c.duration_ms),
                    )
                    .select_from(
                        steps.join(executions, steps.c.execution_id == executions.c.id)
                    )
                    .where(
                        window,
                        steps.c.status.not_in([StepStatus.PENDING.value]),
                        # For-each and sub-workflow steps run no agent themselves.
                        steps.c.agent_id != "",
                    )
                    .group_by(steps.c.agent_id)
                    .order_by(steps.c.agent_id)
                )
            ).all()
        total = sum(by_status.values())
        ended = sum(by_status.get(s, 0) for s in _FINISHED)
        succeeded = by_status.get(ExecutionStatus.SUCCEEDED.value, 0)
        failed = by_status.get(ExecutionStatus.FAILED.value, 0)
        return MetricsSnapshot(
            hours_back=hours_back,
            total_executions=total,
            success_rate=round(succeeded / ended, 4) if ended else 0.0,
            avg_duration_ms=round(float(average), 1) if average is not None else None,
            p95_duration_ms=float(p95) if p95 is not None else None,
            error_rate=round(failed / ended, 4) if ended else 0.0,
            agents=[
                AgentFigures(
                    agent_id=agent_id,
                    executions=int(n),
                    success_rate=round(int(ok or 0) / int(done), 4) if done else 0.0,
                    avg_duration_ms=round(float(avg), 1) if avg is not None else None,
                )
                for agent_id, n, ok, done, avg in agent_rows
            ],
            by_status=by_status,
        )
