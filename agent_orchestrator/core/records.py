"""Records the API reads and writes besides executions: saved workflows, audit entries,
metrics, and pages of results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a keyset-paginated list.

    Attributes:
        items: The items with their opaque cursors, in order.
        has_next: Whether more items follow the last one.
        has_previous: Whether the page started after a cursor.
    """

    items: Sequence[tuple[str, T]]
    has_next: bool
    has_previous: bool = False


@dataclass(frozen=True, slots=True)
class WorkflowRecord:
    """A saved workflow at one version."""

    id: str
    tenant_id: str
    name: str
    description: str
    version: int
    graph: Mapping[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str | None = None
    is_active: bool = True


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What an audit record says (SECURITY.md "Audit record"); never a secret.

    Attributes:
        action: What was done, e.g. ``execution.start`` or ``auth.failed``.
        result: ``success``, ``denied`` or ``failed``.
    """

    tenant_id: str
    action: str
    user_id: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    ip_address: str | None = None
    result: str = "success"
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A stored audit entry."""

    id: str
    created_at: dt.datetime
    entry: AuditEntry


@dataclass(frozen=True, slots=True)
class AgentFigures:
    """Per-agent figures over a time window."""

    agent_id: str
    executions: int
    success_rate: float
    avg_duration_ms: float | None


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """The deployment guide's figures plus p95 and error rate, over `hours_back`."""

    hours_back: int
    total_executions: int
    success_rate: float
    avg_duration_ms: float | None
    p95_duration_ms: float | None
    error_rate: float
    agents: Sequence[AgentFigures]
    by_status: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SeriesBucket:
    """The executions created in one interval of a metrics series.

    Attributes:
        start: Where the interval begins (aware UTC); it ends where the next begins.
        by_status: How many of them are in each status now (`ExecutionStatus` values;
            a status none is in is left out).
        p50_duration_ms: The median duration of those that ended (nearest rank).
        p95_duration_ms: Their 95th percentile (nearest rank), as `MetricsSnapshot`'s.
    """

    start: dt.datetime
    by_status: Mapping[str, int] = field(default_factory=dict)
    p50_duration_ms: float | None = None
    p95_duration_ms: float | None = None

    @property
    def total(self) -> int:
        """All the executions created in the interval."""
        return sum(self.by_status.values())


@dataclass(frozen=True, slots=True)
class AgentOutcomes:
    """How many of an agent's steps succeeded and failed in a series' window."""

    agent_id: str
    succeeded: int
    failed: int


@dataclass(frozen=True, slots=True)
class MetricsSeries:
    """A tenant's executions over a window, per interval, for charts.

    Attributes:
        window: The window's name (``1h``, ``24h``, ``7d``, ``30d``).
        interval_s: The nominal length of an interval in seconds (a calendar day's is
            86,400 even on the days the clocks turn).
        since: Where the first interval begins.
        until: When the figures were read (inside the last interval).
        buckets: One per interval, oldest first.
        agents: Per agent (by id), its steps' outcomes in the window.
        queued: Executions waiting for a worker now (``PENDING``), whenever created.
        running: Executions running now.
        waiting_approval: Executions parked for an approval now.
    """

    window: str
    interval_s: int
    since: dt.datetime
    until: dt.datetime
    buckets: Sequence[SeriesBucket]
    agents: Sequence[AgentOutcomes]
    queued: int
    running: int
    waiting_approval: int
