"""`ledger_agent`: books parsed receipts, purchase invoices and sales, and reads the
ledger for a period.

A booking is idempotent per execution step: its `booking_key` is the step's
`AgentContext.idempotency_key`, so a retried or resumed step books the document once.
Receipts and invoices are expenses, sales income. VAT lines are completed from what
the document prints (a line with only a rate and a gross amount gets its VAT worked
out); a document without VAT lines is booked at its category's usual rate and marked
``vat_assumed`` in its details.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..core.bookkeeping import EntryKind, NewDraft, NewLedgerEntry, VatLine
from ..core.enums import Role
from ..core.errors import NonRetryableAgentError
from ..core.protocols import AgentContext, LocalizedText
from .base import BaseAgent
from .categorizer import Category, Lemmatizer, categorize, load_chart

if TYPE_CHECKING:
    from ..core.bookkeeping import LedgerEntry, LedgerStore
    from .resources import AgentResources

CENT = Decimal("0.01")
DocumentType = Literal["receipt", "invoice", "sale"]
_NAMES = {"receipt": "receipt", "invoice": "invoice", "sale": "sale document"}


def cents(value: Decimal) -> Decimal:
    """`value` rounded half up to cents."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value: Any, what: str) -> Decimal | None:
    """A JSON number or numeric text as a Decimal (None stays None).

    Raises:
        NonRetryableAgentError: The value is not a number.
    """
    if value is None or value == "":
        return None
    try:
        # Through str: Decimal(0.1) would keep the float's binary noise.
        number = Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation as exc:
        raise NonRetryableAgentError(
            f"{what} is {value!r}, not a number; correct the parsed document"
        ) from exc
    if not number.is_finite():
        raise NonRetryableAgentError(f"{what} is {value!r}, not an amount")
    return number


def vat_lines_of(document: dict[str, Any]) -> list[VatLine]:
    """The document's VAT lines, each completed to rate, net, VAT and gross."""
    lines = []
    for index, raw in enumerate(document.get("vat_lines") or ()):
        if not isinstance(raw, dict):
            continue
        where = f"vat_lines[{index}]"
        rate = to_decimal(raw.get("rate"), f"{where}.rate")
        net = to_decimal(raw.get("net"), f"{where}.net")
        vat = to_decimal(raw.get("vat"), f"{where}.vat")
        gross = to_decimal(raw.get("gross"), f"{where}.gross")
        if rate is None:
            raise NonRetryableAgentError(
                f"{where} has no VAT rate; give the rate (25.5, 14, 13.5, 10 or 0)"
            )
        if gross is not None and vat is not None:
            net = gross - vat
        elif net is not None and vat is not None:
            gross = net + vat
        elif gross is not None:
            vat = cents(gross * rate / (100 + rate))
            net = gross - vat
        elif net is not None:
            vat = cents(net * rate / 100)
            gross = net + vat
        else:
            raise NonRetryableAgentError(
                f"{where} has a rate but no amounts; give its net or gross amount"
            )
        assert net is not None and vat is not None and gross is not None
        lines.append(VatLine(rate, cents(net), cents(vat), cents(gross)))
    return lines


def entry_json(entry: LedgerEntry) -> dict[str, Any]:
    """A ledger entry as JSON (money as numbers with two decimals)."""
    return {
        "id": entry.id,
        "entry_date": entry.entry_date.isoformat(),
        "kind": entry.kind.value,
        "document_type": entry.document_type,
        "counterparty": entry.counterparty,
        "business_id": entry.business_id,
        "account": entry.account,
        "category": entry.category,
        "description": entry.description,
        "gross": float(entry.gross),
        "vat_lines": [
            {
                "rate": float(line.rate),
                "net": float(line.net),
                "vat": float(line.vat),
                "gross": float(line.gross),
            }
            for line in entry.vat_lines
        ],
        "source_file": entry.source_file,
        "execution_id": entry.execution_id,
    }


