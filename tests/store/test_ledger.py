"""The bookkeeping repositories on SQLite and PostgreSQL: ledger, artifacts, outbox."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import anyio
import pytest

from agent_orchestrator.core.bookkeeping import EntryKind, NewLedgerEntry, VatLine
from agent_orchestrator.core.errors import NotFound
from agent_orchestrator.store.artifacts import SqlArtifactStore
from agent_orchestrator.store.ledger import SqlLedgerStore
from agent_orchestrator.store.outbox import SqlOutbox

if TYPE_CHECKING:
    from agent_orchestrator.store.database import Database

pytestmark = pytest.mark.anyio


def entry(
    key: str, day: dt.date, gross: str = "12.55", **extra: object
) -> NewLedgerEntry:
    net = (Decimal(gross) / Decimal("1.255")).quantize(Decimal("0.01"))
    fields: dict[str, object] = {
        "booking_key": key,
        "kind": EntryKind.EXPENSE,
        "entry_date": day,
        "counterparty": "Tokmanni Oy",
        "business_id": "0113782-0",
        "account": "4000",
        "category": "office_supplies",
        "description": "Toimistotarvikkeet",
        "gross": Decimal(gross),
        "vat_lines": (
            VatLine(Decimal("25.5"), net, Decimal(gross) - net, Decimal(gross)),
        ),
        "document_type": "receipt",
        "source_file": "kuitti.png",
        "execution_id": "exec-1",
        "details": {"date": day, "total": Decimal(gross)},
    }
    fields.update(extra)
    return NewLedgerEntry(**fields)  # type: ignore[arg-type]


async def test_book_stores_every_field_with_decimal_money(database: Database) -> None:
    ledger = SqlLedgerStore(database)
    day = dt.date(2026, 10, 3)
    [booked] = await ledger.book("acme", [entry("e:1", day, "1234567.89")])
    [read] = await ledger.entries("acme", day, day)
    for got in (booked, read):
        assert got.id and got.tenant_id == "acme" and got.booking_key == "e:1"
        assert got.kind is EntryKind.EXPENSE and got.entry_date == day
        assert got.gross == Decimal("1234567.89") and isinstance(got.gross, Decimal)
        assert got.counterparty == "Tokmanni Oy" and got.business_id == "0113782-0"
        assert (got.account, got.category) == ("4000", "office_supplies")
        assert got.document_type == "receipt" and got.source_file == "kuitti.png"
        assert got.execution_id == "exec-1"
        [line] = got.vat_lines
        assert line.rate == Decimal("25.5")
        assert line.net + line.vat == line.gross == Decimal("1234567.89")
        assert got.details == {"date": "2026-10-03", "total": "1234567.89"}
        assert got.created_at is not None and got.created_at.tzinfo is not None
    assert read == booked


async def test_rebooking_a_key_returns_the_stored_entry(database: Database) -> None:
    ledger = SqlLedgerStore(database)
    day = dt.date(2026, 10, 3)
    [first] = await ledger.book("acme", [entry("e:1", day, "10.00")])
    again = await ledger.book(
        "acme", [entry("e:2", day, "5.00"), entry("e:1", day, "99.99")]
    )
    assert again[1] == first  # the first booking wins, the new figures are ignored
    assert again[0].gross == Decimal("5.00")
    assert len(await ledger.entries("acme", day, day)) == 2
    assert await ledger.book("acme", []) == []


async def test_concurrent_bookings_of_one_key_book_it_once(database: Database) -> None:
    ledger = SqlLedgerStore(database)
    day = dt.date(2026, 10, 3)
    results: list[str] = []

    async def book(gross: str) -> None:
        [booked] = await ledger.book("acme", [entry("race", day, gross)])
        results.append(booked.id)

    async with anyio.create_task_group() as tg:
        for n in range(8):
            tg.start_soon(book, f"{n + 1}.00")
    assert len(results) == 8 and len(set(results)) == 1
    assert len(await ledger.entries("acme", day, day)) == 1


async def test_period_read_is_inclusive_and_ordered(database: Database) -> None:
    ledger = SqlLedgerStore(database)
    days = [dt.date(2026, 9, 30), dt.date(2026, 10, 31), dt.date(2026, 10, 1)]
    days += [dt.date(2026, 11, 1), dt.date(2026, 10, 15)]
    await ledger.book("acme", [entry(f"k{i}", d) for i, d in enumerate(days)])
    got = await ledger.entries("acme", dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert [e.entry_date for e in got] == [
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 15),
        dt.date(2026, 10, 31),
    ]


async def test_tenants_do_not_see_each_others_entries(database: Database) -> None:
    ledger = SqlLedgerStore(database)
    day = dt.date(2026, 10, 3)
    [acme] = await ledger.book("acme", [entry("same-key", day, "1.00")])
    [globex] = await ledger.book("globex", [entry("same-key", day, "2.00")])
    assert acme.id != globex.id  # one key, two tenants: two entries
    assert [e.gross for e in await ledger.entries("acme", day, day)] == [
        Decimal("1.00")
    ]
    assert [e.gross for e in await ledger.entries("globex", day, day)] == [
        Decimal("2.00")
    ]
    assert await ledger.entries("initech", day, day) == []


async def test_artifacts_are_saved_and_read_by_their_tenant(
    database: Database,
) -> None:
    store = SqlArtifactStore(database)
    content = b"%PDF-1.4\n\x00\xff binary"
    saved = await store.save(
        "acme", "raportti.pdf", "application/pdf", content, execution_id="exec-1"
    )
    got = await store.get(saved.id, "acme")
    assert got.content == content and got.filename == "raportti.pdf"
    assert got.content_type == "application/pdf" and got.execution_id == "exec-1"
    assert got.tenant_id == "acme" and got.created_at is not None
    with pytest.raises(NotFound):
        await store.get(saved.id, "globex")
    with pytest.raises(NotFound):
        await store.get("no-such-id", "acme")
    other = await store.save("acme", "raportti.pdf", "application/pdf", content)
    assert other.id != saved.id  # no key: every save is a new artifact


async def test_saving_an_artifact_key_again_returns_the_first(
    database: Database,
) -> None:
    store = SqlArtifactStore(database)
    first = await store.save("acme", "a.md", "text/markdown", b"first", key="x:report")
    again = await store.save("acme", "b.md", "text/markdown", b"second", key="x:report")
    assert again.id == first.id and again.content == b"first"
    theirs = await store.save("globex", "c.md", "text/markdown", b"g", key="x:report")
    assert theirs.id != first.id
    assert (await store.get(first.id, "acme")).content == b"first"


async def test_outbox_records_once_per_tenant_and_key(database: Database) -> None:
    outbox = SqlOutbox(database)
    assert await outbox.done("acme", "exec:notify") is None
    await outbox.record("acme", "exec:notify", {"sent_to": ["a@example.fi"]})
    await outbox.record("acme", "exec:notify", {"sent_to": ["b@example.fi"]})
    assert await outbox.done("acme", "exec:notify") == {"sent_to": ["a@example.fi"]}
    assert await outbox.done("globex", "exec:notify") is None
