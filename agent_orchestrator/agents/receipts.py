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
from typing import TYPE_CHECKING, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..core.enums import Role
from ..core.protocols import AgentContext, LocalizedText
from . import parsing, vat_lines
from .base import BaseAgent
from .parsing import Findings

if TYPE_CHECKING:
    from collections.abc import Sequence

MAX_TEXT = 200_000
MAX_UNCERTAIN = 20_000
_HEADER_SKIP = re.compile(
    r"^\W*(kuitti|receipt|kassakuitti|tervetuloa|welcome|lasku|invoice)\W*$",
    re.IGNORECASE,
)
_NOT_DOCUMENT_DATE = re.compile(r"eräp|erap|due|voimassa|valid|viimeist", re.IGNORECASE)
_NOT_ITEM = re.compile(
    r"yhteens|\byht\b|summa|total|\balv|\bvat\b|\bvero|kortti|käteinen|kateinen|"
    r"takaisin|"
    r"vaihtoraha|mobilepay|maksu|y-?tunnus|kuitti|visa|debit|maksettava|\bklo\b|"
    r"kassa|py[öo]ristys|netto|brutto",
    re.IGNORECASE,
)
_DISCOUNT = re.compile(r"alennus|tarjous|\betu\b|-etu\b|hyvitys|discount", re.I)
#: "3 x 1,59", "2 KPL x 0,99", "1,234 kg x 4,99 €/kg": the quantity and unit price
#: in front of a line's amount (or on a line of its own under the item's name).
_QUANTITY = re.compile(
    r"(?<![\w,.])\d+(?:[,.]\d{1,3})?\s*(?:kpl|kg|pcs|st|l)?\s*[x*×]\s*"
    r"\d+[,.]\d{2,3}(?:\s*(?:€|eur)?(?:\s*/\s*(?:kg|kpl|l))?)?",
    re.IGNORECASE,
)
#: The first line of a card terminal's receipt stapled below the till's: its amount
#: is the payment, not a second total.
_CARD_SLIP = re.compile(
    r"maksup[äa][äa]te|korttimaksu|varmennus|arkistointi|asiakkaan\s*kappale|"
    r"myyj[äa]n\s*kappale|\bAID\b|\bTVR\b|\bPAN\b|kortin\s*numero|"
    r"maksukortti|card\s*payment|\bK[ÖO]P\b",
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
#: Without these a document cannot be booked: a person must look at it.
REQUIRED = ("total", "date")


class VatLine(BaseModel):
    """The VAT of one rate, as printed."""

    rate: float = Field(description="VAT rate in percent, e.g. 25.5, 14, 13.5, 10, 0.")
    net: float | None = Field(
        description="Amount without VAT (veroton), euros; null when not printed."
    )
    vat: float | None = Field(
        description="VAT amount (vero), euros; null when not printed."
    )
    gross: float | None = Field(
        description="Amount with VAT (verollinen), euros; null when not printed."
    )


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
    needs_review: bool = Field(
        False,
        description="True when figures disagree or a field needed for booking could "
        "not be read: a person must check the document before it is booked.",
    )


class ReceiptInput(BaseModel):
    """The text to parse."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        max_length=MAX_TEXT, description="The receipt's text, e.g. ocr_agent's text."
    )
    uncertain: list[str] = Field(
        default_factory=list,
        max_length=MAX_UNCERTAIN,
        description="Words the OCR read with low confidence (ocr_agent's "
        "`uncertain`): a date read among them holds the receipt for review.",
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


def document_date(lines: list[str], findings: Findings) -> dt.date | None:
    """The first date on the document that is not a due or validity date; other
    dates that disagree with it (a card slip's) mark the document for review."""
    found = [
        day
        for line in lines
        if not _NOT_DOCUMENT_DATE.search(line)
        for day in parsing.dates(line)
    ]
    if not found:
        return None
    others = sorted({day for day in found if day != found[0]})
    if others:
        findings.problem(
            f"the document shows the date {found[0]} and also "
            f"{', '.join(map(str, others))}; check which is the purchase date"
        )
    return found[0]


def date_read_surely(
    day: dt.date | None,
    uncertain: Sequence[str],
    lines: Sequence[str],
    findings: Findings,
    field_name: str = "date",
) -> bool:
    """False (with a problem noted) for a date the OCR read with low confidence that
    no sure reading confirms: a 3 read for an 8 is a valid date too, so such a date is
    left empty for a person rather than booked. A date printed again elsewhere on the
    document (the card slip below the till's receipt, a delivery date) and read surely
    there is kept."""
    if day is None:
        return True
    unsure = [
        word
        for word in uncertain
        if any(day in parsing.dates(line) for line in parsing.clean_lines(word))
    ]
    if not unsure:
        return True
    printed = sum(day in parsing.dates(line) for line in lines)
    if printed > len(unsure):
        return True
    findings.withhold(
        field_name,
        f"the date {day} was read with low OCR confidence ('{unsure[0]}') and is "
        "printed nowhere else; left empty, check it on the document",
    )
    return False


def total_read_surely(
    total: Decimal | None,
    uncertain: Sequence[str],
    vat: list[vat_lines.Vat],
    items: list[Item],
    findings: Findings,
) -> bool:
    """False (with a problem noted) for a total the OCR read with low confidence that
    no other printed figure confirms: neither the VAT lines' gross nor the items add
    up to it. A misread digit (88,41 as 33,41) is left out rather than booked."""
    if total is None or not any(total in parsing.amounts(word) for word in uncertain):
        return True
    if vat and all(v.gross is not None for v in vat):
        gross = sum((v.gross for v in vat if v.gross is not None), Decimal(0))
        if abs(gross - total) <= parsing.CENT:
            return True
    summed = sum((Decimal(str(i.amount)) for i in items), Decimal(0))
    if items and summed == total:
        return True
    findings.withhold(
        "total",
        f"the total was read as {total} with low OCR confidence and neither the VAT "
        "lines nor the items add up to it; left empty, check it on the document",
    )
    return False


def card_slip_start(lines: list[str], after: int) -> int:
    """Where a stapled card terminal receipt begins (after line `after`), else the
    number of lines."""
    for index in range(after, len(lines)):
        if _CARD_SLIP.search(lines[index]):
            return index
    return len(lines)


def items_of(lines: list[str], end: int) -> list[Item]:
    """Lines before the total that end in an amount and start with words; a line that
    holds only a quantity and unit price ("3 x 1,59  4,77") belongs to the name above
    it; discounts ("TARJOUS -0,60", "ALENNUS 0,60") count negative."""
    found: list[Item] = []
    named: str | None = None  # a name line still waiting for its amount
    for line in lines[:end]:
        values = parsing.amounts(line)
        if _NOT_ITEM.search(line) or parsing.dates(line):
            named = None
            continue
        if parsing.LOYALTY.search(line) and not any(v < 0 for v in values):
            continue
        first = parsing.AMOUNT.search(line)
        text = line[: first.start()] if first else line
        has_quantity = bool(_QUANTITY.search(line))
        text = _QUANTITY.sub(" ", text)
        text = re.sub(r"\s*\d+\s*[x*×]\s*$", "", text).strip(" .:-*")
        letters = sum(c.isalpha() for c in text)
        if not values:
            named = text if letters and sum(c.isalnum() for c in text) >= 3 else None
            continue
        amount = values[-1]
        if has_quantity and len(values) == 1:
            # "2 x 1,59" alone: the unit price, not the line's amount.
            continue
        if letters < 2:
            if named is not None and has_quantity:
                text, named = named, None
            else:
                continue
        named = None
        if _DISCOUNT.search(text) and amount > 0:
            amount = -amount
        found.append(Item(description=text, amount=float(amount)))
    return found


def check_items(
    items: list[Item], total: Decimal | None, lines: list[str], findings: Findings
) -> None:
    """Items, where read, must add up to the total (give or take a rounding line)."""
    if not items or total is None:
        return
    summed = sum((Decimal(str(i.amount)) for i in items), Decimal(0))
    if summed == total or summed + vat_lines.rounding(lines) == total:
        return
    findings.problem(
        f"the items read add up to {summed} but the total is {total} (an item or "
        "discount line missed or misread?); check the document"
    )


def check_total(
    lines: list[str],
    candidates: list[tuple[int, Decimal]],
    vat: list[vat_lines.Vat],
    findings: Findings,
) -> tuple[int, Decimal] | None:
    """The labelled total, preferring one that the VAT lines add up to.

    When the label's amount disagrees with the VAT lines and the payment line, and
    those two agree with each other, the payment line's printed amount is used (two
    printed figures against one) and the document is marked for review.
    """
    if not candidates:
        return None
    if not vat or any(v.gross is None for v in vat):
        return candidates[0]
    gross = sum((v.gross for v in vat if v.gross is not None), Decimal(0))
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
    for amount in paid:
        if amount == gross:
            findings.problem(
                f"the total was read as {read}, but the VAT lines and the payment "
                f"line both give {amount}; used the payment line's {amount}"
            )
            return index, amount
    return candidates[0]


def vat_line_models(vat: list[vat_lines.Vat]) -> list[VatLine]:
    """The checked VAT lines as output models."""
    return [
        VatLine(
            rate=float(v.rate), net=money(v.net), vat=money(v.vat), gross=money(v.gross)
        )
        for v in vat
    ]


def parse_receipt(text: str, uncertain: Sequence[str] = ()) -> ReceiptOutput:
    """A receipt's fields from its text; `uncertain`: words the OCR was unsure of."""
    lines = parsing.clean_lines(text)
    findings = Findings()
    if not lines:
        return ReceiptOutput(
            receipt=Receipt(needs_review=True),
            confidence=0.0,
            warnings=["the text is empty: nothing to read; check the OCR step"],
        )
    merchant = parsing.merchant(lines, _HEADER_SKIP)
    business_id = parsing.business_id(lines, findings)
    day = document_date(lines, findings)
    candidates = parsing.total_candidates(lines)
    if candidates:
        # A card terminal's receipt below the till's repeats the amount: not a total.
        slip = card_slip_start(lines, candidates[0][0] + 1)
        candidates = [c for c in candidates if c[0] < slip]
    provisional = candidates[0][1] if candidates else None
    vat = vat_lines.read(lines, day, provisional, Findings())
    chosen = check_total(lines, candidates, vat, findings)
    total = chosen[1] if chosen else None
    vat = vat_lines.read(lines, day, total, findings)
    # After the VAT lines: the rates in force are looked up by the date as read.
    if not date_read_surely(day, uncertain, lines, findings):
        day = None
    end = chosen[0] if chosen else len(lines)
    items = items_of(lines, end)
    if not total_read_surely(total, uncertain, vat, items, findings):
        total = None
    check_items(items, total, lines, findings)
    receipt = Receipt(
        merchant=merchant,
        business_id=business_id,
        date=day,
        total=money(total),
        vat_lines=vat_line_models(vat),
        payment_method=parsing.payment_method(lines, end),
        items=items,
    )
    return finish(receipt, WEIGHTS, "receipt", findings, ReceiptOutput)


def finish(
    document: Receipt,
    weights: dict[str, float],
    kind: str,
    findings: Findings,
    out: type[Parsed],
) -> Parsed:
    """The output: missing fields warned about first, then the problems found; the
    confidence is the weight of the fields read, lowered by each problem. A document
    with a problem, or without a field needed for booking, needs review."""
    found = {name: getattr(document, name) not in (None, []) for name in weights}
    missing = [
        f"{_FIELD_NAMES.get(name, name)} not found on the {kind}; left empty"
        for name, ok in found.items()
        if not ok and name not in findings.withheld
    ]
    document.needs_review = findings.review or not all(
        found.get(name, True) for name in REQUIRED
    )
    return out(
        **{kind: document},
        confidence=parsing.confidence(found, weights, len(findings.warnings)),
        warnings=missing + findings.warnings,
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
        return parse_receipt(inputs.text, inputs.uncertain)
