"""The clocks schedules are counted with: the wall clock, and a scaled clock that
tests give several processes at once (``AGENT_TEST_CLOCK``)."""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass
from typing import Protocol

from .ids import utcnow


class SchedulerClock(Protocol):
    """Time as the scheduler sees it (a test clock replaces it)."""

    def now(self) -> dt.datetime:
        """The current time, aware UTC."""
        ...

    def seconds_until(self, moment: dt.datetime) -> float:
        """Real seconds to wait until `moment` (0 when it has come)."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> dt.datetime:
        """The current time, aware UTC."""
        return utcnow()

    def seconds_until(self, moment: dt.datetime) -> float:
        """Real seconds until `moment`."""
        return max((moment - utcnow()).total_seconds(), 0.0)


@dataclass(frozen=True, slots=True)
class ScaledClock:
    """A clock for tests that several processes share (``AGENT_TEST_CLOCK``): it read
    `origin` at the real Unix time `anchor` and runs `speed` times faster than real
    time, so that a test sees a month end or a DST night in seconds.

    Attributes:
        origin: The time it showed at `anchor`.
        anchor: A real Unix time.
        speed: How many of its seconds pass in a real second.
    """

    origin: dt.datetime
    anchor: float
    speed: float = 1.0

    @classmethod
    def parse(cls, text: str) -> ScaledClock:
        """``<ISO time>[,<Unix time>[,<speed>]]`` (anchor default: now; speed 1).

        Raises:
            ValueError: Not in that form.
        """
        parts = [p.strip() for p in text.split(",")]
        if not 1 <= len(parts) <= 3:
            raise ValueError("give <ISO time>[,<Unix time>[,<speed>]]")
        origin = dt.datetime.fromisoformat(parts[0])
        if origin.tzinfo is None:
            raise ValueError("the ISO time needs a UTC offset, e.g. Z or +00:00")
        anchor = float(parts[1]) if len(parts) > 1 else time.time()
        speed = float(parts[2]) if len(parts) > 2 else 1.0
        if not (math.isfinite(anchor) and math.isfinite(speed) and speed > 0):
            raise ValueError("the Unix time must be finite and the speed above 0")
        return cls(origin.astimezone(dt.UTC), anchor, speed)

    def now(self) -> dt.datetime:
        """`origin` plus the real time since `anchor`, times `speed`."""
        return self.origin + dt.timedelta(
            seconds=(time.time() - self.anchor) * self.speed
        )

    def seconds_until(self, moment: dt.datetime) -> float:
        """Real seconds until this clock shows `moment`."""
        return max((moment - self.now()).total_seconds() / self.speed, 0.0)
