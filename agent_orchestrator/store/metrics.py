"""Execution metrics computed in SQL over a time window (the deployment guide's figures
plus p95 duration and error rate), and the same executions per interval for charts
(`MetricsQueries.series`)."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from sqlalchemy import (
    ColumnElement,
    Integer,
    Subquery,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)

from ..core.enums import ExecutionStatus, StepStatus
from ..core.errors import Problem, ValidationFailed
from ..core.ids import utcnow
from ..core.records import (
    AgentFigures,
    AgentOutcomes,
    MetricsSeries,
    MetricsSnapshot,
    SeriesBucket,
)
from .models import ExecutionRow, StepRunRow, Timestamp, table_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..core.windows import SeriesWindow
    from .database import Database

executions = table_of(ExecutionRow)
steps = table_of(StepRunRow)
MAX_HOURS_BACK = 24 * 366
_FINISHED = [s.value for s in ExecutionStatus if s.is_final]
_STEP_FINISHED = [StepStatus.SUCCEEDED.value, StepStatus.FAILED.value]
_NOW = [
    ExecutionStatus.PENDING.value,
    ExecutionStatus.RUNNING.value,
    ExecutionStatus.WAITING_APPROVAL.value,
]


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

    async def series(
        self, tenant_id: str, window: SeriesWindow, now: dt.datetime | None = None
    ) -> MetricsSeries:
        """The tenant's executions per interval of `window`, by the time they were
        created: how many are in each status now, and the p50 and p95 durations of
        those that ended; its agents' steps that succeeded and failed in the window;
        and the executions queued, running and waiting for an approval now.

        Everything is counted in SQL, the percentiles too (nearest rank, with window
        functions that SQLite has as well): at most a row per interval and status
        comes back, whatever the number of executions.

        Args:
            tenant_id: Whose executions.
            window: The window and its intervals.
            now: The present moment (aware); the tests fix it.
        """
        until = now or utcnow()
        starts = window.bucket_starts(until)
        in_window = (executions.c.tenant_id == tenant_id) & (
            executions.c.created_at >= starts[0]
        )
        # Each execution joined to the interval of its creation, found by a range
        # seek on (tenant_id, created_at) per interval: bound times compared in SQL,
        # the same on both databases and right across the days the clocks turn. The
        # last interval is left open an interval past now (a clock a little ahead).
        intervals = _intervals(starts, until + window.interval)
        of_interval = executions.join(
            intervals,
            (executions.c.created_at >= intervals.c.start)
            & (executions.c.created_at < intervals.c.end),
        )
        mine = executions.c.tenant_id == tenant_id
        ended = (
            select(intervals.c.bucket, executions.c.duration_ms)
            .select_from(of_interval)
            .where(
                mine,
                executions.c.status.in_(_FINISHED),
                executions.c.duration_ms.is_not(None),
            )
            .subquery()
        )
        ranked = select(
            ended.c.bucket,
            ended.c.duration_ms,
            func.row_number()
            .over(partition_by=ended.c.bucket, order_by=ended.c.duration_ms)
            .label("rank"),
            func.count().over(partition_by=ended.c.bucket).label("n"),
        ).subquery()
        p50 = _nearest_rank(ranked.c.rank, ranked.c.n, 50)
        p95 = _nearest_rank(ranked.c.rank, ranked.c.n, 95)
        async with self.db.read() as conn:
            counts = (
                await conn.execute(
                    select(intervals.c.bucket, executions.c.status, func.count())
                    .select_from(of_interval)
                    .where(mine)
                    .group_by(intervals.c.bucket, executions.c.status)
                )
            ).all()
            percentiles = (
                await conn.execute(
                    select(
                        ranked.c.bucket,
                        func.max(case((p50, ranked.c.duration_ms))),
                        func.max(case((p95, ranked.c.duration_ms))),
                    )
                    .where(or_(p50, p95))
                    .group_by(ranked.c.bucket)
                )
            ).all()
            agent_rows = (
                await conn.execute(
                    select(
                        steps.c.agent_id,
                        func.sum(
                            case(
                                (steps.c.status == StepStatus.SUCCEEDED.value, 1),
                                else_=0,
                            )
                        ),
                        func.sum(
                            case(
                                (steps.c.status == StepStatus.FAILED.value, 1), else_=0
                            )
                        ),
                    )
                    .select_from(
                        steps.join(executions, steps.c.execution_id == executions.c.id)
                    )
                    .where(
                        in_window,
                        steps.c.status.in_(_STEP_FINISHED),
                        # For-each and sub-workflow steps run no agent themselves.
                        steps.c.agent_id != "",
                    )
                    .group_by(steps.c.agent_id)
                    .order_by(steps.c.agent_id)
                )
            ).all()
            current: dict[str, int] = dict(
                (
                    await conn.execute(
                        select(executions.c.status, func.count())
                        .where(
                            executions.c.tenant_id == tenant_id,
                            executions.c.status.in_(_NOW),
                        )
                        .group_by(executions.c.status)
                    )
                ).all()
            )
        by_bucket: list[dict[str, int]] = [{} for _ in starts]
        for index, status, n in counts:
            by_bucket[int(index)][str(status)] = int(n)
        durations = {int(index): (mid, high) for index, mid, high in percentiles}
        return MetricsSeries(
            window=window.name,
            interval_s=int(window.interval.total_seconds()),
            since=starts[0],
            until=until,
            buckets=[
                SeriesBucket(
                    start=start,
                    by_status=by_bucket[i],
                    p50_duration_ms=_float(durations.get(i, (None, None))[0]),
                    p95_duration_ms=_float(durations.get(i, (None, None))[1]),
                )
                for i, start in enumerate(starts)
            ],
            agents=[
                AgentOutcomes(agent_id=str(agent), succeeded=int(ok), failed=int(bad))
                for agent, ok, bad in agent_rows
            ],
            queued=int(current.get(ExecutionStatus.PENDING.value, 0)),
            running=int(current.get(ExecutionStatus.RUNNING.value, 0)),
            waiting_approval=int(
                current.get(ExecutionStatus.WAITING_APPROVAL.value, 0)
            ),
        )


def _intervals(starts: Sequence[dt.datetime], end: dt.datetime) -> Subquery:
    """The intervals as rows (``bucket``, ``start``, ``end``): each ends where the
    next begins, the last at `end`."""
    ends = [*starts[1:], end]
    return union_all(
        *(
            select(
                literal(i, Integer).label("bucket"),
                literal(start, Timestamp).label("start"),
                literal(stop, Timestamp).label("end"),
            )
            for i, (start, stop) in enumerate(zip(starts, ends, strict=True))
        )
    ).subquery("intervals")


def _nearest_rank(
    rank: ColumnElement[int], n: ColumnElement[int], percent: int
) -> ColumnElement[bool]:
    """Whether `rank` (1, 2, ...) of `n` is the nearest rank of `percent`: the least
    rank with ``rank / n >= percent / 100``, i.e. ``ceil(percent * n / 100)``, in
    integers (SQLite has no ``ceil`` unless built with its maths functions)."""
    return (rank * 100 >= n * percent) & ((rank - 1) * 100 < n * percent)


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)
