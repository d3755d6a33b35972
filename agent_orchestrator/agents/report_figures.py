"""The figures of a financial report, computed from ledger entries (pure functions).

Conventions (the same in every format):

- **Net of VAT.** *Income* is the sum of the period's INCOME entries (sales) without
  their VAT (``gross - sum(line.vat)``). *Expenses* is the sum of its EXPENSE entries
  (receipts, purchase invoices) without their deductible VAT: the VAT of a category the
  chart of accounts marks non-deductible (entertainment, AVL 114 §) is a cost and stays
  in the expense. An entry without VAT lines counts wholly as net. The *result* is
  ``income - expenses``.
- **VAT** is `vat.compute_vat`'s, so the report and the VAT report agree: *sales VAT*
  is the VAT of the income entries, *deductible VAT* that of the deductible expense
  entries, and *payable* is ``sales VAT - deductible VAT`` (negative: a refund). The
  per-rate table sums the VAT lines as printed; an entry without lines is at rate 0.
- **Comparison period.** A period made of whole calendar months (a month, a quarter, a
  year, or any run of whole months) is compared with the same number of whole months
  just before it (so October with September, Q3 with Q2, 2026 with 2025); any other
  period with the same number of days just before it. A change is ``current -
  previous`` in euros and, when the previous figure is not zero, in percent of the
  previous figure's absolute value.

Amounts are `Decimal` euros with two decimals; percentages have one decimal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from .. import finnish
from ..core.bookkeeping import EntryKind
from .vat import compute_vat

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from ..core.bookkeeping import LedgerEntry
    from .categorizer import Chart

ZERO = Decimal("0.00")
TENTH = Decimal("0.1")


@dataclass(frozen=True, slots=True)
class Period:
    """An inclusive range of dates."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        """How many days the period covers."""
        return (self.end - self.start).days + 1

    def label(self) -> str:
        """The period the Finnish way, e.g. ``1.10.2026–31.10.2026``."""
        return finnish.period(self.start, self.end)


@dataclass(frozen=True, slots=True)
class Totals:
    """The headline figures of one period."""

    income: Decimal = ZERO
    expenses: Decimal = ZERO
    sales_vat: Decimal = ZERO
    deductible_vat: Decimal = ZERO
    non_deductible_vat: Decimal = ZERO
    entries: int = 0

    @property
    def result(self) -> Decimal:
        """Income minus expenses (net of VAT)."""
        return self.income - self.expenses

    @property
    def vat_payable(self) -> Decimal:
        """Sales VAT minus deductible VAT; negative when VAT is refunded."""
        return self.sales_vat - self.deductible_vat

    def figure(self, name: str) -> Decimal:
        """One of `TOTAL_NAMES` by name."""
        value: Decimal = getattr(self, name)
        return value


#: The totals every format shows, in order.
TOTAL_NAMES = (
    "income",
    "expenses",
    "result",
    "sales_vat",
    "deductible_vat",
    "vat_payable",
)


@dataclass(frozen=True, slots=True)
class Change:
    """A figure against the comparison period."""

    current: Decimal
    previous: Decimal

    @property
    def amount(self) -> Decimal:
        """``current - previous`` in euros."""
        return self.current - self.previous

    @property
    def percent(self) -> Decimal | None:
        """The change in percent of the previous figure; None when that is zero."""
        if self.previous == 0:
            return None
        ratio = self.amount * 100 / abs(self.previous)
        return ratio.quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class CategoryLine:
    """The expenses of one category in the period and in the comparison period."""

    category: str
    name_fi: str
    name_en: str
    accounts: tuple[str, ...]
    current: Decimal
    previous: Decimal
    entries: int

    @property
    def change(self) -> Change:
        """The change against the comparison period."""
        return Change(self.current, self.previous)

    def name(self, language: str) -> str:
        """The category's name in `language` (``fi`` or ``en``)."""
        return self.name_en if language == "en" else self.name_fi


@dataclass(frozen=True, slots=True)
class VatRateLine:
    """The VAT of one rate in the period: sales and purchases, net and VAT."""

    rate: Decimal
    sales_net: Decimal = ZERO
    sales_vat: Decimal = ZERO
    purchases_net: Decimal = ZERO
    purchases_vat: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class FinancialReport:
    """Everything a financial report shows, ready to render."""

    period: Period
    previous_period: Period
    totals: Totals
    previous_totals: Totals
    expenses_by_category: tuple[CategoryLine, ...]
    vat_rates: tuple[VatRateLine, ...]

    def change(self, name: str) -> Change:
        """The change of one of `TOTAL_NAMES` against the comparison period."""
        return Change(self.totals.figure(name), self.previous_totals.figure(name))


