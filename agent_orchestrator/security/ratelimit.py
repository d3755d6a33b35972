"""Per-key rate limiting with the `limits` library (moving window).

The window lives in memory (one process) or in Redis (shared by every process). If the
store cannot be reached, requests are let through and the failure is logged and counted:
an outage of the limiter must never turn into errors for callers (SECURITY.md).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from ..core.errors import RateLimited

if TYPE_CHECKING:
    from ..core.auth import Principal

log = logging.getLogger("agent_orchestrator.security")
_WARN_EVERY_S = 30.0


class RateLimiter:
    """Counts each key's requests against ``AGENT_RATE_LIMIT``.

    Attributes:
        failures: How many checks were let through because the store failed.
    """

    def __init__(self, rate: str, storage: str = "memory") -> None:
        self.item = parse(rate)
        uri = "async+memory://" if storage == "memory" else f"async+{storage}"
        self.storage = storage_from_string(uri)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.failures = 0
        self._warned = 0.0

    async def check(self, principal: Principal) -> None:
        """Count one request of `principal`.

        Raises:
            RateLimited: The key is over its rate; says when to retry.
        """
        key = principal.key_id or f"tenant:{principal.tenant_id}"
        try:
            if await self.limiter.hit(self.item, "api", key):
                return
            stats = await self.limiter.get_window_stats(self.item, "api", key)
        except Exception as exc:
            self.failures += 1
            now = time.monotonic()
            if now - self._warned > _WARN_EVERY_S:
                self._warned = now
                log.warning(
                    "rate limit store unreachable (%s); letting requests through", exc
                )
            return
        retry_after = max(stats.reset_time - time.time(), 0.0)
        raise RateLimited(
            f"rate limit of {self.item} for this API key reached; retry in "
            f"{retry_after:.0f} s",
            retry_after_s=retry_after,
        )
