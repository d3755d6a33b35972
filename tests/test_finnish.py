"""Finnish formats and month arithmetic (`agent_orchestrator.finnish`), checked against
figures written out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from agent_orchestrator import finnish

D = dt.date
NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "signed", "shown"),
    [
        (Decimal("1234.5"), False, "1 234,50 €"),
        (Decimal("1234567.891"), False, "1 234 567,89 €"),
        (Decimal("0"), False, "0,00 €"),
        (Decimal("-5"), False, "-5,00 €"),
        # Half up, as bookkeeping rounds (Babel alone rounds half to even).
        (Decimal("0.125"), False, "0,13 €"),
        (Decimal("2.675"), False, "2,68 €"),
        (Decimal("1234.56"), True, "+1 234,56 €"),
        (Decimal("-1234.56"), True, "-1 234,56 €"),
        (Decimal("0.001"), True, "0,00 €"),
        (12.5, False, "12,50 €"),
    ],
)
def test_euros(amount: Decimal | float, signed: bool, shown: str) -> None:
    assert finnish.euros(amount, signed=signed) == shown.replace(" ", NBSP)


def test_whole_euros_for_a_chart_axis() -> None:
    assert finnish.whole_euros(12_500.4) == f"12{NBSP}500{NBSP}€"
    assert finnish.whole_euros(0) == f"0{NBSP}€"


@pytest.mark.parametrize(
    ("value", "decimals", "signed", "shown"),
    [
        (Decimal("25.5"), None, False, "25,5 %"),
        (Decimal("14.00"), None, False, "14 %"),
        (Decimal("13.5"), None, False, "13,5 %"),
        (Decimal("0"), None, False, "0 %"),
        (Decimal("12.46"), 1, True, "+12,5 %"),
        (Decimal("-3"), 1, True, "-3,0 %"),
        (Decimal("1234.5"), 1, False, "1 234,5 %"),
        (None, 1, True, "–"),
    ],
)
def test_percent(
    value: Decimal | None, decimals: int | None, signed: bool, shown: str
) -> None:
    assert finnish.percent(value, decimals=decimals, signed=signed) == shown.replace(
        " ", NBSP
    )


def test_dates_and_periods() -> None:
    assert finnish.date(D(2026, 10, 1)) == "1.10.2026"
    assert finnish.period(D(2026, 10, 1), D(2026, 10, 31)) == "1.10.2026–31.10.2026"
    assert finnish.period(D(2026, 11, 24), D(2026, 11, 24)) == "24.11.2026"


def test_month_arithmetic_stays_in_the_month() -> None:
    assert finnish.shift_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert finnish.shift_months(D(2024, 3, 31), -1) == D(2024, 2, 29)
    assert finnish.shift_months(D(2026, 1, 15), -13) == D(2024, 12, 15)
    assert finnish.month_span(D(2024, 2, 10)) == (D(2024, 2, 1), D(2024, 2, 29))
    assert finnish.months_span(D(2026, 11, 20), 3) == (D(2026, 11, 1), D(2027, 1, 31))
