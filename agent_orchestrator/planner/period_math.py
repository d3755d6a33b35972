"""Calendar arithmetic for periods the symbolic kinds do not name: "the last N weeks",
"toissa kuussa", half-years and ISO week numbers. Each gives a `PeriodSpec` (explicit
dates where no kind fits), so that every period still goes through `resolve_period`.
"""

from __future__ import annotations

import datetime as dt

from ..finnish import shift_months
from .model import PeriodKind, PeriodSpec

__all__ = ["before_last", "half_year", "iso_week", "last_whole", "relative_half"]


def last_whole(unit: str, count: int, reference: dt.date) -> PeriodSpec:
    """The `count` whole units before the current one."""
    count = min(count, 120)
    if unit == "month":
        return PeriodSpec(kind=PeriodKind.LAST_N_MONTHS, count=count)
    end = reference - dt.timedelta(days=1)
    if unit == "day":
        start = reference - dt.timedelta(days=count)
    elif unit == "week":
        monday = reference - dt.timedelta(days=reference.weekday())
        start, end = monday - dt.timedelta(weeks=count), monday - dt.timedelta(days=1)
    elif unit == "half":
        current = relative_half(reference, previous=False).start or reference
        start, end = shift_months(current, -6 * count), current - dt.timedelta(1)
    elif unit == "quarter":
        current = dt.date(reference.year, 3 * ((reference.month - 1) // 3) + 1, 1)
        start, end = shift_months(current, -3 * count), current - dt.timedelta(1)
    else:  # year
        start = dt.date(reference.year - count, 1, 1)
        end = dt.date(reference.year - 1, 12, 31)
    return PeriodSpec(kind=PeriodKind.EXPLICIT, start=start, end=end)


def before_last(unit: str, reference: dt.date) -> PeriodSpec:
    """ "toissa kuussa/vuonna/viikolla": the unit before the previous one, whole."""
    if unit in ("year", "fiscal"):
        return PeriodSpec(kind=PeriodKind.YEAR, year=reference.year - 2)
    if unit == "month":
        month = shift_months(reference, -2)
        return PeriodSpec(kind=PeriodKind.MONTH, month=month.month, year=month.year)
    if unit == "quarter":
        quarter = (reference.month - 1) // 3 + 1 - 2
        year = reference.year if quarter >= 1 else reference.year - 1
        return PeriodSpec(
            kind=PeriodKind.QUARTER, quarter=(quarter - 1) % 4 + 1, year=year
        )
    if unit == "half":
        previous = relative_half(reference, previous=True)
        assert previous.start is not None
        return relative_half(previous.start - dt.timedelta(days=1), previous=False)
    if unit == "day":
        day = reference - dt.timedelta(days=2)
        return PeriodSpec(kind=PeriodKind.EXPLICIT, start=day, end=day)
    monday = reference - dt.timedelta(days=reference.weekday() + 14)
    return PeriodSpec(
        kind=PeriodKind.EXPLICIT, start=monday, end=monday + dt.timedelta(days=6)
    )


def half_year(year: int, half: int) -> PeriodSpec:
    """The first (January-June) or second (July-December) half of `year`."""
    if half == 1:
        return PeriodSpec(
            kind=PeriodKind.EXPLICIT,
            start=dt.date(year, 1, 1),
            end=dt.date(year, 6, 30),
        )
    return PeriodSpec(
        kind=PeriodKind.EXPLICIT, start=dt.date(year, 7, 1), end=dt.date(year, 12, 31)
    )


def relative_half(reference: dt.date, *, previous: bool) -> PeriodSpec:
    """The previous half-year (whole), or the current one up to `reference`."""
    current = 1 if reference.month <= 6 else 2
    if previous:
        if current == 1:
            return half_year(reference.year - 1, 2)
        return half_year(reference.year, 1)
    start = half_year(reference.year, current).start
    return PeriodSpec(kind=PeriodKind.EXPLICIT, start=start, end=reference)


def iso_week(week: int, year: int | None, reference: dt.date) -> PeriodSpec:
    """ISO week `week` of `year`, Monday to Sunday; without a year, the latest such
    week that has begun.

    Raises:
        ValueError: The year has no such week (only some years have a week 53).
    """
    if year is None:
        year = reference.year
        if dt.date.fromisocalendar(year, min(week, 52), 1) > reference:
            year -= 1
    monday = dt.date.fromisocalendar(year, week, 1)
    return PeriodSpec(
        kind=PeriodKind.EXPLICIT, start=monday, end=monday + dt.timedelta(days=6)
    )
