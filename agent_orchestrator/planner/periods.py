"""Period words to dates: the one resolver both planners use.

A planner names a period symbolically (`PeriodSpec`); this module turns it into an
inclusive ``(start, end)`` pair against the request's reference date, following
DESIGN.md "Shipped templates":

- "viime/edellinen kuukausi" is the whole previous calendar month;
- "tämä/kuluva kuukausi/neljännes/vuosi" and "vuoden alusta" end on the reference date;
- a named month without a year is the latest such month that has begun, whole (a named
  quarter without a year likewise);
- "viimeiset N kuukautta" are the N whole calendar months before the current one;
- quarters are calendar quarters; "viime viikko" is the previous ISO week, Monday to
  Sunday; the fiscal year (tilikausi) is the calendar year.
"""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

from ..core.errors import PlanningFailed
from ..finnish import month_span, months_span, shift_months
from .model import PeriodKind, PeriodSpec

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ROLLING", "PeriodError", "resolve_period"]

_T = TypeVar("_T")


class PeriodError(PlanningFailed):
    """A period spec that names no real period (a missing field, start after end).

    Attributes:
        reason: A stable kind: ``missing_field`` or ``start_after_end``.
        field: The missing field, for ``missing_field``.
        start: The given start, for ``start_after_end``.
        end: The given end, for ``start_after_end``.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        field: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.field = field
        self.start = start
        self.end = end


#: The rolling periods a schedule's variables may name as ``${period.<name>.start}``
#: and ``${period.<name>.end}``, resolved when each run starts.
ROLLING: Mapping[str, PeriodKind] = MappingProxyType(
    {
        "previous_month": PeriodKind.PREVIOUS_MONTH,
        "previous_quarter": PeriodKind.PREVIOUS_QUARTER,
        "previous_year": PeriodKind.PREVIOUS_YEAR,
        "previous_week": PeriodKind.PREVIOUS_WEEK,
        "month_to_date": PeriodKind.CURRENT_MONTH,
        "year_to_date": PeriodKind.CURRENT_YEAR,
    }
)


def resolve_period(spec: PeriodSpec, reference: dt.date) -> tuple[dt.date, dt.date]:
    """The inclusive dates of `spec`, seen from `reference` ("today").

    Args:
        spec: The period in words.
        reference: The request's reference date.

    Returns:
        ``(start, end)`` with ``start <= end``.

    Raises:
        PeriodError: The spec lacks a field its kind needs (e.g. ``month`` for
            ``month``), or an explicit start is after its end.
    """
    kind = spec.kind
    if kind is PeriodKind.TODAY:
        return reference, reference
    if kind is PeriodKind.YESTERDAY:
        day = reference - dt.timedelta(days=1)
        return day, day
    if kind is PeriodKind.CURRENT_WEEK:
        return reference - dt.timedelta(days=reference.weekday()), reference
    if kind is PeriodKind.PREVIOUS_WEEK:
        monday = reference - dt.timedelta(days=reference.weekday() + 7)
        return monday, monday + dt.timedelta(days=6)
    if kind is PeriodKind.CURRENT_MONTH:
        return reference.replace(day=1), reference
    if kind is PeriodKind.PREVIOUS_MONTH:
        return month_span(shift_months(reference, -1))
    if kind is PeriodKind.MONTH:
        month = _require(spec.month, "month", kind)
        if spec.year is not None:
            return _month(spec.year, month)
        # The latest such month that has begun: this year's, or last year's.
        year = reference.year if month <= reference.month else reference.year - 1
        return _month(year, month)
    if kind is PeriodKind.MONTH_RANGE:
        first = _require(spec.month, "month", kind)
        last = _require(spec.to_month, "to_month", kind)
        # "marras-helmikuulta": a range may cross the turn of the year.
        span = (last - first) % 12 + 1
        if spec.year is not None:
            # `year` is the year of the range's last month.
            end_year = spec.year
        else:
            # The latest such range that has begun.
            begun = first <= reference.month
            start_year = reference.year if begun else reference.year - 1
            end_year = start_year + (1 if first > last else 0)
        end_month = dt.date(end_year, last, 1)
        start = shift_months(end_month, -(span - 1))
        return start.replace(day=1), month_span(end_month)[1]
    if kind is PeriodKind.LAST_N_MONTHS:
        count = _require(spec.count, "count", kind)
        return months_span(shift_months(reference, -count), count)
    if kind is PeriodKind.CURRENT_QUARTER:
        return _quarter(reference.year, _quarter_of(reference))[0], reference
    if kind is PeriodKind.PREVIOUS_QUARTER:
        quarter = _quarter_of(reference) - 1
        if quarter == 0:
            return _quarter(reference.year - 1, 4)
        return _quarter(reference.year, quarter)
    if kind is PeriodKind.QUARTER:
        quarter = _require(spec.quarter, "quarter", kind)
        if spec.year is not None:
            return _quarter(spec.year, quarter)
        current = _quarter_of(reference)
        year = reference.year if quarter <= current else reference.year - 1
        return _quarter(year, quarter)
    if kind is PeriodKind.CURRENT_YEAR:
        return dt.date(reference.year, 1, 1), reference
    if kind is PeriodKind.PREVIOUS_YEAR:
        return dt.date(reference.year - 1, 1, 1), dt.date(reference.year - 1, 12, 31)
    if kind is PeriodKind.YEAR:
        year = _require(spec.year, "year", kind)
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    # PeriodKind.EXPLICIT
    start = _require(spec.start, "start", kind)
    end = _require(spec.end, "end", kind)
    if start > end:
        raise PeriodError(
            f"the period starts on {start.isoformat()}, after its end "
            f"{end.isoformat()}; give the start date first",
            reason="start_after_end",
            start=start,
            end=end,
        )
    return start, end


def _require(value: _T | None, field: str, kind: PeriodKind) -> _T:
    if value is None:
        raise PeriodError(
            f"a period of kind '{kind.value}' needs '{field}'; give it or name "
            "another period",
            reason="missing_field",
            field=field,
        )
    return value


def _month(year: int, month: int) -> tuple[dt.date, dt.date]:
    return month_span(dt.date(year, month, 1))


def _quarter_of(day: dt.date) -> int:
    return (day.month - 1) // 3 + 1


def _quarter(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    return months_span(dt.date(year, 3 * (quarter - 1) + 1, 1), 3)
