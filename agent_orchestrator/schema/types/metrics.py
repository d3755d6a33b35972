"""Metrics as GraphQL types: figures over a window, and series per interval."""

from __future__ import annotations

import datetime as dt

import strawberry
from graphql import OperationType

from ...core.enums import ExecutionStatus
from ...core.records import MetricsSeries as SeriesRecord
from ...core.records import MetricsSnapshot, SeriesBucket
from ..context import Info  # noqa: TC001 (Strawberry reads annotations at run time)

WINDOW_HELP = (
    "`1h` (per minute), `24h` (per hour), `7d` (per 6 hours) or `30d` (per day)"
)


@strawberry.type
class AgentMetrics:
    """Per-agent figures."""

    agent_id: str
    executions: int
    success_rate: float
    avg_duration_ms: float | None


@strawberry.type
class MetricsBucket:
    """The executions created in one interval: how many are in each status now, and
    the durations of those that ended."""

    start: dt.datetime = strawberry.field(
        description="Where the interval begins; it ends where the next one begins."
    )
    total: int
    pending: int
    running: int
    waiting_approval: int
    succeeded: int
    failed: int
    cancelled: int
    p50_duration_ms: float | None = strawberry.field(
        description="Median duration of those that ended (nearest rank)."
    )
    p95_duration_ms: float | None = strawberry.field(
        description="95th percentile duration of those that ended (nearest rank)."
    )

    @classmethod
    def of(cls, bucket: SeriesBucket) -> MetricsBucket:
        """The GraphQL view of one interval."""
        count = bucket.by_status.get
        return cls(
            start=bucket.start,
            total=bucket.total,
            pending=count(ExecutionStatus.PENDING.value, 0),
            running=count(ExecutionStatus.RUNNING.value, 0),
            waiting_approval=count(ExecutionStatus.WAITING_APPROVAL.value, 0),
            succeeded=count(ExecutionStatus.SUCCEEDED.value, 0),
            failed=count(ExecutionStatus.FAILED.value, 0),
            cancelled=count(ExecutionStatus.CANCELLED.value, 0),
            p50_duration_ms=bucket.p50_duration_ms,
            p95_duration_ms=bucket.p95_duration_ms,
        )


@strawberry.type
class AgentOutcomes:
    """How many of an agent's steps succeeded and failed in the window."""

    agent_id: str
    succeeded: int
    failed: int


@strawberry.type
class MetricsSeries:
    """The tenant's executions over a window, per interval (for charts), and its queue
    now."""

    window: str
    interval_seconds: int = strawberry.field(
        description="The nominal length of an interval (a calendar day in "
        "Europe/Helsinki is 86400 also when it has 23 or 25 hours)."
    )
    since: dt.datetime = strawberry.field(
        description="Where the first interval begins."
    )
    until: dt.datetime = strawberry.field(description="When the figures were read.")
    buckets: list[MetricsBucket] = strawberry.field(
        description="One per interval, oldest first; the last holds `until`."
    )
    agents: list[AgentOutcomes] = strawberry.field(
        description="Per agent, by id: its steps that succeeded and failed in the "
        "window's executions."
    )
    queued: int = strawberry.field(
        description="Executions waiting for a worker now (PENDING)."
    )
    running: int = strawberry.field(description="Executions running now.")
    waiting_approval: int = strawberry.field(
        description="Executions waiting for an approval now."
    )

    @classmethod
    def of(cls, series: SeriesRecord) -> MetricsSeries:
        """The GraphQL view of a series."""
        return cls(
            window=series.window,
            interval_seconds=series.interval_s,
            since=series.since,
            until=series.until,
            buckets=[MetricsBucket.of(b) for b in series.buckets],
            agents=[
                AgentOutcomes(
                    agent_id=a.agent_id, succeeded=a.succeeded, failed=a.failed
                )
                for a in series.agents
            ],
            queued=series.queued,
            running=series.running,
            waiting_approval=series.waiting_approval,
        )


@strawberry.type
class Metrics:
    """Figures over the last `hoursBack` hours."""

    hours_back: int
    total_executions: int
    success_rate: float
    avg_duration_ms: float | None
    p95_duration_ms: float | None
    error_rate: float
    agents: list[AgentMetrics]

    # Strawberry types its decorators called with arguments as returning Any (one
    # overload also serves `x: int = strawberry.field(...)`), hence the ignore.
    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"The executions per interval of a window: {WINDOW_HELP}. In "
        "`metricsUpdates` it is the series every subscriber of the tenant shares "
        "(at most the server's interval old), so a dashboard gets its charts with "
        "each update."
    )
    async def series(self, info: Info, window: str = "24h") -> MetricsSeries:
        live = info.operation.operation is OperationType.SUBSCRIPTION
        found = await info.context.services.metrics.series(
            info.context.caller, window, fresh=not live
        )
        return MetricsSeries.of(found)

    @classmethod
    def of(cls, snapshot: MetricsSnapshot) -> Metrics:
        """The GraphQL view of a metrics snapshot."""
        return cls(
            hours_back=snapshot.hours_back,
            total_executions=snapshot.total_executions,
            success_rate=snapshot.success_rate,
            avg_duration_ms=snapshot.avg_duration_ms,
            p95_duration_ms=snapshot.p95_duration_ms,
            error_rate=snapshot.error_rate,
            agents=[
                AgentMetrics(
                    agent_id=a.agent_id,
                    executions=a.executions,
                    success_rate=a.success_rate,
                    avg_duration_ms=a.avg_duration_ms,
                )
                for a in snapshot.agents
            ],
        )
