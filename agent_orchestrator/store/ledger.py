"""The ledger (``agent_ledger_entries``): booked receipts, invoices and sales, and the
drafts held for review.

Implements `core.bookkeeping.LedgerStore`. Booking is idempotent by `booking_key` per
tenant: a retried or resumed step that books the same key gets the stored entry back.
Only entries with status ``booked`` are ever read as the ledger; drafts are read only
through the review queue.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select

from ..core.bookkeeping import Draft, EntryKind, EntryStatus, LedgerEntry, VatLine
from ..core.errors import NotFound
from ..core.ids import as_utc, new_id, utcnow
from ..core.records import Page
from .audit import write_audit
from .conflicts import insert_or_skip
from .models import LedgerEntryRow, table_of
from .pagination import check_page_size, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from ..core.bookkeeping import DraftChange, NewDraft, NewLedgerEntry
    from .database import Database

entries_table = table_of(LedgerEntryRow)
CENT = Decimal("0.01")


class SqlLedgerStore:
    """A tenant's ledger in SQL; see `core.bookkeeping.LedgerStore`."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def book(
        self, tenant_id: str, entries: Sequence[NewLedgerEntry]
    ) -> list[LedgerEntry]:
        """Book `entries` in one transaction, each `booking_key` once per tenant.

        Returns:
            The stored entries in the order given; an entry booked before (by this or
            a concurrent call) is returned as it was stored then.
        """
        if not entries:
            return []
        now = utcnow()
        rows = [_row(tenant_id, entry, now) for entry in entries]
        keys = sorted({entry.booking_key for entry in entries})
        async with self.db.write() as conn:
            await conn.execute(
                insert_or_skip(self.db, entries_table, ["tenant_id", "booking_key"]),
                rows,
            )
            found = (
                await conn.execute(
                    select(entries_table).where(
                        entries_table.c.tenant_id == tenant_id,
                        entries_table.c.booking_key.in_(keys),
                    )
                )
            ).mappings()
            by_key = {row["booking_key"]: ledger_entry(row) for row in found}
        return [by_key[entry.booking_key] for entry in entries]

    async def entries(
        self, tenant_id: str, start: dt.date, end: dt.date
    ) -> list[LedgerEntry]:
        """The tenant's entries dated `start` to `end` inclusive, by date then booking
        time."""
        query = (
            select(entries_table)
            .where(
                entries_table.c.tenant_id == tenant_id,
                entries_table.c.status == EntryStatus.BOOKED.value,
                entries_table.c.entry_date >= start,
                entries_table.c.entry_date <= end,
            )
            .order_by(
                entries_table.c.entry_date,
                entries_table.c.created_at,
                entries_table.c.id,
            )
        )
        async with self.db.read() as conn:
            return [ledger_entry(r) for r in (await conn.execute(query)).mappings()]

    async def hold(self, tenant_id: str, draft: NewDraft) -> Draft:
        """Keep a document for review; see `core.bookkeeping.LedgerStore.hold`."""
        document = _jsonable(draft.document)
        row = {
            "id": new_id(),
            "tenant_id": tenant_id,
            "booking_key": draft.booking_key,
            "kind": EntryKind(draft.kind).value,
            "entry_date": _day(document.get("date")),
            "counterparty": str(document.get("merchant") or "tuntematon")[:200],
            "business_id": (document.get("business_id") or None),
            "account": draft.account,
            "category": draft.category,
            "description": draft.description,
            "gross": _amount(document.get("total")),
            # The lines as read; they become the entry's when it is booked.
            "vat_lines": [],
            "document_type": draft.document_type,
            "source_file": draft.source_file,
            "execution_id": draft.execution_id,
            "details": document,
            "created_at": utcnow(),
            "status": EntryStatus.DRAFT.value,
            "warnings": list(draft.warnings),
            "step_id": draft.step_id,
        }
        async with self.db.write() as conn:
            await conn.execute(
                insert_or_skip(self.db, entries_table, ["tenant_id", "booking_key"]),
                [row],
            )
            found = (
                (
                    await conn.execute(
                        select(entries_table).where(
                            entries_table.c.tenant_id == tenant_id,
                            entries_table.c.booking_key == draft.booking_key,
                        )
                    )
                )
                .mappings()
                .one()
            )
        return draft_of(found)

    async def drafts(
        self, tenant_id: str, *, first: int = 20, after: str | None = None
    ) -> Page[Draft]:
        """The tenant's drafts, oldest first (a queue)."""
        check_page_size(first)
        table = entries_table
        query = select(table).where(
            table.c.tenant_id == tenant_id,
            table.c.status == EntryStatus.DRAFT.value,
        )
        if after:
            at, row_id = decode_cursor(after)
            query = query.where(
                or_(
                    table.c.created_at > at,
                    and_(table.c.created_at == at, table.c.id > row_id),
                )
            )
        query = query.order_by(table.c.created_at, table.c.id).limit(first + 1)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        found = [draft_of(r) for r in rows[:first]]
        return Page(
            [(encode_cursor(d.created_at, d.id), d) for d in found],
            has_next=len(rows) > first,
            has_previous=after is not None,
        )

    async def draft(self, entry_id: str, tenant_id: str) -> Draft:
        """One entry as the review queue shows it, whatever its status.

        Raises:
            NotFound: The tenant has no such entry.
        """
        query = select(entries_table).where(
            entries_table.c.id == entry_id, entries_table.c.tenant_id == tenant_id
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).mappings().one_or_none()
        if row is None:
            raise NotFound(f"no document {entry_id!r} in your review queue or ledger")
        return draft_of(row)

    async def change_draft(
        self, entry_id: str, tenant_id: str, change: Callable[[Draft], DraftChange]
    ) -> Draft:
        """Apply `change` to the entry, decided on the entry as stored in the same
        transaction (its row locked); what `change` raises leaves it as it was.

        Raises:
            NotFound: The tenant has no such entry.
        """
        table = entries_table
        query = select(table).where(
            table.c.id == entry_id, table.c.tenant_id == tenant_id
        )
        async with self.db.write() as conn:
            if not self.db.is_sqlite:
                query = query.with_for_update()
            row = (await conn.execute(query)).mappings().one_or_none()
            if row is None:
                raise NotFound(
                    f"no document {entry_id!r} in your review queue or ledger"
                )
            decided = change(draft_of(row))
            document = _jsonable(decided.document)
            values: dict[str, Any] = {
                "details": document,
                "entry_date": _day(document.get("date")),
                "gross": _amount(document.get("total")),
                "counterparty": str(document.get("merchant") or "tuntematon")[:200],
                "business_id": document.get("business_id") or None,
                "updated_at": utcnow(),
            }
            if decided.booked is not None:
                booked = _row(tenant_id, decided.booked, row["created_at"])
                values.update(
                    {
                        name: booked[name]
                        for name in (
                            "entry_date",
                            "counterparty",
                            "business_id",
                            "gross",
                            "vat_lines",
                            "description",
                        )
                    },
                    status=EntryStatus.BOOKED.value,
                )
            await conn.execute(
                table.update().where(table.c.id == entry_id).values(**values)
            )
            await write_audit(conn, decided.audit)
            stored = (
                (await conn.execute(select(table).where(table.c.id == entry_id)))
                .mappings()
                .one()
            )
        return draft_of(stored)


