"""Execution metrics of the caller's tenant over a time window, as figures or as series
per interval (the dashboard's charts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.windows import series_window
from ..security.permissions import Permission

if TYPE_CHECKING:
    from ..core.records import MetricsSeries, MetricsSnapshot
    from .access import Access
    from .caller import Caller
    from .stores import MetricsSource


class Metrics:
    """The metrics use case.

    Args:
        access: Rights and the audit trail.
        feed: Computes snapshots, or shares one per tenant and window per interval.
    """

    def __init__(self, access: Access, feed: MetricsSource) -> None:
        self.access = access
        self.feed = feed

    async def snapshot(
        self, caller: Caller, hours_back: int = 24, *, fresh: bool = True
    ) -> MetricsSnapshot:
        """The tenant's figures over the last `hours_back` hours; fresh unless asked
        for the shared snapshot of the current interval (live updates).

        Raises:
            Forbidden: The caller may not read.
            ValidationFailed: `hours_back` outside 1..8784.
        """
        await self.access.require(
            caller, Permission.READ, "metrics.read", resource_type="metrics"
        )
        return await self.feed.snapshot(caller.tenant_id, hours_back, fresh=fresh)

    async def series(
        self, caller: Caller, window: str = "24h", *, fresh: bool = True
    ) -> MetricsSeries:
        """The tenant's executions per interval of `window` (``1h``, ``24h``, ``7d``
        or ``30d``), its agents' outcomes and its queue now; fresh unless asked for
        the shared series of the current interval (live updates).

        Raises:
            Forbidden: The caller may not read.
            ValidationFailed: `window` is none of those (path ``window``).
        """
        await self.access.require(
            caller, Permission.READ, "metrics.read", resource_type="metrics"
        )
        chosen = series_window(window)
        return await self.feed.series(caller.tenant_id, chosen, fresh=fresh)
