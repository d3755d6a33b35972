"""Per-key rate limiting over a moving window: ``AGENT_RATE_LIMIT=600/minute`` allows
at most 600 requests of one key in any 60 seconds. Failed authentications are limited
per client address the same way (`AuthFailures`, ``AGENT_AUTH_FAILURE_LIMIT``).

The window lives in this process (`MovingWindow`) or in Redis, shared by every process
(the `limits` library's moving window). If Redis cannot be reached, requests are let
through and the failure is logged and counted: an outage of the limiter must never turn
into errors for callers (SECURITY.md).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from ..core.errors import RateLimited

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..core.auth import Principal

log = logging.getLogger("agent_orchestrator.security")
_WARN_EVERY_S = 30.0


class MovingWindow:
    """An exact moving-window limit in memory: each key's last `limit` request times.

    A request is allowed when fewer than `limit` requests of its key fall in the last
    `window_s` seconds. One check is a deque append and a comparison. (The `limits`
    library's in-memory store inserts at the front of a list per hit, O(limit), and
    hands its expiry to a thread and a new task after every hit; it cost the request
    path 10 to 50 µs a request, more as the limit grows.)

    Args:
        limit: Requests allowed per window (at least 1).
        window_s: The window's length in seconds.
        clock: Monotonic seconds (tests give their own).
    """

    def __init__(
        self,
        limit: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("a rate limit needs a count of at least 1 and a period")
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._times: dict[str, deque[float]] = {}
        self._swept = clock()

    def hit(self, key: str) -> float | None:
        """Count one request of `key`.

        Returns:
            None when it is allowed, else the seconds until it would be (nothing is
            counted for a refused request).
        """
        now = self.clock()
        if now - self._swept > self.window_s:
            self._sweep(now)
        times = self._times.get(key)
        if times is None:
            times = self._times[key] = deque(maxlen=self.limit)
        elif len(times) == self.limit and times[0] > now - self.window_s:
            return times[0] + self.window_s - now
        times.append(now)  # a full deque drops its oldest time, now out of the window
        return None

    def peek(self, key: str) -> float | None:
        """Like `hit`, without counting: None when a request would be allowed now."""
        now = self.clock()
        times = self._times.get(key)
        if times is None or len(times) < self.limit or times[0] <= now - self.window_s:
            return None
        return times[0] + self.window_s - now

    def count(self, key: str) -> int:
        """How many requests of `key` fall in the current window."""
        horizon = self.clock() - self.window_s
        return sum(1 for t in self._times.get(key, ()) if t > horizon)

    def __len__(self) -> int:
        """How many keys have requests in the current window (or the last one)."""
        return len(self._times)

    def _sweep(self, now: float) -> None:
        """Forget keys whose newest request left the window (bounds the memory)."""
        self._swept = now
        horizon = now - self.window_s
        idle = [key for key, times in self._times.items() if times[-1] <= horizon]
        for key in idle:
            del self._times[key]


class RateLimiter:
    """Counts each key's requests against ``AGENT_RATE_LIMIT``.

    Args:
        rate: ``COUNT/PERIOD`` (``600/minute``).
        storage: ``memory`` (this process) or a Redis URL (shared by every process).

    Attributes:
        failures: How many checks were let through because the shared store failed.
    """

    def __init__(self, rate: str, storage: str = "memory") -> None:
        self.item = parse(rate)
        self.failures = 0
        self._warned = 0.0
        self.memory: MovingWindow | None = None
        self.shared: MovingWindowRateLimiter | None = None
        if storage == "memory":
            self.memory = MovingWindow(self.item.amount, self.item.get_expiry())
        else:
            self.shared = MovingWindowRateLimiter(
                storage_from_string(f"async+{storage}")
            )

    async def check(self, principal: Principal) -> None:
        """Count one request of `principal`.

        Raises:
            RateLimited: The key is over its rate; says when to retry.
        """
        key = principal.key_id or f"tenant:{principal.tenant_id}"
        if self.memory is not None:
            retry_after = self.memory.hit(key)
        else:
            retry_after = await self._shared_hit(key)
        if retry_after is not None:
            raise RateLimited(
                f"rate limit of {self.item} for this API key reached; retry in "
                f"{retry_after:.0f} s",
                retry_after_s=retry_after,
            )

    async def _shared_hit(self, key: str) -> float | None:
        assert self.shared is not None
        try:
            if await self.shared.hit(self.item, "api", key):
                return None
            stats = await self.shared.get_window_stats(self.item, "api", key)
        except Exception as exc:
            self.failures += 1
            now = time.monotonic()
            if now - self._warned > _WARN_EVERY_S:
                self._warned = now
                log.warning(
                    "rate limit store unreachable (%s); letting requests through", exc
                )
            return None
        return max(stats.reset_time - time.time(), 0.0)


@dataclass(frozen=True, slots=True)
class FailureReport:
    """What the audit trail records of failed authentications from one address.

    Attributes:
        address: The client address.
        attempts: Failures from it in the current window so far.
        window_s: The window's length.
        limited: True when `attempts` reached the limit: more are refused with 429.
    """

    address: str
    attempts: int
    window_s: float
    limited: bool

    @property
    def reason(self) -> str:
        """The audit entry's reason."""
        window = f"{self.window_s:.0f} s"
        if self.limited:
            return (
                f"{self.attempts} failed attempts from {self.address} in {window}; "
                f"more are refused (429) until the window has room"
            )
        return f"failed authentication from {self.address} (first in {window})"


