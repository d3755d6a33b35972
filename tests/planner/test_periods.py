"""Period words resolve to the dates DESIGN.md "Shipped templates" fixes."""

from __future__ import annotations

import datetime as dt

import pytest

from agent_orchestrator.core.errors import PlanningFailed
from agent_orchestrator.planner.model import PeriodKind, PeriodSpec
from agent_orchestrator.planner.periods import PeriodError, resolve_period

D = dt.date
K = PeriodKind
REF = D(2026, 11, 24)  # a Tuesday

CASES: list[tuple[str, PeriodSpec, dt.date, tuple[dt.date, dt.date]]] = [
    ("today", PeriodSpec(kind=K.TODAY), REF, (REF, REF)),
    ("yesterday", PeriodSpec(kind=K.YESTERDAY), REF, (D(2026, 11, 23),) * 2),
    (
        "yesterday on 1 Jan",
        PeriodSpec(kind=K.YESTERDAY),
        D(2027, 1, 1),
        (D(2026, 12, 31),) * 2,
    ),
    (
        "yesterday on 1 Mar of a leap year",
        PeriodSpec(kind=K.YESTERDAY),
        D(2028, 3, 1),
        (D(2028, 2, 29),) * 2,
    ),
    ("this week", PeriodSpec(kind=K.CURRENT_WEEK), REF, (D(2026, 11, 23), REF)),
    (
        "this week on a Monday",
        PeriodSpec(kind=K.CURRENT_WEEK),
        D(2026, 11, 23),
        (D(2026, 11, 23), D(2026, 11, 23)),
    ),
    (
        "last week",
        PeriodSpec(kind=K.PREVIOUS_WEEK),
        REF,
        (D(2026, 11, 16), D(2026, 11, 22)),
    ),
    (
        "last week on a Sunday",
        PeriodSpec(kind=K.PREVIOUS_WEEK),
        D(2026, 11, 29),
        (D(2026, 11, 16), D(2026, 11, 22)),
    ),
    (
        "last week across the new year",
        PeriodSpec(kind=K.PREVIOUS_WEEK),
        D(2027, 1, 6),
        (D(2026, 12, 28), D(2027, 1, 3)),
    ),
    ("this month", PeriodSpec(kind=K.CURRENT_MONTH), REF, (D(2026, 11, 1), REF)),
    (
        "last month",
        PeriodSpec(kind=K.PREVIOUS_MONTH),
        REF,
        (D(2026, 10, 1), D(2026, 10, 31)),
    ),
    (
        "last month in January",
        PeriodSpec(kind=K.PREVIOUS_MONTH),
        D(2027, 1, 15),
        (D(2026, 12, 1), D(2026, 12, 31)),
    ),
    (
        "last month is a leap February",
        PeriodSpec(kind=K.PREVIOUS_MONTH),
        D(2028, 3, 31),
        (D(2028, 2, 1), D(2028, 2, 29)),
    ),
    (
        "last month is a common February",
        PeriodSpec(kind=K.PREVIOUS_MONTH),
        D(2027, 3, 1),
        (D(2027, 2, 1), D(2027, 2, 28)),
    ),
    (
        "named month begun this year",
        PeriodSpec(kind=K.MONTH, month=10),
        REF,
        (D(2026, 10, 1), D(2026, 10, 31)),
    ),
    (
        "named month is the current one, whole",
        PeriodSpec(kind=K.MONTH, month=11),
        REF,
        (D(2026, 11, 1), D(2026, 11, 30)),
    ),
    (
        "named month not yet begun is last year's",
        PeriodSpec(kind=K.MONTH, month=12),
        REF,
        (D(2025, 12, 1), D(2025, 12, 31)),
    ),
    (
        "January named in January",
        PeriodSpec(kind=K.MONTH, month=1),
        D(2027, 1, 1),
        (D(2027, 1, 1), D(2027, 1, 31)),
    ),
    (
        "February named in January",
        PeriodSpec(kind=K.MONTH, month=2),
        D(2027, 1, 1),
        (D(2026, 2, 1), D(2026, 2, 28)),
    ),
    (
        "month with year",
        PeriodSpec(kind=K.MONTH, month=6, year=2025),
        REF,
        (D(2025, 6, 1), D(2025, 6, 30)),
    ),
    (
        "leap February with year",
        PeriodSpec(kind=K.MONTH, month=2, year=2024),
        REF,
        (D(2024, 2, 1), D(2024, 2, 29)),
    ),
    (
        "February of a century year",
        PeriodSpec(kind=K.MONTH, month=2, year=2100),
        REF,
        (D(2100, 2, 1), D(2100, 2, 28)),
    ),
    (
        "February of 2000",
        PeriodSpec(kind=K.MONTH, month=2, year=2000),
        REF,
        (D(2000, 2, 1), D(2000, 2, 29)),
    ),
    (
        "last 3 months",
        PeriodSpec(kind=K.LAST_N_MONTHS, count=3),
        REF,
        (D(2026, 8, 1), D(2026, 10, 31)),
    ),
    (
        "last month as last 1 months",
        PeriodSpec(kind=K.LAST_N_MONTHS, count=1),
        REF,
        (D(2026, 10, 1), D(2026, 10, 31)),
    ),
    (
        "last 3 months in February",
        PeriodSpec(kind=K.LAST_N_MONTHS, count=3),
        D(2027, 2, 10),
        (D(2026, 11, 1), D(2027, 1, 31)),
    ),
    (
        "last 12 months",
        PeriodSpec(kind=K.LAST_N_MONTHS, count=12),
        REF,
        (D(2025, 11, 1), D(2026, 10, 31)),
    ),
    (
        "last 24 months",
        PeriodSpec(kind=K.LAST_N_MONTHS, count=24),
        D(2026, 1, 5),
        (D(2024, 1, 1), D(2025, 12, 31)),
    ),
    ("this quarter", PeriodSpec(kind=K.CURRENT_QUARTER), REF, (D(2026, 10, 1), REF)),
    (
        "this quarter on its first day",
        PeriodSpec(kind=K.CURRENT_QUARTER),
        D(2026, 7, 1),
        (D(2026, 7, 1), D(2026, 7, 1)),
    ),
    (
        "last quarter",
        PeriodSpec(kind=K.PREVIOUS_QUARTER),
        REF,
        (D(2026, 7, 1), D(2026, 9, 30)),
    ),
    (
        "last quarter in January",
        PeriodSpec(kind=K.PREVIOUS_QUARTER),
        D(2027, 1, 20),
        (D(2026, 10, 1), D(2026, 12, 31)),
    ),
    (
        "last quarter on 31 March",
        PeriodSpec(kind=K.PREVIOUS_QUARTER),
        D(2026, 3, 31),
        (D(2025, 10, 1), D(2025, 12, 31)),
    ),
    (
        "last quarter on 1 April",
        PeriodSpec(kind=K.PREVIOUS_QUARTER),
        D(2026, 4, 1),
        (D(2026, 1, 1), D(2026, 3, 31)),
    ),
    (
        "Q1 of a leap year",
        PeriodSpec(kind=K.QUARTER, quarter=1, year=2028),
        REF,
        (D(2028, 1, 1), D(2028, 3, 31)),
    ),
    (
        "Q2 2025",
        PeriodSpec(kind=K.QUARTER, quarter=2, year=2025),
        REF,
        (D(2025, 4, 1), D(2025, 6, 30)),
    ),
    (
        "Q3 without a year",
        PeriodSpec(kind=K.QUARTER, quarter=3),
        REF,
        (D(2026, 7, 1), D(2026, 9, 30)),
    ),
    (
        "Q4 without a year, begun",
        PeriodSpec(kind=K.QUARTER, quarter=4),
        REF,
        (D(2026, 10, 1), D(2026, 12, 31)),
    ),
    (
        "Q4 without a year in February is last year's",
        PeriodSpec(kind=K.QUARTER, quarter=4),
        D(2027, 2, 1),
        (D(2026, 10, 1), D(2026, 12, 31)),
    ),
    (
        "Q1 without a year in February",
        PeriodSpec(kind=K.QUARTER, quarter=1),
        D(2027, 2, 1),
        (D(2027, 1, 1), D(2027, 3, 31)),
    ),
    ("this year", PeriodSpec(kind=K.CURRENT_YEAR), REF, (D(2026, 1, 1), REF)),
    (
        "this year on 1 January",
        PeriodSpec(kind=K.CURRENT_YEAR),
        D(2027, 1, 1),
        (D(2027, 1, 1), D(2027, 1, 1)),
    ),
    (
        "last year",
        PeriodSpec(kind=K.PREVIOUS_YEAR),
        REF,
        (D(2025, 1, 1), D(2025, 12, 31)),
    ),
    (
        "last year on 31 December",
        PeriodSpec(kind=K.PREVIOUS_YEAR),
        D(2026, 12, 31),
        (D(2025, 1, 1), D(2025, 12, 31)),
    ),
    (
        "a named year",
        PeriodSpec(kind=K.YEAR, year=2024),
        REF,
        (D(2024, 1, 1), D(2024, 12, 31)),
    ),
    (
        "explicit",
        PeriodSpec(kind=K.EXPLICIT, start=D(2026, 9, 1), end=D(2026, 9, 15)),
        REF,
        (D(2026, 9, 1), D(2026, 9, 15)),
    ),
    (
        "explicit one day",
        PeriodSpec(kind=K.EXPLICIT, start=REF, end=REF),
        REF,
        (REF, REF),
    ),
    (
        "explicit across years",
        PeriodSpec(kind=K.EXPLICIT, start=D(2025, 12, 15), end=D(2026, 1, 15)),
        REF,
        (D(2025, 12, 15), D(2026, 1, 15)),
    ),
]


