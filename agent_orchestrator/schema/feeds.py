"""Process-wide caches behind subscriptions: one GraphQL payload per event however many
follow it, and one metrics computation per tenant and window per interval."""

from __future__ import annotations

import time
from collections import OrderedDict

import anyio

from ..core.protocols import ExecutionEvent as Event
from ..core.records import MetricsSnapshot
from ..store.metrics import MetricsQueries
from .types.execution import ExecutionEvent


class EventPayloads:
    """The GraphQL object of each recent event, built once."""

    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._cache: OrderedDict[tuple[str, int], ExecutionEvent] = OrderedDict()

    def get(self, event: Event) -> ExecutionEvent:
        """The payload of `event` (made on first request)."""
        key = (event.execution_id, event.seq)
        payload = self._cache.get(key)
        if payload is None:
            payload = ExecutionEvent.of(event)
            self._cache[key] = payload
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return payload


class MetricsFeed:
    """Metrics snapshots shared by every subscriber of the same tenant and window."""

    def __init__(self, queries: MetricsQueries, interval_s: float = 5.0) -> None:
        self.queries = queries
        self.interval_s = interval_s
        self._cache: dict[tuple[str, int], tuple[float, MetricsSnapshot]] = {}
        self._locks: dict[tuple[str, int], anyio.Lock] = {}

    async def snapshot(
        self, tenant_id: str, hours_back: int, *, fresh: bool = False
    ) -> MetricsSnapshot:
        """The tenant's metrics, at most `interval_s` old unless `fresh`."""
        key = (tenant_id, hours_back)
        if fresh:
            return await self.queries.snapshot(tenant_id, hours_back)
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:
            cached = self._cache.get(key)
            now = time.monotonic()
            if cached is not None and now - cached[0] < self.interval_s * 0.9:
                return cached[1]
            snapshot = await self.queries.snapshot(tenant_id, hours_back)
            self._cache[key] = (now, snapshot)
            return snapshot
