"""`receipt_parser_agent`: a Finnish receipt's fields from its text (usually OCR).

Reads the merchant, the Business ID (Y-tunnus, checksum validated), the date (Finnish
forms), the total, the VAT lines per rate as printed (checked against the rates that
applied on the date), the payment method and the items. A field that cannot be read
is null, with a warning and a lower confidence: nothing is invented.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..core.enums import Role
from ..core.protocols import AgentContext, LocalizedText
from . import parsing, vat_lines
from .base import BaseAgent

MAX_TEXT = 200_000
_HEADER_SKIP = re.compile(
    r"^\W*(kuitti|receipt|kassakuitti|tervetuloa|welcome|lasku|invoice)\W*$",
    re.IGNORECASE,
)
_NOT_DOCUMENT_DATE = re.compile(r"eräp|erap|due|voimassa|valid|viimeist", re.IGNORECASE)
_NOT_ITEM = re.compile(
    r"yhteens|\byht\b|summa|total|alv|vat|vero|kortti|käteinen|kateinen|takaisin|"
    r"mobilepay|maksu|y-?tunnus|kuitti|visa|debit|maksettava",
    re.IGNORECASE,
)
Parsed = TypeVar("Parsed", bound=BaseModel)
WEIGHTS = {
    "total": 0.3,
    "date": 0.2,
    "vat_lines": 0.2,
    "business_id": 0.15,
    "merchant": 0.1,
    "payment_method": 0.05,
}


class VatLine(BaseModel):
    """The VAT of one rate, as printed."""

    rate: float = Field(description="VAT rate in percent, e.g. 25.5, 14, 13.5, 10, 0.")
    net: float = Field(description="Amount without VAT (veroton), euros.")
    vat: float = Field(description="VAT amount (vero), euros.")
    gross: float = Field(description="Amount with VAT (verollinen), euros.")


class Item(BaseModel):
    """One purchased item or service line."""

    description: str = Field(description="The item's text as printed.")
    amount: float = Field(description="Its price with VAT, euros (negative: discount).")


class Receipt(BaseModel):
    """A receipt's fields; null where the document could not be read."""

    merchant: str | None = Field(None, description="Seller's name.")
    business_id: str | None = Field(
        None, description="Seller's Y-tunnus, e.g. 1234567-1 (check digit valid)."
    )
    date: dt.date | None = Field(None, description="Purchase date (ISO YYYY-MM-DD).")
    total: float | None = Field(None, description="Total with VAT, euros.")
    currency: Literal["EUR"] = Field("EUR", description="Currency (euros).")
    vat_lines: list[VatLine] = Field(
        default_factory=list, description="VAT per rate, as printed."
    )
    payment_method: str | None = Field(
        None, description="kortti, käteinen, MobilePay, lasku, lahjakortti, ..."
    )
    items: list[Item] = Field(default_factory=list, description="Purchased items.")