class LedgerInput(BaseModel):
    """Book a document, or read a period."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["book", "read"] = Field(
        default="book",
        description="book: book `document` in the ledger; read: list the entries of "
        "period_start..period_end.",
    )
    document: dict[str, Any] | None = Field(
        default=None,
        description="The parsed receipt, invoice or sale to book (merchant, date, "
        "total, vat_lines, items); needed for book.",
    )
    document_type: DocumentType = Field(
        default="receipt",
        description="receipt or invoice (an expense) or sale (income).",
    )
    category: dict[str, Any] | None = Field(
        default=None,
        description="categorizer_agent's whole output (account, category, ...); "
        "without it the chart's keyword rules choose.",
    )
    source_file: str | None = Field(
        default=None, description="The file the document was read from, if any."
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="The parser's warnings; kept with a document that needs review.",
    )
    period_start: dt.date | None = Field(
        default=None, description="First day to read (inclusive), for read."
    )
    period_end: dt.date | None = Field(
        default=None, description="Last day to read (inclusive), for read."
    )


class LedgerOutput(BaseModel):
    """What was booked or read."""

    booked: bool = Field(description="True when the document is now in the ledger.")
    status: Literal["booked", "draft", "read"] = Field(
        default="booked",
        description="booked; draft: held for review (needs_review), not in the "
        "ledger's figures until a person books it; read: entries were read.",
    )
    entry_ids: list[str] = Field(description="Ids of the entries booked or read.")
    entries: list[dict[str, Any]] = Field(
        description="The entries: date, kind, counterparty, account, category, "
        "gross and VAT lines."
    )

    outcome_fi: str = Field(
        default="",
        description="What happened to the document, in Finnish, for messages: "
        "'kirjattu', 'tallennettu luonnokseksi tarkistettavaksi' or 'luettu' (from "
        "`status`).",
    )
    outcome_en: str = Field(
        default="",
        description="The same in English: 'booked', 'held as a draft for review' or "
        "'read'.",
    )

    @model_validator(mode="after")
    def _outcome(self) -> LedgerOutput:
        self.outcome_fi, self.outcome_en = _OUTCOMES[self.status]
        return self


_OUTCOMES = {
    "booked": ("kirjattu", "booked"),
    "draft": (
        "tallennettu luonnokseksi tarkistettavaksi",
        "held as a draft for review",
    ),
    "read": ("luettu", "read"),
}


class LedgerAgent(BaseAgent[LedgerInput, LedgerOutput]):
    """Books receipts, invoices and sales; reads the ledger for a period."""

    id = "ledger_agent"
    name = "Ledger"
    description = LocalizedText(
        fi="Kirjaa kuitin, ostolaskun tai myynnin kirjanpitoon (tili, kululuokka, "
        "arvonlisäverot verokannoittain) tai lukee kirjaukset annetulta ajanjaksolta.",
        en="Books a receipt, purchase invoice or sale in the ledger (account, "
        "category, VAT per rate) or reads the entries of a period.",
    )
    input_model = LedgerInput
    output_model = LedgerOutput
    min_role = Role.OPERATOR

    def __init__(self, resources: AgentResources | None = None) -> None:
        self.ledger: LedgerStore | None = resources.ledger if resources else None
        self.chart = load_chart()
        self.lemmatizer = Lemmatizer()

    def _store(self) -> LedgerStore:
        if self.ledger is None:
            raise NonRetryableAgentError(
                "no ledger store is configured; start the agent through the app "
                "(open_services), which provides it"
            )
        return self.ledger

    async def run(self, inputs: LedgerInput, ctx: AgentContext) -> LedgerOutput:
        """Book or read, as `inputs.action` says."""
        if inputs.action == "read":
            return await self._read(inputs, ctx)
        if inputs.document is not None and inputs.document.get("needs_review"):
            return await self._hold(inputs, ctx)
        entry = self.new_entry(inputs, ctx)
        [booked] = await self._store().book(ctx.tenant_id, [entry])
        ctx.logger.info("booked %s as entry %s", entry.booking_key, booked.id)
        return LedgerOutput(
            booked=True, entry_ids=[booked.id], entries=[entry_json(booked)]
        )

    async def _read(self, inputs: LedgerInput, ctx: AgentContext) -> LedgerOutput:
        start, end = inputs.period_start, inputs.period_end
        if start is None or end is None:
            raise NonRetryableAgentError(
                "action 'read' needs period_start and period_end (YYYY-MM-DD)"
            )
        if start > end:
            raise NonRetryableAgentError(
                f"period_start {start} is after period_end {end}; swap them"
            )
        entries = await self._store().entries(ctx.tenant_id, start, end)
        return LedgerOutput(
            booked=False,
            status="read",
            entry_ids=[e.id for e in entries],
            entries=[entry_json(e) for e in entries],
        )

    async def _hold(self, inputs: LedgerInput, ctx: AgentContext) -> LedgerOutput:
        """Keep a document that needs review as a draft (booked, instead, if a person
        already booked the draft this step made)."""
        document = dict(inputs.document or {})
        category = self._category(inputs, document)
        counterparty = str(
            document.get("customer" if inputs.document_type == "sale" else "merchant")
            or document.get("merchant")
            or "tuntematon"
        )
        warnings = inputs.warnings or ["the parser marked the document for review"]
        draft = await self._store().hold(
            ctx.tenant_id,
            NewDraft(
                booking_key=ctx.idempotency_key,
                kind=EntryKind.INCOME
                if inputs.document_type == "sale"
                else EntryKind.EXPENSE,
                document_type=inputs.document_type,
                document=document,
                warnings=tuple(warnings),
                account=category.account,
                category=category.id,
                description=f"{category.fi}: {counterparty}",
                source_file=inputs.source_file,
                execution_id=ctx.execution_id,
                step_id=ctx.step_id,
            ),
        )
        ctx.logger.info(
            "held %s for review as draft %s: %s",
            ctx.idempotency_key,
            draft.id,
            "; ".join(warnings),
        )
        booked = draft.status.value == "booked"
        return LedgerOutput(
            booked=booked,
            status="booked" if booked else "draft",
            entry_ids=[draft.id],
            entries=[],
        )

    def new_entry(self, inputs: LedgerInput, ctx: AgentContext) -> NewLedgerEntry:
        """The entry to book for `inputs.document`.

        Raises:
            NonRetryableAgentError: No document, or it lacks a total or a date.
        """
        document = inputs.document
        kind_name = _NAMES[inputs.document_type]
        if document is None:
            raise NonRetryableAgentError(
                "action 'book' needs a document: pass the parser's receipt or invoice "
                "as `document`"
            )
        total = to_decimal(document.get("total"), "total")
        if total is None:
            raise NonRetryableAgentError(
                f"the {kind_name} has no readable total; check the OCR text or enter "
                "it by hand"
            )
        entry_date = _date(document.get("date"))
        if entry_date is None:
            raise NonRetryableAgentError(
                f"the {kind_name} has no readable date; check the OCR text or enter "
                "it by hand"
            )
        category = self._category(inputs, document)
        lines = vat_lines_of(document)
        details = dict(document)
        if not lines:
            rate = Decimal(str(category.vat_rate))
            vat = cents(total * rate / (100 + rate))
            lines = [VatLine(rate, cents(total - vat), vat, cents(total))]
            details["vat_assumed"] = True
        sale = inputs.document_type == "sale"
        counterparty = (document.get("customer") if sale else None) or document.get(
            "merchant"
        )
        counterparty = str(counterparty or "tuntematon")
        number = document.get("invoice_number")
        description = f"{category.fi}: {counterparty}"
        if number:
            description += f", lasku {number}"
        return NewLedgerEntry(
            booking_key=ctx.idempotency_key,
            kind=EntryKind.INCOME if sale else EntryKind.EXPENSE,
            entry_date=entry_date,
            counterparty=counterparty[:200],
            business_id=document.get("business_id") or None,
            account=category.account,
            category=category.id,
            description=description,
            gross=cents(total),
            vat_lines=tuple(lines),
            document_type=inputs.document_type,
            source_file=inputs.source_file,
            execution_id=ctx.execution_id,
            details=details,
        )

    def _category(self, inputs: LedgerInput, document: dict[str, Any]) -> Category:
        given = inputs.category or {}
        category_id = str(given.get("category") or "")
        account = str(given.get("account") or "")
        found = self.chart.get(category_id)
        if found is not None:
            # The caller's own account number wins over the chart's.
            return replace(found, account=account) if account else found
        if category_id and account:
            # A category outside the shipped chart: book it as given.
            fallback = self.chart[self.chart.fallback]
            name = str(given.get("category_name") or category_id)
            return replace(fallback, id=category_id, account=account, fi=name, en=name)
        if inputs.document_type == "sale":
            return self.chart[self.chart.sales]
        return categorize(document, self.chart, self.lemmatizer).category


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise NonRetryableAgentError(
            f"the date {value!r} is not an ISO date (YYYY-MM-DD); correct it"
        ) from exc