@pytest.mark.parametrize(
    ("spec", "reference", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_resolve_period(
    spec: PeriodSpec, reference: dt.date, expected: tuple[dt.date, dt.date]
) -> None:
    assert resolve_period(spec, reference) == expected


@pytest.mark.parametrize("reference", [D(2026, 1, 1), D(2028, 2, 29), D(2026, 12, 31)])
@pytest.mark.parametrize("kind", list(PeriodKind))
def test_every_period_is_ordered_and_whole_where_promised(
    kind: PeriodKind, reference: dt.date
) -> None:
    spec = PeriodSpec(
        kind=kind,
        month={K.MONTH: 2, K.MONTH_RANGE: 11}.get(kind),
        to_month=2 if kind is K.MONTH_RANGE else None,
        quarter=1 if kind is K.QUARTER else None,
        count=2 if kind is K.LAST_N_MONTHS else None,
        year=2024 if kind is K.YEAR else None,
        start=D(2026, 1, 1) if kind is K.EXPLICIT else None,
        end=D(2026, 1, 31) if kind is K.EXPLICIT else None,
    )
    start, end = resolve_period(spec, reference)
    assert start <= end
    if kind.value.startswith("current") or kind is K.TODAY:
        assert end == reference
    if kind in (K.PREVIOUS_MONTH, K.MONTH, K.LAST_N_MONTHS, K.MONTH_RANGE):
        assert start.day == 1
        assert (end + dt.timedelta(days=1)).day == 1
    if kind is K.PREVIOUS_WEEK:
        assert start.isoweekday() == 1 and end.isoweekday() == 7


def test_explicit_start_after_end_is_refused_with_both_dates() -> None:
    spec = PeriodSpec(kind=K.EXPLICIT, start=D(2026, 9, 15), end=D(2026, 9, 1))
    with pytest.raises(PlanningFailed, match="2026-09-15.*2026-09-01") as caught:
        resolve_period(spec, REF)
    assert isinstance(caught.value, PeriodError)
    assert caught.value.reason == "start_after_end"


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (PeriodSpec(kind=K.MONTH), "month"),
        (PeriodSpec(kind=K.QUARTER, year=2026), "quarter"),
        (PeriodSpec(kind=K.LAST_N_MONTHS), "count"),
        (PeriodSpec(kind=K.YEAR), "year"),
        (PeriodSpec(kind=K.EXPLICIT, end=REF), "start"),
        (PeriodSpec(kind=K.EXPLICIT, start=REF), "end"),
    ],
)
def test_a_missing_field_is_named(spec: PeriodSpec, field: str) -> None:
    with pytest.raises(PeriodError, match=f"needs '{field}'") as caught:
        resolve_period(spec, REF)
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


