"""Prometheus exposition at ``/metrics``.

Executions and steps by status, step durations, queue depth and live subscribers. One
registry per app (no global state).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from ..core.enums import EventType

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ..core.protocols import ExecutionEvent

_EXECUTION_ENDS = {
    EventType.EXECUTION_SUCCEEDED: "SUCCEEDED",
    EventType.EXECUTION_FAILED: "FAILED",
    EventType.EXECUTION_CANCELLED: "CANCELLED",
}
_STEP_ENDS = {
    EventType.STEP_SUCCEEDED: "SUCCEEDED",
    EventType.STEP_FAILED: "FAILED",
    EventType.STEP_SKIPPED: "SKIPPED",
    EventType.STEP_RETRYING: "RETRYING",
}
CONTENT_TYPE = CONTENT_TYPE_LATEST


class PrometheusMetrics:
    """Counters fed from the event bus, gauges read at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.executions_started = Counter(
            "agent_orchestrator_executions_started",
            "Executions started by this process.",
            registry=self.registry,
        )
        self.executions_finished = Counter(
            "agent_orchestrator_executions_finished",
            "Executions ended, by final status.",
            ["status"],
            registry=self.registry,
        )
        self.steps = Counter(
            "agent_orchestrator_step_transitions",
            "Step transitions, by status.",
            ["status"],
            registry=self.registry,
        )
        self.step_duration = Histogram(
            "agent_orchestrator_step_duration_seconds",
            "Step durations, by agent.",
            ["agent_id"],
            registry=self.registry,
            buckets=(0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
        )
        self.executions_by_status = Gauge(
            "agent_orchestrator_executions",
            "Stored executions, by status.",
            ["status"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "agent_orchestrator_queue_depth",
            "Executions waiting for a worker (PENDING).",
            registry=self.registry,
        )
        self.running = Gauge(
            "agent_orchestrator_running_executions",
            "Executions this process drives now.",
            registry=self.registry,
        )
        self.subscribers = Gauge(
            "agent_orchestrator_subscribers",
            "Open event subscriptions in this process.",
            registry=self.registry,
        )

    def publish(self, events: Sequence[ExecutionEvent]) -> None:
        """Count stored events (an `EventSink`)."""
        for event in events:
            self.observe(event)

    def observe(self, event: ExecutionEvent) -> None:
        """Count one stored event."""
        if event.type is EventType.EXECUTION_STARTED:
            self.executions_started.inc()
        elif event.type in _EXECUTION_ENDS:
            self.executions_finished.labels(_EXECUTION_ENDS[event.type]).inc()
        elif event.type in _STEP_ENDS:
            self.steps.labels(_STEP_ENDS[event.type]).inc()
            duration = event.data.get("duration_ms")
            if event.type is EventType.STEP_SUCCEEDED and isinstance(
                duration, int | float
            ):
                self.step_duration.labels(event.agent_id or "?").observe(
                    duration / 1000
                )
        elif event.type is EventType.STEP_STARTED:
            self.steps.labels("STARTED").inc()

    def exposition(
        self, by_status: dict[str, int], running: int, subscribers: Callable[[], int]
    ) -> bytes:
        """The text exposition, with the gauges set from the given readings."""
        for status, count in by_status.items():
            self.executions_by_status.labels(status).set(count)
        self.queue_depth.set(by_status.get("PENDING", 0))
        self.running.set(running)
        self.subscribers.set(subscribers())
        return generate_latest(self.registry)
