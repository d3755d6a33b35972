"""`vat_agent`: the VAT (ALV) of a period, per rate, from the ledger.

Sales VAT comes from income entries, purchase VAT from expense entries; the VAT payable
is sales VAT less deductible purchase VAT. Purchase VAT of a category the chart marks
non-deductible (entertainment, AVL 114 §) is shown per rate but not deducted. Sums are
exact Decimals, rounded half up to cents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from ..core.bookkeeping import EntryKind, VatLine
from ..core.enums import Role
from ..core.errors import NonRetryableAgentError
from ..core.protocols import AgentContext, LocalizedText
from ..finnish import euros, percent
from ..finnish import period as finnish_period
from .base import BaseAgent
from .categorizer import Chart, load_chart
from .ledger import cents

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..core.bookkeeping import LedgerEntry, LedgerStore
    from .resources import AgentResources

ZERO = Decimal("0.00")


@dataclass
class RateTotals:
    """Net and VAT of sales and purchases at one rate."""

    rate: Decimal
    sales_net: Decimal = ZERO
    sales_vat: Decimal = ZERO
    purchases_net: Decimal = ZERO
    purchases_vat: Decimal = ZERO


@dataclass
class VatTotals:
    """The VAT of a period."""

    rates: list[RateTotals] = field(default_factory=list)
    sales_vat: Decimal = ZERO
    deductible_vat: Decimal = ZERO
    non_deductible_vat: Decimal = ZERO
    entries: int = 0

    @property
    def payable(self) -> Decimal:
        """Sales VAT less deductible VAT (negative: a refund)."""
        return cents(self.sales_vat - self.deductible_vat)


def compute_vat(entries: Iterable[LedgerEntry], chart: Chart) -> VatTotals:
    """Sum the VAT lines of `entries` per rate (highest rate first)."""
    by_rate: dict[Decimal, RateTotals] = {}
    non_deductible = ZERO
    count = 0
    for entry in entries:
        count += 1
        lines = entry.vat_lines or (
            VatLine(Decimal(0), entry.gross, ZERO, entry.gross),
        )
        category = chart.get(entry.category)
        deductible = category is None or category.vat_deductible
        for line in lines:
            row = by_rate.setdefault(line.rate, RateTotals(line.rate))
            if entry.kind is EntryKind.INCOME:
                row.sales_net += line.net
                row.sales_vat += line.vat
            else:
                row.purchases_net += line.net
                row.purchases_vat += line.vat
                if not deductible:
                    non_deductible += line.vat
    rates = [by_rate[rate] for rate in sorted(by_rate, reverse=True)]
    for row in rates:
        row.sales_net, row.sales_vat = cents(row.sales_net), cents(row.sales_vat)
        row.purchases_net = cents(row.purchases_net)
        row.purchases_vat = cents(row.purchases_vat)
    sales_vat = cents(sum((r.sales_vat for r in rates), ZERO))
    purchases_vat = cents(sum((r.purchases_vat for r in rates), ZERO))
    return VatTotals(
        rates=rates,
        sales_vat=sales_vat,
        deductible_vat=cents(purchases_vat - non_deductible),
        non_deductible_vat=cents(non_deductible),
        entries=count,
    )


def summary_fi(totals: VatTotals, start: dt.date, end: dt.date) -> str:
    """One Finnish paragraph for people: the figures and what is payable."""
    period = f"ALV {finnish_period(start, end)}"
    if totals.entries == 0:
        return f"{period}: ei kirjauksia, joten maksettavaa arvonlisäveroa ei ole."
    payable = totals.payable
    due = (
        f"maksettava vero {euros(payable)}"
        if payable >= 0
        else f"palautettava vero {euros(-payable)}"
    )
    text = (
        f"{period}: myynnin vero {euros(totals.sales_vat)}, vähennettävä vero "
        f"{euros(totals.deductible_vat)}, {due}."
    )
    parts = [
        f"{percent(r.rate)}: myynti {euros(r.sales_net)} (vero {euros(r.sales_vat)}), "
        f"ostot {euros(r.purchases_net)} (vero {euros(r.purchases_vat)})"
        for r in totals.rates
    ]
    text += " Verokannoittain: " + "; ".join(parts) + "."
    if totals.non_deductible_vat:
        text += (
            f" Edustuskulujen arvonlisävero {euros(totals.non_deductible_vat)} ei ole "
            "vähennyskelpoinen."
        )
    return text


class VatInput(BaseModel):
    """The period to calculate."""

    model_config = ConfigDict(extra="forbid")

    period_start: dt.date = Field(description="First day of the period (inclusive).")
    period_end: dt.date = Field(description="Last day of the period (inclusive).")


class VatRate(BaseModel):
    """Sales and purchases at one VAT rate."""

    rate: float = Field(description="VAT rate in percent, e.g. 25.5.")
    sales_net: float = Field(description="Sales without VAT, euros.")
    sales_vat: float = Field(description="VAT on sales, euros.")
    purchases_net: float = Field(description="Purchases without VAT, euros.")
    purchases_vat: float = Field(description="VAT on purchases, euros.")


class VatOutput(BaseModel):
    """The VAT of the period."""

    period_start: dt.date = Field(description="First day of the period.")
    period_end: dt.date = Field(description="Last day of the period.")
    rates: list[VatRate] = Field(description="Figures per VAT rate, highest first.")
    sales_vat: float = Field(description="VAT on sales, euros.")
    deductible_vat: float = Field(description="Deductible VAT on purchases, euros.")
    payable: float = Field(
        description="VAT payable: sales VAT less deductible VAT (negative: refund)."
    )
    non_deductible_vat: float = Field(
        description="Purchase VAT that may not be deducted (entertainment), euros."
    )
    summary: str = Field(description="The result in one Finnish paragraph.")


class VatAgent(BaseAgent[VatInput, VatOutput]):
    """Calculates a period's VAT per rate from the ledger."""

    id = "vat_agent"
    name = "VAT calculation"
    description = LocalizedText(
        fi="Laskee ajanjakson arvonlisäveron (ALV) kirjanpidosta verokannoittain: "
        "myynnin vero, vähennettävä ostojen vero ja maksettava vero.",
        en="Calculates the VAT of a period from the ledger, per rate: VAT on sales, "
        "deductible VAT on purchases and the VAT payable.",
    )
    input_model = VatInput
    output_model = VatOutput
    min_role = Role.VIEWER

    def __init__(self, resources: AgentResources | None = None) -> None:
        self.ledger: LedgerStore | None = resources.ledger if resources else None
        self.chart = load_chart()

    async def run(self, inputs: VatInput, ctx: AgentContext) -> VatOutput:
        """Read the period's entries and sum their VAT."""
        start, end = inputs.period_start, inputs.period_end
        if start > end:
            raise NonRetryableAgentError(
                f"period_start {start} is after period_end {end}; swap them"
            )
        if self.ledger is None:
            raise NonRetryableAgentError(
                "no ledger store is configured; start the agent through the app "
                "(open_services), which provides it"
            )
        entries = await self.ledger.entries(ctx.tenant_id, start, end)
        totals = compute_vat(entries, self.chart)
        return VatOutput(
            period_start=start,
            period_end=end,
            rates=[
                VatRate(
                    rate=float(r.rate),
                    sales_net=float(r.sales_net),
                    sales_vat=float(r.sales_vat),
                    purchases_net=float(r.purchases_net),
                    purchases_vat=float(r.purchases_vat),
                )
                for r in totals.rates
            ],
            sales_vat=float(totals.sales_vat),
            deductible_vat=float(totals.deductible_vat),
            payable=float(totals.payable),
            non_deductible_vat=float(totals.non_deductible_vat),
            summary=summary_fi(totals, start, end),
        )