def previous_period(period: Period) -> Period:
    """The comparison period of equal length just before `period` (module docstring).

    Example:
        >>> previous_period(Period(dt.date(2026, 7, 1), dt.date(2026, 9, 30)))
        Period(start=datetime.date(2026, 4, 1), end=datetime.date(2026, 6, 30))
    """
    months = whole_months(period)
    if months is not None:
        return Period(
            *finnish.months_span(finnish.shift_months(period.start, -months), months)
        )
    end = period.start - dt.timedelta(days=1)
    return Period(end - dt.timedelta(days=period.days - 1), end)


def whole_months(period: Period) -> int | None:
    """How many whole calendar months `period` is, or None if it is not whole months."""
    start, end = period.start, period.end
    if start.day != 1 or end != finnish.month_span(end)[1]:
        return None
    return (end.year - start.year) * 12 + end.month - start.month + 1


def net_amount(entry: LedgerEntry) -> Decimal:
    """The entry's amount without VAT: gross minus the VAT of its lines."""
    return entry.gross - sum((line.vat for line in entry.vat_lines), ZERO)


def is_deductible(entry: LedgerEntry, chart: Chart) -> bool:
    """Whether the entry's purchase VAT may be deducted (as `vat.compute_vat` decides:
    unless the chart marks its category non-deductible)."""
    category = chart.get(entry.category)
    return category is None or category.vat_deductible


def expense_amount(entry: LedgerEntry, chart: Chart) -> Decimal:
    """An expense entry's cost: without its VAT when that is deductible, else gross."""
    return net_amount(entry) if is_deductible(entry, chart) else entry.gross


def compute_totals(entries: Sequence[LedgerEntry], chart: Chart) -> Totals:
    """The headline figures of `entries` (module docstring for the convention)."""
    vat = compute_vat(entries, chart)
    income = sum((net_amount(e) for e in entries if e.kind == EntryKind.INCOME), ZERO)
    expenses = sum(
        (expense_amount(e, chart) for e in entries if e.kind == EntryKind.EXPENSE),
        ZERO,
    )
    return Totals(
        income=income,
        expenses=expenses,
        sales_vat=vat.sales_vat,
        deductible_vat=vat.deductible_vat,
        non_deductible_vat=vat.non_deductible_vat,
        entries=len(entries),
    )


def vat_by_rate(
    entries: Sequence[LedgerEntry], chart: Chart
) -> tuple[VatRateLine, ...]:
    """Sales and purchases per VAT rate, highest rate first (`vat.compute_vat`)."""
    return tuple(
        VatRateLine(
            rate=row.rate,
            sales_net=row.sales_net,
            sales_vat=row.sales_vat,
            purchases_net=row.purchases_net,
            purchases_vat=row.purchases_vat,
        )
        for row in compute_vat(entries, chart).rates
    )


def expenses_by_category(
    entries: Iterable[LedgerEntry], previous: Iterable[LedgerEntry], chart: Chart
) -> tuple[CategoryLine, ...]:
    """Expenses per category in both periods, largest current amount first; names
    from the chart (the id itself for a category the chart does not know).

    A category that had expenses only in the comparison period is listed with zero.
    """
    current: dict[str, Decimal] = {}
    before: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    accounts: dict[str, set[str]] = {}
    for sums, group in ((current, entries), (before, previous)):
        for entry in group:
            if entry.kind != EntryKind.EXPENSE:
                continue
            amount = expense_amount(entry, chart)
            sums[entry.category] = sums.get(entry.category, ZERO) + amount
            accounts.setdefault(entry.category, set()).add(entry.account)
            if sums is current:
                counts[entry.category] = counts.get(entry.category, 0) + 1
    lines = []
    for category in current.keys() | before.keys():
        known = chart.get(category)
        lines.append(
            CategoryLine(
                category=category,
                name_fi=known.fi if known else category,
                name_en=known.en if known else category,
                accounts=tuple(sorted(accounts[category])),
                current=current.get(category, ZERO),
                previous=before.get(category, ZERO),
                entries=counts.get(category, 0),
            )
        )
    lines.sort(key=lambda line: (-line.current, -line.previous, line.category))
    return tuple(lines)


def compute_report(
    period: Period,
    entries: Sequence[LedgerEntry],
    previous_entries: Sequence[LedgerEntry],
    chart: Chart,
) -> FinancialReport:
    """The report of `period` from its entries and those of `previous_period(period)`.

    Entries dated outside their period are ignored, so callers may pass a wider set.
    """
    before = previous_period(period)
    mine = [e for e in entries if period.start <= e.entry_date <= period.end]
    theirs = [e for e in previous_entries if before.start <= e.entry_date <= before.end]
    return FinancialReport(
        period=period,
        previous_period=before,
        totals=compute_totals(mine, chart),
        previous_totals=compute_totals(theirs, chart),
        expenses_by_category=expenses_by_category(mine, theirs, chart),
        vat_rates=vat_by_rate(mine, chart),
    )
