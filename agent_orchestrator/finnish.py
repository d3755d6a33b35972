"""Finnish formats for people and the month arithmetic of periods, in one place.

Money, percentages and dates are written the way Finnish books and the Finnish tax
administration write them, through Babel's CLDR data for ``fi_FI``: ``1 234,50 €``
with a no-break space (U+00A0) between digit groups and before the sign, ``25,5 %``,
``1.10.2026``. The minus is the ASCII hyphen-minus, not CLDR's U+2212, so that the
figures stay easy to search and to paste into a spreadsheet. Amounts are rounded half
up to cents first, as bookkeeping rounds (Babel alone would round half to even).

Months are counted with `dateutil.relativedelta`, which keeps the day of the month
within the month (31 January plus one month is 28 or 29 February).

Machine formats (CSV, JSON) do not come here: they keep plain ``1234.50``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from dateutil.relativedelta import relativedelta

if TYPE_CHECKING:
    import datetime as dt

__all__ = [
    "NBSP",
    "date",
    "euros",
    "month_span",
    "months_span",
    "percent",
    "period",
    "shift_months",
    "whole_euros",
]

NBSP = "\u00a0"
LOCALE = "fi_FI"
CENT = Decimal("0.01")
_DATE_PATTERN = "d.M.y"


def _cents(amount: Decimal | float) -> Decimal:
    return Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)


def euros(amount: Decimal | float, *, signed: bool = False) -> str:
    """Euros with cents: ``1 234,50 €``, ``-5,00 €``; ``+1 234,50 €`` when `signed`
    and above zero (a change)."""
    rounded = _cents(amount)
    text = format_currency(abs(rounded), "EUR", locale=LOCALE)
    return _sign(rounded, signed) + text


def whole_euros(amount: Decimal | float) -> str:
    """Whole euros for a chart's axis: ``12 500 €``."""
    rounded = Decimal(str(amount)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    text = format_currency(
        abs(rounded),
        "EUR",
        format=f"#,##0{NBSP}¤",
        locale=LOCALE,
        currency_digits=False,
    )
    return _sign(rounded, False) + text


def percent(
    value: Decimal | float | None, *, decimals: int | None = None, signed: bool = False
) -> str:
    """A percentage: ``25,5 %`` (a VAT rate, as many decimals as it has), or with
    exactly `decimals` decimals (``+12,5 %`` for a change when `signed`); ``–`` for
    None (no figure to compare with)."""
    if value is None:
        return "–"
    number = Decimal(str(value))
    if decimals is None:
        pattern = "#,##0.##########"
    else:
        number = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    text = format_decimal(abs(number), format=pattern, locale=LOCALE)
    return f"{_sign(number, signed)}{text}{NBSP}%"


def date(day: dt.date) -> str:
    """A date the Finnish way: ``1.10.2026``."""
    return str(format_date(day, format=_DATE_PATTERN, locale=LOCALE))


def period(start: dt.date, end: dt.date) -> str:
    """An inclusive period: ``1.10.2026–31.10.2026`` (with an en dash); one date when
    it is a single day."""
    if start == end:
        return date(start)
    return f"{date(start)}–{date(end)}"


def shift_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by `months` calendar months, kept within the month it lands in."""
    return day + relativedelta(months=months)


def month_span(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the month `day` is in."""
    return day.replace(day=1), day + relativedelta(day=31)


def months_span(first: dt.date, count: int) -> tuple[dt.date, dt.date]:
    """The first and last day of `count` whole months, starting with `first`'s."""
    start = first.replace(day=1)
    return start, start + relativedelta(months=count - 1, day=31)


def _sign(value: Decimal, signed: bool) -> str:
    if value < 0:
        return "-"
    return "+" if signed and value > 0 else ""
