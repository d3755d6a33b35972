"""`invoice_parser_agent`: a Finnish purchase invoice's fields from its text.

Besides a receipt's fields (the merchant is the supplier): the invoice number, IBAN
(check digits validated), BIC, the reference (Finnish viitenumero with its 7-3-1 check
digit, or an ISO 11649 RF reference), the due date (eräpäivä), and the virtual barcode
(virtuaaliviivakoodi, versions 4 and 5), which is decoded and cross-checked against the
printed IBAN, amount, reference and due date.
"""

from __future__ import annotations

import datetime as dt  # noqa: TC003 (pydantic reads the annotations)
import re
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field
from stdnum import bic as stdnum_bic
from stdnum import exceptions as stdnum_errors
from stdnum import iban as stdnum_iban
from stdnum import iso11649

from ..core.enums import Role
from ..core.protocols import AgentContext, LocalizedText
from . import barcode, parsing, vat_lines
from .base import BaseAgent
from .parsing import Findings
from .receipts import (
    MAX_TEXT,
    MAX_UNCERTAIN,
    Receipt,
    check_items,
    check_total,
    date_read_surely,
    finish,
    items_of,
    money,
    vat_line_models,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from decimal import Decimal

#: Whether a viitenumero's last digit is its 7-3-1 check digit.
finnish_reference_valid = barcode.reference_valid

_SKIP = re.compile(r"^\W*(lasku|invoice|faktura|ostolasku)\W*$", re.IGNORECASE)
_INVOICE_DATE = re.compile(
    r"laskun\s*p[äa]iv[äa]m[äa][äa]r[äa]|laskun\s*pvm|laskup[äa]iv[äa]|p[äa]iv[äa]ys"
    r"|invoice\s*date|\bpvm\b|p[äa]iv[äa]m[äa][äa]r[äa]",
    re.IGNORECASE,
)
_DUE = re.compile(
    r"er[äa]p[äa]iv[äa]|due\s*date|maksettava\s*viimeist|viimeinen\s*maksup",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"(?:laskun?\s*(?:numero|nro|no)|laskunumero|invoice\s*(?:number|no|#))\.?\s*:?\s*"
    r"([A-Z0-9][A-Z0-9/-]*)",
    re.IGNORECASE,
)
_IBAN = re.compile(r"\b([A-Z]{2}\s?\d{2}(?:\s?[0-9A-Z]){10,30})")
_BIC = re.compile(r"\b([A-Z]{4}(?:FI|SE|EE|DE)[A-Z0-9]{2}(?:[A-Z0-9]{3})?)\b")
# "Viitteenne" / "Viitteemme" (your / our reference) are not payment references.
_REF_LABEL = re.compile(
    r"viite(?:numero|nro)?\b|maksajan\s*viite|reference|\bref\b\.?(?:\s*no)?",
    re.IGNORECASE,
)
_RF = re.compile(r"\bRF\s?\d{2}(?:\s?[0-9A-Z]){1,21}")
_FI_REF = re.compile(r"(?<!\d)\d(?:\s?\d){3,19}(?!\s?\d)")
WEIGHTS = {
    "total": 0.2,
    "date": 0.1,
    "due_date": 0.1,
    "vat_lines": 0.15,
    "iban": 0.15,
    "reference": 0.1,
    "business_id": 0.1,
    "merchant": 0.05,
    "invoice_number": 0.05,
}


class Invoice(Receipt):
    """A purchase invoice's fields (the merchant is the supplier)."""

    invoice_number: str | None = Field(
        None, description="The supplier's invoice number."
    )
    iban: str | None = Field(
        None, description="Payee's IBAN, compact, check digits valid."
    )
    bic: str | None = Field(None, description="Payee bank's BIC, e.g. NDEAFIHH.")
    reference: str | None = Field(
        None, description="Viitenumero or RF reference, compact, check digit valid."
    )
    due_date: dt.date | None = Field(None, description="Due date (eräpäivä), ISO.")
    virtual_barcode: str | None = Field(
        None, description="The 54-digit virtual barcode, when printed and valid."
    )


class InvoiceInput(BaseModel):
    """The text to parse."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        max_length=MAX_TEXT, description="The invoice's text, e.g. ocr_agent's text."
    )
    uncertain: list[str] = Field(
        default_factory=list,
        max_length=MAX_UNCERTAIN,
        description="Words the OCR read with low confidence (ocr_agent's "
        "`uncertain`): the invoice date or due date read among them holds the "
        "invoice for review.",
    )


class InvoiceOutput(BaseModel):
    """The parsed invoice, how sure the parse is, and what to check."""

    invoice: Invoice = Field(description="The invoice's fields.")
    confidence: float = Field(ge=0, le=1, description="0..1; lower with each gap.")
    warnings: list[str] = Field(
        default_factory=list, description="Fields missing or inconsistent."
    )


def _ibans(lines: list[str], findings: Findings) -> list[str]:
    found: list[str] = []
    for line in lines:
        for match in _IBAN.finditer(line):
            compact = re.sub(r"\s", "", match.group(1))
            valid = next(
                (
                    stdnum_iban.compact(compact[:n])
                    for n in range(len(compact), 14, -1)
                    if stdnum_iban.is_valid(compact[:n])
                ),
                None,
            )
            if valid and valid not in found:
                found.append(valid)
            elif valid is None and re.search(r"iban|tili|account", line, re.IGNORECASE):
                findings.problem(
                    f"IBAN {compact[:22]} fails its check digits (an OCR misread?); "
                    "left empty, check the document"
                )
    return found


def _reference(lines: list[str], findings: Findings) -> str | None:
    for i, line in enumerate(lines):
        label = _REF_LABEL.search(line)
        if label is None:
            continue
        rest = line[label.end() :] or (lines[i + 1] if i + 1 < len(lines) else "")
        rf = _RF.search(rest)
        if rf:
            compact = iso11649.compact(rf.group(0))
            if iso11649.is_valid(compact):
                return str(compact)
            findings.problem(
                f"RF reference {compact} fails its check digits; left empty"
            )
            return None
        number = _FI_REF.search(rest)
        if number:
            compact = re.sub(r"\s", "", number.group(0))
            if finnish_reference_valid(compact):
                return compact.lstrip("0")
            findings.problem(
                f"reference number {compact} fails its check digit; left empty, check "
                "the document"
            )
            return None
    for line in lines:
        rf = _RF.search(line)
        if rf and iso11649.is_valid(iso11649.compact(rf.group(0))):
            return str(iso11649.compact(rf.group(0)))
    return None


def _bic(lines: list[str]) -> str | None:
    for line in lines:
        for match in _BIC.finditer(line):
            try:
                return str(stdnum_bic.validate(match.group(1)))
            except stdnum_errors.ValidationError:
                continue
    return None


def _cross_check(
    invoice: Invoice, ibans: list[str], text: str, findings: Findings
) -> None:
    """Decode the virtual barcode, compare it with the printed fields, and fill the
    fields only the barcode gave (the barcode is printed too, and carries its own
    check digits); any disagreement marks the invoice for review."""
    code = barcode.find(text)
    if code is None:
        return
    try:
        decoded = barcode.decode(code)
    except barcode.BarcodeError as exc:
        findings.problem(f"the virtual barcode could not be read: {exc}; left empty")
        return
    invoice.virtual_barcode = decoded.code
    if decoded.iban is None:
        findings.problem("the virtual barcode's account fails its check digits")
    elif decoded.iban in ibans:
        invoice.iban = decoded.iban
    pairs = (
        ("iban", "IBAN", decoded.iban),
        ("total", "amount", float(decoded.amount) if decoded.amount else None),
        ("reference", "reference", decoded.reference),
        ("due_date", "due date", decoded.due_date),
    )
    for field, name, coded in pairs:
        printed = getattr(invoice, field)
        if coded is None:
            continue
        if printed is None:
            setattr(invoice, field, coded)
            findings.note(f"{name} read from the virtual barcode only: {coded}")
        elif printed != coded:
            findings.problem(
                f"the virtual barcode says {name} {coded} but the invoice prints "
                f"{printed}; check which is right before paying"
            )


def parse_invoice(text: str, uncertain: Sequence[str] = ()) -> InvoiceOutput:
    """An invoice's fields from its text; `uncertain`: words the OCR was unsure of."""
    lines = parsing.clean_lines(text)
    findings = Findings()
    if not lines:
        return InvoiceOutput(
            invoice=Invoice(payment_method="lasku", needs_review=True),
            confidence=0.0,
            warnings=["the text is empty: nothing to read; check the OCR step"],
        )
    day = parsing.labelled_date(lines, _INVOICE_DATE)
    if day is None:
        day = next(
            (d for line in lines if not _DUE.search(line) for d in parsing.dates(line)),
            None,
        )
    candidates = parsing.total_candidates(lines)
    provisional = candidates[0][1] if candidates else None
    provisional_vat = vat_lines.read(lines, day, provisional, Findings())
    chosen = check_total(lines, candidates, provisional_vat, findings)
    total: Decimal | None = chosen[1] if chosen else None
    vat = vat_lines.read(lines, day, total, findings)
    ibans = _ibans(lines, findings)
    number = next((m.group(1) for line in lines if (m := _NUMBER.search(line))), None)
    items = items_of(lines, chosen[0] if chosen else len(lines))
    check_items(items, total, lines, findings)
    # A date read unsure (a 3 for an 8 is a valid date too) and printed nowhere else
    # is left empty for review; the virtual barcode may still give the due date.
    due = parsing.labelled_date(lines, _DUE)
    if not date_read_surely(day, uncertain, lines, findings):
        day = None
    if not date_read_surely(due, uncertain, lines, findings, "due_date"):
        due = None
    invoice = Invoice(
        merchant=parsing.merchant(lines, _SKIP),
        business_id=parsing.business_id(lines, findings),
        date=day,
        total=money(total),
        vat_lines=vat_line_models(vat),
        payment_method="lasku",
        items=items,
        invoice_number=number,
        iban=ibans[0] if ibans else None,
        bic=_bic(lines),
        reference=_reference(lines, findings),
        due_date=due,
    )
    _cross_check(invoice, ibans, "\n".join(lines), findings)
    return finish(invoice, WEIGHTS, "invoice", findings, InvoiceOutput)


class InvoiceParserAgent(BaseAgent[InvoiceInput, InvoiceOutput]):
    """Parses Finnish purchase invoices."""

    id = "invoice_parser_agent"
    name = "Invoice parser"
    description = LocalizedText(
        fi="Poimii ostolaskun tekstistä toimittajan, Y-tunnuksen, laskun numeron, "
        "päivämäärän, eräpäivän, summan, ALV-erittelyn, IBAN-tilinumeron, "
        "viitenumeron ja virtuaaliviivakoodin, ja tarkistaa ne ristiin.",
        en="Extracts a purchase invoice's supplier, Business ID, invoice number, date, "
        "due date, total, VAT lines, IBAN, reference number and virtual barcode, and "
        "cross-checks them.",
    )
    version = "1.0.0"
    input_model = InvoiceInput
    output_model = InvoiceOutput
    min_role = Role.OPERATOR

    async def run(self, inputs: InvoiceInput, ctx: AgentContext) -> InvoiceOutput:
        """Parse the text; fields that cannot be read come back null with a warning."""
        return parse_invoice(inputs.text, inputs.uncertain)