def _jsonable(document: Mapping[str, Any]) -> dict[str, Any]:
    # Whatever the parser left in (dates, decimals) is kept as text.
    return dict(json.loads(json.dumps(dict(document), default=str)))


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _amount(value: Any) -> Decimal | None:
    try:
        return _money(value) if value not in (None, "") else None
    except ArithmeticError:  # decimal.InvalidOperation
        return None


def _money(value: Decimal | float | int | str) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _rate(value: Decimal | float | int | str) -> Decimal:
    # 25.50 -> 25.5 and 10.0 -> 10 (normalize alone would give 1E+1).
    rate = Decimal(str(value)).normalize()
    return rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate


def _row(tenant_id: str, entry: NewLedgerEntry, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": new_id(),
        "tenant_id": tenant_id,
        "booking_key": entry.booking_key,
        "kind": EntryKind(entry.kind).value,
        "entry_date": entry.entry_date,
        "counterparty": entry.counterparty,
        "business_id": entry.business_id,
        "account": entry.account,
        "category": entry.category,
        "description": entry.description,
        "gross": _money(entry.gross),
        # Decimals as strings: JSON numbers would go through float.
        "vat_lines": [
            {
                "rate": str(_rate(line.rate)),
                "net": str(_money(line.net)),
                "vat": str(_money(line.vat)),
                "gross": str(_money(line.gross)),
            }
            for line in entry.vat_lines
        ],
        "document_type": entry.document_type,
        "source_file": entry.source_file,
        "execution_id": entry.execution_id,
        # Whatever the parser left in (dates, decimals) is kept as text.
        "details": _jsonable(entry.details),
        "created_at": now,
        "status": EntryStatus.BOOKED.value,
    }


def ledger_entry(row: Mapping[Any, Any]) -> LedgerEntry:
    """A `LedgerEntry` from a booked entry's row (which has its date and total)."""
    assert row["entry_date"] is not None and row["gross"] is not None, "a draft"
    return LedgerEntry(
        id=row["id"],
        tenant_id=row["tenant_id"],
        booking_key=row["booking_key"],
        kind=EntryKind(row["kind"]),
        entry_date=row["entry_date"],
        counterparty=row["counterparty"],
        business_id=row["business_id"],
        account=row["account"],
        category=row["category"],
        description=row["description"],
        gross=_money(row["gross"]),
        vat_lines=tuple(
            VatLine(
                rate=_rate(line["rate"]),
                net=_money(line["net"]),
                vat=_money(line["vat"]),
                gross=_money(line["gross"]),
            )
            for line in row["vat_lines"] or ()
        ),
        document_type=row["document_type"],
        source_file=row["source_file"],
        execution_id=row["execution_id"],
        details=dict(row["details"] or {}),
        created_at=as_utc(row["created_at"]),
    )


def draft_of(row: Mapping[Any, Any]) -> Draft:
    """A `Draft` (the review queue's view) from a row."""
    created = as_utc(row["created_at"])
    assert created is not None
    return Draft(
        id=row["id"],
        tenant_id=row["tenant_id"],
        status=EntryStatus(row["status"]),
        kind=EntryKind(row["kind"]),
        document_type=row["document_type"],
        document=dict(row["details"] or {}),
        warnings=tuple(row["warnings"] or ()),
        account=row["account"],
        category=row["category"],
        description=row["description"],
        source_file=row["source_file"],
        execution_id=row["execution_id"],
        step_id=row["step_id"],
        created_at=created,
        updated_at=as_utc(row["updated_at"]),
    )
