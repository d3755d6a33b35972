"""Metrics, read once or pushed at an interval."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import anyio
import strawberry

from ..schema.context import Info
from ..schema.types.metrics import WINDOW_HELP, Metrics, MetricsSeries
from ..security.permissions import Permission
from .access import allow, key_guard

# Strawberry types its decorators called with arguments as returning Any (one overload
# also serves `x: int = strawberry.field(...)`), hence the untyped-decorator ignores.


@strawberry.type
class MetricsQuery:
    """Reading metrics."""

    @strawberry.field(description="Figures over the last `hoursBack` hours.")  # type: ignore[untyped-decorator]
    async def metrics(self, info: Info, hours_back: int = 24) -> Metrics:
        snapshot = await info.context.services.metrics.snapshot(
            info.context.caller, hours_back
        )
        return Metrics.of(snapshot)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"The executions per interval of a window: {WINDOW_HELP}; "
        "by status, their p50/p95 durations, the agents' outcomes and the queue now."
    )
    async def metrics_series(self, info: Info, window: str = "24h") -> MetricsSeries:
        series = await info.context.services.metrics.series(info.context.caller, window)
        return MetricsSeries.of(series)


@strawberry.type
class MetricsSubscription:
    """Live metrics."""

    @strawberry.subscription(description="Fresh metrics at the server's interval.")  # type: ignore[untyped-decorator]
    async def metrics_updates(
        self, info: Info, hours_back: int = 24
    ) -> AsyncGenerator[Metrics, None]:
        principal = allow(info, Permission.READ)
        feed = info.context.services.metrics.feed
        check = key_guard(info)
        while True:
            await check()
            yield Metrics.of(await feed.snapshot(principal.tenant_id, hours_back))
            await anyio.sleep(feed.interval_s)
