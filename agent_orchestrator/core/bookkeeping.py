"""The bookkeeping vocabulary the agents share: ledger entries, artifacts, and the
Protocols through which agents reach the store (which implements them in
`store/ledger.py`, `store/artifacts.py` and `store/outbox.py`; `app.py` hands them to
the agents as `AgentResources.ledger`, ``.artifacts`` and ``.outbox``).

Money is `Decimal` with two decimals, in euros; VAT rates are `Decimal` percentages
(``Decimal("25.5")``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from .records import AuditEntry


class EntryKind(StrEnum):
    """Which side of the books an entry is on."""

    EXPENSE = "EXPENSE"  # a receipt or purchase invoice: costs and deductible VAT
    INCOME = "INCOME"  # a sale: revenue and VAT owed


class EntryStatus(StrEnum):
    """Whether an entry counts in the books.

    A document the parser could not read consistently (``needs_review``) is stored
    as a DRAFT with its warnings: it counts in no VAT or financial figure until a
    person corrects it, if need be, and books it.
    """

    BOOKED = "booked"
    DRAFT = "draft"


@dataclass(frozen=True, slots=True)
class VatLine:
    """The VAT of one rate on a document, as printed.

    Attributes:
        rate: The rate in percent, e.g. ``Decimal("25.5")``.
        net: The amount without VAT.
        vat: The VAT amount.
        gross: ``net + vat``.
    """

    rate: Decimal
    net: Decimal
    vat: Decimal
    gross: Decimal


@dataclass(frozen=True, slots=True)
class NewLedgerEntry:
    """A document to book.

    Attributes:
        booking_key: Idempotency key (the execution step's
            `AgentContext.idempotency_key` plus the document's index): booking the
            same key twice books it once.
        kind: Expense or income.
        entry_date: The document's date (the VAT period it belongs to).
        counterparty: Merchant or supplier name.
        business_id: The counterparty's Y-tunnus, if known.
        account: The chart-of-accounts number, e.g. ``"4000"``.
        category: The category id from the chart of accounts, e.g.
            ``"office_supplies"``.
        description: One line for people.
        gross: Total including VAT.
        vat_lines: VAT per rate.
        document_type: ``"receipt"``, ``"invoice"`` or ``"sale"``.
        source_file: The file the document came from, if any.
        execution_id: The execution that booked it.
        details: The parsed document, for reference.
    """

    booking_key: str
    kind: EntryKind
    entry_date: dt.date
    counterparty: str
    account: str
    category: str
    description: str
    gross: Decimal
    vat_lines: Sequence[VatLine] = ()
    business_id: str | None = None
    document_type: str = "receipt"
    source_file: str | None = None
    execution_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LedgerEntry(NewLedgerEntry):
    """A booked entry.

    Attributes:
        id: The entry's id.
        tenant_id: Its owner.
        created_at: When it was booked.
    """

    id: str = ""
    tenant_id: str = ""
    created_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class NewDraft:
    """A document to keep for review instead of booking it.

    Attributes:
        booking_key: Idempotency key, as for `NewLedgerEntry` (a booked entry and a
            draft share the key space: a step makes one or the other, once).
        kind: Expense or income.
        document_type: ``"receipt"``, ``"invoice"`` or ``"sale"``.
        document: The fields as read; null where they could not be read.
        warnings: Why the document needs review, as the parser said.
        account: The chart-of-accounts number chosen for it.
        category: The category id chosen for it.
        description: One line for people.
        source_file: The file the document came from, if any.
        execution_id: The execution that read it.
        step_id: The step of that execution that stored it.
    """

    booking_key: str
    kind: EntryKind
    document_type: str
    document: dict[str, Any]
    warnings: Sequence[str]
    account: str
    category: str
    description: str
    source_file: str | None = None
    execution_id: str | None = None
    step_id: str | None = None


@dataclass(frozen=True, slots=True)
class Draft:
    """A document in the review queue, or one booked from it.

    Attributes:
        id: The ledger entry's id (it keeps it when booked).
        tenant_id: Its owner.
        status: DRAFT until booked.
        kind: Expense or income.
        document_type: ``"receipt"``, ``"invoice"`` or ``"sale"``.
        document: The fields as read, with any corrections applied.
        warnings: Why it was held for review.
        account: The chart-of-accounts number chosen for it.
        category: The category id chosen for it.
        description: One line for people.
        source_file: The file it came from, if any.
        execution_id: The execution that read it.
        step_id: The step of that execution that stored it.
        created_at: When it was stored.
        updated_at: When it was last corrected or booked (None: never).
    """

    id: str
    tenant_id: str
    status: EntryStatus
    kind: EntryKind
    document_type: str
    document: dict[str, Any]
    warnings: Sequence[str]
    account: str
    category: str
    description: str
    source_file: str | None
    execution_id: str | None
    step_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class DraftChange:
    """What a use case does to a draft, decided from the draft as stored (read in the
    same transaction, so that two people's changes cannot cross).

    Attributes:
        document: The fields to keep (the draft's own, or corrected).
        booked: When set, book the draft with these figures (its id stays).
        audit: The audit entry, written in the same transaction.
    """

    document: dict[str, Any]
    booked: NewLedgerEntry | None = None
    audit: AuditEntry | None = None


@dataclass(frozen=True, slots=True)
class Artifact:
    """A file an agent made (a report), served to the owning tenant only.

    Attributes:
        id: The artifact's id.
        tenant_id: Its owner.
        filename: A download name, e.g. ``talousraportti_2026-10.pdf``.
        content_type: Its MIME type.
        content: The bytes.
        execution_id: The execution that made it.
        created_at: When it was made.
    """

    id: str
    tenant_id: str
    filename: str
    content_type: str
    content: bytes
    execution_id: str | None = None
    created_at: dt.datetime | None = None


class LedgerStore(Protocol):
    """A tenant's ledger."""

    async def book(
        self, tenant_id: str, entries: Sequence[NewLedgerEntry]
    ) -> list[LedgerEntry]:
        """Book entries in one transaction; an entry whose `booking_key` the tenant has
        already booked is not booked again, and the stored one is returned instead.

        Returns:
            The stored entries, in the order given.
        """
        ...

    async def entries(
        self, tenant_id: str, start: dt.date, end: dt.date
    ) -> list[LedgerEntry]:
        """The tenant's booked entries dated from `start` to `end` inclusive, by date
        (drafts are left out)."""
        ...

    async def hold(self, tenant_id: str, draft: NewDraft) -> Draft:
        """Keep a document for review, its `booking_key` once per tenant.

        Returns:
            The stored draft; when the key was stored before, what it is now (it may
            have been booked since).
        """
        ...


class ArtifactStore(Protocol):
    """Files agents made."""

    async def save(
        self,
        tenant_id: str,
        filename: str,
        content_type: str,
        content: bytes,
        *,
        execution_id: str | None = None,
        key: str | None = None,
    ) -> Artifact:
        """Store an artifact; saving again with the same `key` returns the first one."""
        ...

    async def get(self, artifact_id: str, tenant_id: str) -> Artifact:
        """The artifact (NotFound if absent or another tenant's)."""
        ...


class Outbox(Protocol):
    """What side effects (e-mails, webhooks) were already carried out, by idempotency
    key, so that a retried or resumed step does not act twice."""

    async def done(self, tenant_id: str, key: str) -> dict[str, Any] | None:
        """The result recorded for `key`, or None if it was not done yet."""
        ...

    async def record(self, tenant_id: str, key: str, result: dict[str, Any]) -> None:
        """Record that `key` was done with `result`.

        Recording the same key again keeps the first result.
        """
        ...
