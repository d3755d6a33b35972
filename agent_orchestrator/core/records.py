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