class AuthFailures:
    """Failed authentications per client address (``AGENT_AUTH_FAILURE_LIMIT``): over
    the limit, an address is refused before its key is looked at (no database query),
    and the audit trail gets one entry for its first failure with each tenant's keys
    (or with keys that are not ours) in a window, and one when it reaches the limit,
    with the count, instead of one per attempt.

    Args:
        rate: ``COUNT/PERIOD`` (``20/minute``).
        clock: Monotonic seconds (tests give their own).
    """

    def __init__(self, rate: str, clock: Callable[[], float] = time.monotonic) -> None:
        item = parse(rate)
        self.limit = item.amount
        self.window_s = float(item.get_expiry())
        self.window = MovingWindow(self.limit, self.window_s, clock)
        self.clock = clock
        # Per tenant and address, only to tell the first failure of a window.
        self.firsts = MovingWindow(1, self.window_s, clock)
        self._limited_at: dict[str, float] = {}

    def refused(self, address: str) -> RateLimited | None:
        """The refusal of an address over its failure limit (None: let it try)."""
        retry_after = self.window.peek(address)
        if retry_after is None:
            return None
        return RateLimited(
            f"too many failed authentications from this address ({self.limit} in "
            f"{self.window_s:.0f} s); retry in {retry_after:.0f} s with a valid key",
            retry_after_s=retry_after,
        )

    def failed(self, address: str, tenant_id: str | None) -> FailureReport | None:
        """Count one failure of `address` with a key of `tenant_id` (None: not a key
        of ours).

        Returns:
            What to audit now, else None: the first failure of this address with
            this tenant's keys in the window, or the one that reached the limit
            (once a window, though a steady prober meets it again each time one of
            its old failures leaves the window).
        """
        self.window.hit(address)
        attempts = self.window.count(address)
        if attempts >= self.limit:
            now = self.clock()
            if now - self._limited_at.get(address, -self.window_s) >= self.window_s:
                if len(self._limited_at) > 10_000:
                    horizon = now - self.window_s
                    self._limited_at = {
                        a: t for a, t in self._limited_at.items() if t > horizon
                    }
                self._limited_at[address] = now
                return FailureReport(address, attempts, self.window_s, limited=True)
        if self.firsts.hit(f"{tenant_id or ''}\x00{address}") is None:
            return FailureReport(address, attempts, self.window_s, limited=False)
        return None
