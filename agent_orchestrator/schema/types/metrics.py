"""Metrics as GraphQL types."""

from __future__ import annotations

import strawberry

from ...core.records import MetricsSnapshot


@strawberry.type
class AgentMetrics:
    """Per-agent figures."""

    agent_id: str
    executions: int
    success_rate: float
    avg_duration_ms: float | None


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
