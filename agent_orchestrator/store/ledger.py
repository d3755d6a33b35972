"""The ledger (``agent_ledger_entries``): booked receipts, invoices and sales.

Implements `core.bookkeeping.LedgerStore`. Booking is idempotent by `booking_key` per
tenant: a retried or resumed step that books the same key gets the stored entry back.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..core.bookkeeping import EntryKind, LedgerEntry, VatLine
from ..core.ids import as_utc, new_id, utcnow
from .conflicts import insert_or_skip
from .models import LedgerEntryRow, table_of

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping, Sequence

    from ..core.bookkeeping import NewLedgerEntry
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
        "details": json.loads(json.dumps(dict(entry.details), default=str)),
        "created_at": now,
    }


def ledger_entry(row: Mapping[Any, Any]) -> LedgerEntry:
    """A `LedgerEntry` from a row."""
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