def test_out_of_range_fields_are_refused_by_the_spec() -> None:
    with pytest.raises(ValueError, match="month"):
        PeriodSpec(kind=K.MONTH, month=13)
    with pytest.raises(ValueError, match="quarter"):
        PeriodSpec(kind=K.QUARTER, quarter=5)


@pytest.mark.parametrize(
    ("first", "last", "year", "reference", "expected"),
    [
        (9, 10, None, D(2026, 11, 24), (D(2026, 9, 1), D(2026, 10, 31))),
        (1, 3, None, D(2026, 4, 2), (D(2026, 1, 1), D(2026, 3, 31))),
        # Begun but not ended: still this year's range.
        (3, 5, None, D(2026, 4, 2), (D(2026, 3, 1), D(2026, 5, 31))),
        # Not begun yet: last year's.
        (6, 8, None, D(2026, 4, 2), (D(2025, 6, 1), D(2025, 8, 31))),
        # Across the turn of the year; `year` is that of the last month.
        (11, 2, None, D(2026, 4, 2), (D(2025, 11, 1), D(2026, 2, 28))),
        (11, 2, 2028, D(2026, 4, 2), (D(2027, 11, 1), D(2028, 2, 29))),
    ],
)
def test_a_range_of_months_is_whole_months_from_first_to_last(
    first: int,
    last: int,
    year: int | None,
    reference: dt.date,
    expected: tuple[dt.date, dt.date],
) -> None:
    spec = PeriodSpec(kind=K.MONTH_RANGE, month=first, to_month=last, year=year)
    assert resolve_period(spec, reference) == expected
