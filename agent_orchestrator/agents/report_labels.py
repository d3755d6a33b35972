"""The words and machine number formats of the financial report, in Finnish and
English.

Amounts for people are written the Finnish way in both languages (`finnish.euros`:
``1 234,56 €``, with no-break spaces as the group separator and before the sign),
since the books are Finnish; machine formats use `plain` and `number`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Labels:
    """Every text of a report in one language."""

    language: str
    title: str
    file_stem: str
    comparison: str
    net_note: str
    overview: str
    period: str
    previous: str
    change: str
    change_pct: str
    totals: Mapping[str, str]
    by_category: str
    category: str
    account: str
    total: str
    other: str
    no_expenses: str
    chart_title: str
    vat_summary: str
    rate: str
    vat_columns: tuple[str, str, str, str]
    vat_field_names: Mapping[str, str]
    no_entries: str
    non_deductible: str
    summary: str


FINNISH = Labels(
    language="fi",
    title="Talousraportti",
    file_stem="talousraportti",
    comparison="Vertailukausi",
    net_note=(
        "Summat ilman arvonlisäveroa (vähennyskelvoton ALV sisältyy kuluihin); "
        "tulos = tulot - kulut."
    ),
    overview="Yhteenveto",
    period="Kausi",
    previous="Vertailukausi",
    change="Muutos",
    change_pct="Muutos %",
    totals=MappingProxyType(
        {
            "income": "Tulot",
            "expenses": "Kulut",
            "result": "Tulos",
            "sales_vat": "Myynnin ALV",
            "deductible_vat": "Vähennettävä ALV",
            "vat_payable": "Maksettava ALV",
        }
    ),
    by_category="Kulut kategorioittain",
    category="Kategoria",
    account="Tili",
    total="Yhteensä",
    other="Muut",
    no_expenses="Kaudella ei ole kuluja.",
    chart_title="Kulut kategorioittain (ilman ALV:tä)",
    vat_summary="ALV-yhteenveto",
    rate="Verokanta",
    vat_columns=("Myynti (veroton)", "Myynnin ALV", "Ostot (veroton)", "Ostojen ALV"),
    vat_field_names=MappingProxyType(
        {
            "sales_net": "Myynti (veroton)",
            "sales_vat": "Myynnin ALV",
            "purchases_net": "Ostot (veroton)",
            "purchases_vat": "Ostojen ALV",
        }
    ),
    no_entries="Kaudella ei ole kirjauksia.",
    non_deductible="Vähennyskelvoton ALV (sisältyy kuluihin)",
    summary=(
        "Talousraportti {period}: tulot {income}, kulut {expenses}, tulos {result}, "
        "maksettava ALV {vat}. Tulos muuttui vertailukaudesta {previous} {change}."
    ),
)

ENGLISH = Labels(
    language="en",
    title="Financial report",
    file_stem="financial_report",
    comparison="Comparison period",
    net_note=(
        "Amounts exclude VAT (non-deductible VAT is included in expenses); "
        "result = income - expenses."
    ),
    overview="Overview",
    period="Period",
    previous="Comparison",
    change="Change",
    change_pct="Change %",
    totals=MappingProxyType(
        {
            "income": "Income",
            "expenses": "Expenses",
            "result": "Result",
            "sales_vat": "VAT on sales",
            "deductible_vat": "Deductible VAT",
            "vat_payable": "VAT payable",
        }
    ),
    by_category="Expenses by category",
    category="Category",
    account="Account",
    total="Total",
    other="Other",
    no_expenses="No expenses in the period.",
    chart_title="Expenses by category (excluding VAT)",
    vat_summary="VAT summary",
    rate="Rate",
    vat_columns=("Sales (net)", "VAT on sales", "Purchases (net)", "VAT on purchases"),
    vat_field_names=MappingProxyType(
        {
            "sales_net": "Sales (net)",
            "sales_vat": "VAT on sales",
            "purchases_net": "Purchases (net)",
            "purchases_vat": "VAT on purchases",
        }
    ),
    no_entries="No entries in the period.",
    non_deductible="Non-deductible VAT (included in expenses)",
    summary=(
        "Financial report {period}: income {income}, expenses {expenses}, result "
        "{result}, VAT payable {vat}. The result changed by {change} from the "
        "comparison period {previous}."
    ),
)

#: Labels by language code.
LABELS: Mapping[str, Labels] = MappingProxyType({"fi": FINNISH, "en": ENGLISH})


def plain(value: Decimal | None) -> str:
    """A decimal for CSV: ``1234.56``; empty for None."""
    return "" if value is None else f"{value:f}"


def number(value: Decimal | None) -> float | None:
    """A decimal for JSON (two decimals for money, as the figures are)."""
    return None if value is None else float(value)