class ReceiptInput(BaseModel):
    """The text to parse."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        max_length=MAX_TEXT, description="The receipt's text, e.g. ocr_agent's text."
    )


class ReceiptOutput(BaseModel):
    """The parsed receipt, how sure the parse is, and what to check."""

    receipt: Receipt = Field(description="The receipt's fields.")
    confidence: float = Field(ge=0, le=1, description="0..1; lower with each gap.")
    warnings: list[str] = Field(
        default_factory=list, description="Fields missing or inconsistent."
    )


def money(value: Decimal | None) -> float | None:
    """A Decimal amount as a JSON number with two decimals."""
    return None if value is None else float(parsing.cents(value))


def document_date(lines: list[str]) -> dt.date | None:
    """The first date on the document that is not a due or validity date."""
    for line in lines:
        if _NOT_DOCUMENT_DATE.search(line):
            continue
        found = parsing.dates(line)
        if found:
            return found[0]
    return None


def items_of(lines: list[str], end: int) -> list[Item]:
    """Lines before the total that end in an amount and start with words."""
    found = []
    for line in lines[:end]:
        values = parsing.amounts(line)
        if not values or _NOT_ITEM.search(line) or parsing.dates(line):
            continue
        first = parsing.AMOUNT.search(line)
        text = line[: first.start()] if first else line
        text = re.sub(r"\s*\d+\s*[x*]\s*$", "", text).strip(" .:-")
        if sum(c.isalpha() for c in text) >= 2:
            found.append(Item(description=text, amount=float(values[-1])))
    return found


def check_total(
    lines: list[str],
    candidates: list[tuple[int, Decimal]],
    vat: list[vat_lines.Vat],
    warnings: list[str],
) -> tuple[int, Decimal] | None:
    """The labelled total, preferring one that the VAT lines add up to.

    When the label's amount disagrees with the VAT lines and the payment line, and
    those two agree with each other, theirs is used (two printed figures against one),
    with a warning.
    """
    if not candidates:
        return None
    if not vat:
        return candidates[0]
    gross = sum((v.gross for v in vat), Decimal(0))
    for candidate in candidates:
        if abs(candidate[1] - gross) <= parsing.CENT:
            return candidate
    index, read = candidates[0]
    paid = [
        amount
        for line in lines[index + 1 :]
        if any(pattern.search(line) for pattern, _ in parsing.PAYMENTS)
        for amount in parsing.amounts(line)
    ]
    if any(abs(amount - gross) <= parsing.CENT for amount in paid):
        warnings.append(
            f"the total was read as {read}, but the VAT lines and the payment line "
            f"both give {gross}; used {gross}"
        )
        return index, gross
    return candidates[0]


def parse_receipt(text: str) -> ReceiptOutput:
    """A receipt's fields from its text."""
    lines = parsing.clean_lines(text)
    warnings: list[str] = []
    if not lines:
        return ReceiptOutput(
            receipt=Receipt(),
            confidence=0.0,
            warnings=["the text is empty: nothing to read; check the OCR step"],
        )
    merchant = parsing.merchant(lines, _HEADER_SKIP)
    business_id = parsing.business_id(lines, warnings)
    day = document_date(lines)
    candidates = parsing.total_candidates(lines)
    provisional = candidates[0][1] if candidates else None
    vat = vat_lines.read(lines, day, provisional, [])
    chosen = check_total(lines, candidates, vat, warnings)
    total = chosen[1] if chosen else None
    vat = vat_lines.read(lines, day, total, warnings)
    end = chosen[0] if chosen else len(lines)
    payment = parsing.payment_method(lines, end)
    receipt = Receipt(
        merchant=merchant,
        business_id=business_id,
        date=day,
        total=money(total),
        vat_lines=[
            VatLine(
                rate=float(v.rate),
                net=money(v.net),
                vat=money(v.vat),
                gross=money(v.gross),
            )
            for v in vat
        ],
        payment_method=payment,
        items=items_of(lines, end),
    )
    return finish(receipt, WEIGHTS, "receipt", warnings, ReceiptOutput)


def finish(
    document: Receipt,
    weights: dict[str, float],
    kind: str,
    problems: list[str],
    out: type[Parsed],
) -> Parsed:
    """The output: missing fields warned about first, then the `problems` found; the
    confidence is the weight of the fields read, lowered by each problem."""
    found = {name: getattr(document, name) not in (None, []) for name in weights}
    missing = [
        f"{_FIELD_NAMES.get(name, name)} not found on the {kind}; left empty"
        for name, ok in found.items()
        if not ok
    ]
    return out(
        **{kind: document},
        confidence=parsing.confidence(found, weights, len(problems)),
        warnings=missing + problems,
    )


_FIELD_NAMES = {
    "merchant": "merchant name",
    "business_id": "Y-tunnus",
    "date": "date",
    "total": "total",
    "vat_lines": "VAT lines",
    "payment_method": "payment method",
    "iban": "IBAN",
    "reference": "reference number",
    "due_date": "due date",
    "invoice_number": "invoice number",
}


class ReceiptParserAgent(BaseAgent[ReceiptInput, ReceiptOutput]):
    """Parses Finnish receipts."""

    id = "receipt_parser_agent"
    name = "Receipt parser"
    description = LocalizedText(
        fi="Poimii kuitin tekstistä myyjän, Y-tunnuksen, päivämäärän, summan, "
        "ALV-erittelyn verokannoittain, maksutavan ja ostokset.",
        en="Extracts a receipt's merchant, Business ID, date, total, VAT lines per "
        "rate, payment method and items from its text.",
    )
    version = "1.0.0"
    input_model = ReceiptInput
    output_model = ReceiptOutput
    min_role = Role.OPERATOR

    async def run(self, inputs: ReceiptInput, ctx: AgentContext) -> ReceiptOutput:
        """Parse the text; fields that cannot be read come back null with a warning."""
        return parse_receipt(inputs.text)
