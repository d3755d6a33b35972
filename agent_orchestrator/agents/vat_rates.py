"""Finland's VAT rates with the days they applied (data file ``data/vat_rates.json``).

Rates change with the date: the general rate was 24 % until 2024-08-31 and is 25.5 %
from 2024-09-01; food and restaurants were 14 % until 2025-12-31 and are 13.5 % from
2026-01-01; 10 % covers newspapers (and until 2024 books, medicines, transport...).
Parsers use the table to warn when a printed rate did not apply on a document's date.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources

from ..core.protocols import LocalizedText

DATA_FILE = ("data", "vat_rates.json")  # inside this package


@dataclass(frozen=True, slots=True)
class VatRate:
    """One VAT rate over the days it applied.

    Attributes:
        rate: The rate in percent, e.g. ``Decimal("25.5")``.
        kind: ``general``, ``reduced_food``, ``reduced_other`` or ``zero``.
        valid_from: The first day it applied.
        valid_to: The last day it applied (inclusive); None while it still applies.
        applies_to: What it covers, in Finnish and English.
    """

    rate: Decimal
    kind: str
    valid_from: dt.date
    valid_to: dt.date | None
    applies_to: LocalizedText

    def applies_on(self, day: dt.date) -> bool:
        """Whether the rate applied on `day`."""
        return self.valid_from <= day and (
            self.valid_to is None or day <= self.valid_to
        )

    def period(self) -> str:
        """Its validity as text, e.g. ``2013-01-01 – 2024-08-31``."""
        end = self.valid_to.isoformat() if self.valid_to else ""
        return f"{self.valid_from.isoformat()} – {end}".rstrip()


@dataclass(frozen=True, slots=True)
class VatTable:
    """The dated rates and the first day the table covers."""

    rates: tuple[VatRate, ...]
    covers_from: dt.date

    def rates_on(self, day: dt.date) -> list[VatRate]:
        """The rates that applied on `day`, highest first (empty before the table)."""
        found = [r for r in self.rates if r.applies_on(day)]
        return sorted(found, key=lambda r: r.rate, reverse=True)

    def known(self) -> set[Decimal]:
        """Every rate the table holds, on any day."""
        return {r.rate for r in self.rates}

    def is_valid(self, rate: Decimal, day: dt.date) -> bool:
        """Whether `rate` applied on `day` (True for days before the table)."""
        if day < self.covers_from:
            return True
        return any(r.rate == rate for r in self.rates_on(day))

    def general_rate(self, day: dt.date) -> Decimal | None:
        """The general rate on `day`."""
        return next((r.rate for r in self.rates_on(day) if r.kind == "general"), None)

    def explain_invalid(self, rate: Decimal, day: dt.date) -> str:
        """Why `rate` does not fit `day`, for a parser's warning."""
        printed = f"{format_rate(rate)} %"
        spans = [r for r in self.rates if r.rate == rate]
        valid_now = ", ".join(f"{format_rate(r.rate)} %" for r in self.rates_on(day))
        if not spans:
            return (
                f"VAT rate {printed} is not a Finnish rate (rates on "
                f"{day.isoformat()}: {valid_now}); check the document"
            )
        when = "; ".join(f"{r.applies_to.en} {r.period()}" for r in spans)
        return (
            f"VAT rate {printed} did not apply on the document's date "
            f"{day.isoformat()} ({when}); rates on that day: {valid_now}. Check the "
            "date and the rate"
        )


def format_rate(rate: Decimal) -> str:
    """A rate without trailing zeros: ``25.5``, ``24``, ``0``."""
    return f"{rate.normalize():f}"


@cache
def vat_table() -> VatTable:
    """The table from the package's data file (read once)."""
    raw = json.loads(
        resources.files(__package__).joinpath(*DATA_FILE).read_text("utf-8")
    )
    rates = tuple(
        VatRate(
            rate=Decimal(row["rate"]),
            kind=row["kind"],
            valid_from=dt.date.fromisoformat(row["valid_from"]),
            valid_to=dt.date.fromisoformat(row["valid_to"])
            if row["valid_to"]
            else None,
            applies_to=LocalizedText(fi=row["fi"], en=row["en"]),
        )
        for row in raw["rates"]
    )
    return VatTable(rates, dt.date.fromisoformat(raw["covers_from"]))
