"""Process-wide caches behind subscriptions: one payload per event and selection however
many follow it, and one metrics computation (figures or series) per tenant and window
per interval."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import TYPE_CHECKING, TypeVar, cast

import anyio

from ..core.protocols import ExecutionEvent
from ..core.records import MetricsSeries, MetricsSnapshot
from ..store.metrics import MetricsQueries

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from ..core.windows import SeriesWindow

T = TypeVar("T")


class EventPayloads:
    """The encoded subscription payload of each recent event, per selection, made
    once.

    Args:
        size: Payloads kept (the oldest go first).
    """

    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._cache: OrderedDict[tuple[str, int, str], str] = OrderedDict()

    async def get(
        self,
        event: ExecutionEvent,
        selection: str,
        make: Callable[[ExecutionEvent], Awaitable[str]],
    ) -> str:
        """The payload of `event` for `selection` (`make` makes it the first time)."""
        key = (event.execution_id, event.seq, selection)
        payload = self._cache.get(key)
        if payload is None:
            payload = await make(event)
            self._cache[key] = payload
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return payload


class MetricsFeed:
    """Metrics snapshots and series shared by every subscriber of the same tenant and
    window."""

    def __init__(self, queries: MetricsQueries, interval_s: float = 5.0) -> None:
        self.queries = queries
        self.interval_s = interval_s
        self._cache: dict[tuple[str, str, str], tuple[float, object]] = {}
        self._locks: dict[tuple[str, str, str], anyio.Lock] = {}

    async def snapshot(
        self, tenant_id: str, hours_back: int, *, fresh: bool = False
    ) -> MetricsSnapshot:
        """The tenant's metrics, at most `interval_s` old unless `fresh`."""
        if fresh:
            return await self.queries.snapshot(tenant_id, hours_back)
        return await self._shared(
            ("snapshot", tenant_id, str(hours_back)),
            lambda: self.queries.snapshot(tenant_id, hours_back),
        )

    async def series(
        self, tenant_id: str, window: SeriesWindow, *, fresh: bool = False
    ) -> MetricsSeries:
        """The tenant's series over `window`, at most `interval_s` old unless
        `fresh`."""
        if fresh:
            return await self.queries.series(tenant_id, window)
        return await self._shared(
            ("series", tenant_id, window.name),
            lambda: self.queries.series(tenant_id, window),
        )

    async def _shared(
        self, key: tuple[str, str, str], compute: Callable[[], Awaitable[T]]
    ) -> T:
        # One computation per key at a time: the others wait for it and share it.
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:
            cached = self._cache.get(key)
            now = time.monotonic()
            if cached is not None and now - cached[0] < self.interval_s * 0.9:
                return cast("T", cached[1])
            value = await compute()
            self._cache[key] = (now, value)
            return value
