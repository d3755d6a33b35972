"""`ledger_agent` on the SQL ledger (SQLite and PostgreSQL): booking receipts,
invoices and sales once per step, and reading a period."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from agent_orchestrator.agents.ledger import LedgerAgent, LedgerInput
from agent_orchestrator.agents.resources import AgentResources
from agent_orchestrator.core.bookkeeping import EntryKind
from agent_orchestrator.core.errors import NonRetryableAgentError
from agent_orchestrator.core.protocols import AgentContext
from agent_orchestrator.store.ledger import SqlLedgerStore

if TYPE_CHECKING:
    from collections.abc import Mapping

    from agent_orchestrator.store.database import Database

pytestmark = pytest.mark.anyio


def context(
    step_id: str = "book", execution_id: str = "exec-1", tenant_id: str = "acme"
) -> AgentContext:
    async def progress(
        message: str, fraction: float | None, data: Mapping[str, Any] | None
    ) -> None:
        del message, fraction, data

    return AgentContext(
        tenant_id=tenant_id,
        execution_id=execution_id,
        step_id=step_id,
        agent_id="ledger_agent",
        attempt=1,
        logger=logging.getLogger("test.ledger"),
        progress=progress,
    )


def receipt(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "merchant": "Neste Espoo Leppävaara",
        "business_id": "1852302-9",
        "date": "2026-10-14",
        "total": 62.75,
        "currency": "EUR",
        "vat_lines": [{"rate": 25.5, "net": 50.0, "vat": 12.75, "gross": 62.75}],
        "payment_method": "card",
        "items": [{"description": "Diesel 32,10 l", "amount": 62.75}],
    }
    document.update(changes)
    return document


CATEGORY = {
    "account": "7300",
    "category": "fuel",
    "category_name": "Ajoneuvojen polttoaineet",
    "confidence": 0.9,
    "rule": "merchant:neste",
}


@pytest.fixture
def ledger(database: Database) -> SqlLedgerStore:
    return SqlLedgerStore(database)


@pytest.fixture
def agent(ledger: SqlLedgerStore) -> LedgerAgent:
    return LedgerAgent(AgentResources(ledger=ledger))


async def test_a_receipt_is_booked_as_an_expense(
    agent: LedgerAgent, ledger: SqlLedgerStore
) -> None:
    out = await agent.run(
        LedgerInput(document=receipt(), category=CATEGORY, source_file="k.png"),
        context(),
    )
    assert out.booked and len(out.entry_ids) == 1
    [stored] = await ledger.entries(
        "acme", dt.date(2026, 10, 14), dt.date(2026, 10, 14)
    )
    assert stored.id == out.entry_ids[0]
    assert stored.booking_key == "exec-1:book"
    assert stored.kind is EntryKind.EXPENSE and stored.document_type == "receipt"
    assert (stored.account, stored.category) == ("7300", "fuel")
    assert stored.gross == Decimal("62.75") and stored.counterparty.startswith("Neste")
    assert stored.business_id == "1852302-9" and stored.source_file == "k.png"
    assert stored.execution_id == "exec-1"
    [line] = stored.vat_lines
    assert (line.rate, line.net, line.vat) == (
        Decimal("25.5"),
        Decimal("50.00"),
        Decimal("12.75"),
    )
    assert stored.details["merchant"] == "Neste Espoo Leppävaara"
    [entry] = out.entries
    assert entry["gross"] == 62.75 and entry["entry_date"] == "2026-10-14"
    assert entry["vat_lines"] == [
        {"rate": 25.5, "net": 50.0, "vat": 12.75, "gross": 62.75}
    ]


async def test_a_retried_step_books_once(
    agent: LedgerAgent, ledger: SqlLedgerStore
) -> None:
    first = await agent.run(LedgerInput(document=receipt()), context())
    again = await agent.run(LedgerInput(document=receipt()), context())
    other_step = await agent.run(LedgerInput(document=receipt()), context("book2"))
    assert again.entry_ids == first.entry_ids
    assert other_step.entry_ids != first.entry_ids
    day = dt.date(2026, 10, 14)
    assert len(await ledger.entries("acme", day, day)) == 2


async def test_an_invoice_and_a_sale(
    agent: LedgerAgent, ledger: SqlLedgerStore
) -> None:
    invoice = {
        "merchant": "Elisa Oyj",
        "date": "2026-10-05",
        "due_date": "2026-10-19",
        "invoice_number": "INV-778",
        "total": "49,90",
        "vat_lines": [{"rate": "25.5", "gross": "49.90"}],  # VAT worked out
        "items": [{"description": "Mobiililiittymä", "amount": 49.9}],
    }
    await agent.run(
        LedgerInput(document=invoice, document_type="invoice"), context("inv")
    )
    sale = {"customer": "Asiakas Oy", "date": "2026-10-06", "total": 1255.0}
    await agent.run(LedgerInput(document=sale, document_type="sale"), context("sale"))
    got = await ledger.entries("acme", dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    inv, sold = got
    assert inv.kind is EntryKind.EXPENSE and inv.document_type == "invoice"
    assert inv.category == "telecom"  # chosen by the rules without a category
    assert "INV-778" in inv.description
    [line] = inv.vat_lines
    # 49.90 * 25.5 / 125.5 = 10.1394... -> 10.14
    assert (line.net, line.vat, line.gross) == (
        Decimal("39.76"),
        Decimal("10.14"),
        Decimal("49.90"),
    )
    assert sold.kind is EntryKind.INCOME and sold.counterparty == "Asiakas Oy"
    assert (sold.account, sold.category) == ("3000", "sales")
    # No VAT lines printed: the sales rate (25.5 %) is assumed and marked.
    [line] = sold.vat_lines
    assert (line.rate, line.net, line.vat) == (
        Decimal("25.5"),
        Decimal("1000.00"),
        Decimal("255.00"),
    )
    assert sold.details["vat_assumed"] is True


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"total": None}, "the receipt has no readable total"),
        ({"date": None}, "the receipt has no readable date"),
        ({"date": "14.10.2026"}, "not an ISO date"),
        ({"total": "kolme"}, "total is 'kolme', not a number"),
        ({"vat_lines": [{"rate": 24}]}, "has a rate but no amounts"),
    ],
)
async def test_unreadable_documents_are_refused_clearly(
    agent: LedgerAgent, ledger: SqlLedgerStore, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(NonRetryableAgentError, match=message) as caught:
        await agent.run(LedgerInput(document=receipt(**changes)), context())
    assert not caught.value.retryable
    assert await ledger.entries("acme", dt.date(2000, 1, 1), dt.date(2100, 1, 1)) == []


async def test_book_without_a_document_and_read_without_a_period_are_refused(
    agent: LedgerAgent,
) -> None:
    with pytest.raises(NonRetryableAgentError, match="needs a document"):
        await agent.run(LedgerInput(), context())
    with pytest.raises(NonRetryableAgentError, match="period_start and period_end"):
        await agent.run(LedgerInput(action="read"), context())
    with pytest.raises(NonRetryableAgentError, match="swap them"):
        await agent.run(
            LedgerInput(
                action="read",
                period_start=dt.date(2026, 11, 1),
                period_end=dt.date(2026, 10, 1),
            ),
            context(),
        )


async def test_read_returns_the_tenants_period_inclusive(agent: LedgerAgent) -> None:
    for step, day in enumerate(
        ["2026-09-30", "2026-10-01", "2026-10-31", "2026-11-01"]
    ):
        await agent.run(LedgerInput(document=receipt(date=day)), context(f"s{step}"))
    await agent.run(
        LedgerInput(document=receipt(date="2026-10-15")),
        context("theirs", tenant_id="globex"),
    )
    out = await agent.run(
        LedgerInput(
            action="read",
            period_start=dt.date(2026, 10, 1),
            period_end=dt.date(2026, 10, 31),
        ),
        context("read"),
    )
    assert not out.booked
    assert [e["entry_date"] for e in out.entries] == ["2026-10-01", "2026-10-31"]
    assert out.entry_ids == [e["id"] for e in out.entries]
