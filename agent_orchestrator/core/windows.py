"""The windows of the metrics series (``1h``, ``24h``, ``7d``, ``30d``), each cut into
intervals that follow the clock in Helsinki: minutes, hours, quarter days (00, 06, 12
and 18 o'clock) and calendar days.

Minutes and hours are cut in UTC, which is the same thing there (Helsinki is a whole
number of hours from UTC); quarter days and days are cut on the local wall clock, so
that a day's bucket runs from midnight to midnight also on the days the clocks turn
(23 or 25 hours long).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .errors import Problem, ValidationFailed

__all__ = ["SERIES_WINDOWS", "ZONE", "SeriesWindow", "series_window"]

#: The clock the buckets follow (the product's users are in Finland).
ZONE = ZoneInfo("Europe/Helsinki")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SeriesWindow:
    """A window of the metrics series.

    Attributes:
        name: As the API takes it, e.g. ``24h``.
        interval: The nominal length of one bucket.
        buckets: How many buckets; the last one holds the present moment.
    """

    name: str
    interval: dt.timedelta
    buckets: int

    def bucket_starts(self, now: dt.datetime) -> list[dt.datetime]:
        """Where each bucket begins, oldest first, as aware UTC times; the last
        bucket is the one that holds `now` (an aware time)."""
        if self.interval <= _HOUR:
            current = now - (now - _EPOCH) % self.interval
            starts = [current - k * self.interval for k in range(self.buckets)]
        else:
            # Whole hours on the wall clock: naive arithmetic, then the zone's offset
            # of each start (00/06/12/18 o'clock never fall in a skipped hour here).
            hours = int(self.interval / _HOUR)
            local = now.astimezone(ZONE).replace(tzinfo=None)
            current = local.replace(
                hour=local.hour - local.hour % hours, minute=0, second=0, microsecond=0
            )
            starts = [
                (current - k * self.interval).replace(tzinfo=ZONE)
                for k in range(self.buckets)
            ]
        return [start.astimezone(dt.UTC) for start in reversed(starts)]


#: The windows the API offers, by name.
SERIES_WINDOWS: dict[str, SeriesWindow] = {
    w.name: w
    for w in (
        SeriesWindow("1h", dt.timedelta(minutes=1), 60),
        SeriesWindow("24h", dt.timedelta(hours=1), 24),
        SeriesWindow("7d", dt.timedelta(hours=6), 28),
        SeriesWindow("30d", dt.timedelta(days=1), 30),
    )
}


def series_window(name: str) -> SeriesWindow:
    """The window called `name`.

    Raises:
        ValidationFailed: `name` is none of `SERIES_WINDOWS` (the problem's path is
            ``window`` and its message lists the windows there are).
    """
    found = SERIES_WINDOWS.get(name)
    if found is None:
        names = ", ".join(SERIES_WINDOWS)
        raise ValidationFailed(
            [Problem("window", f"unknown window: use one of {names}", "bad_window")]
        )
    return found
