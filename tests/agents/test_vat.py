"""`vat_agent` on the SQL ledger (SQLite and PostgreSQL): VAT per rate, deductible
VAT, the amount payable and the Finnish summary, against sums computed here."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import pytest

from agent_orchestrator.agents.resources import AgentResources
from agent_orchestrator.agents.vat import VatAgent, VatInput
from agent_orchestrator.core.bookkeeping import EntryKind, NewLedgerEntry, VatLine
from agent_orchestrator.core.errors import NonRetryableAgentError
from agent_orchestrator.core.protocols import AgentContext
from agent_orchestrator.store.ledger import SqlLedgerStore

if TYPE_CHECKING:
    from collections.abc import Mapping

    from agent_orchestrator.store.database import Database

pytestmark = pytest.mark.anyio
NBSP = "\u00a0"
CENT = Decimal("0.01")
OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def context(tenant_id: str = "acme") -> AgentContext:
    async def progress(
        message: str, fraction: float | None, data: Mapping[str, Any] | None
    ) -> None:
        del message, fraction, data

    return AgentContext(
        tenant_id=tenant_id,
        execution_id="exec-vat",
        step_id="vat",
        agent_id="vat_agent",
        attempt=1,
        logger=logging.getLogger("test.vat"),
        progress=progress,
    )


def entry(
    key: str,
    kind: EntryKind,
    day: dt.date,
    lines: list[tuple[str, str]],
    category: str = "other",
) -> NewLedgerEntry:
    """An entry with VAT lines given as (rate, net); VAT = net * rate, half up."""
    vat_lines = []
    for rate, net in lines:
        vat = (Decimal(net) * Decimal(rate) / 100).quantize(CENT, ROUND_HALF_UP)
        vat_lines.append(VatLine(Decimal(rate), Decimal(net), vat, Decimal(net) + vat))
    return NewLedgerEntry(
        booking_key=key,
        kind=kind,
        entry_date=day,
        counterparty="Yritys Oy",
        account="3000" if kind is EntryKind.INCOME else "7990",
        category="sales" if kind is EntryKind.INCOME else category,
        description="",
        gross=sum((line.gross for line in vat_lines), Decimal(0)),
        vat_lines=tuple(vat_lines),
        document_type="sale" if kind is EntryKind.INCOME else "receipt",
    )


@pytest.fixture
def ledger(database: Database) -> SqlLedgerStore:
    return SqlLedgerStore(database)


@pytest.fixture
def agent(ledger: SqlLedgerStore) -> VatAgent:
    return VatAgent(AgentResources(ledger=ledger))


async def run(agent: VatAgent, start: dt.date, end: dt.date) -> Any:
    return await agent.run(VatInput(period_start=start, period_end=end), context())


async def test_vat_per_rate_and_payable(
    agent: VatAgent, ledger: SqlLedgerStore
) -> None:
    day = dt.date(2026, 10, 10)
    await ledger.book(
        "acme",
        [
            entry("s1", EntryKind.INCOME, day, [("25.5", "1000.00"), ("14", "200.00")]),
            entry("s2", EntryKind.INCOME, dt.date(2026, 10, 1), [("25.5", "0.10")]),
            entry("p1", EntryKind.EXPENSE, dt.date(2026, 10, 31), [("25.5", "80.00")]),
            entry("p2", EntryKind.EXPENSE, day, [("13.5", "33.33"), ("10", "9.99")]),
            entry("p3", EntryKind.EXPENSE, day, [("0", "5.00")], "bank_fees"),
            # Outside the period, and another tenant's: left out.
            entry("late", EntryKind.INCOME, dt.date(2026, 11, 1), [("25.5", "999")]),
        ],
    )
    await ledger.book(
        "globex", [entry("g", EntryKind.INCOME, day, [("25.5", "5000.00")])]
    )
    out = await run(agent, *OCTOBER)
    # By hand: 1000 * 25.5 % = 255.00, 0.10 * 25.5 % = 0.0255 -> 0.03,
    # 200 * 14 % = 28.00; 80 * 25.5 % = 20.40, 33.33 * 13.5 % = 4.49955 -> 4.50,
    # 9.99 * 10 % = 0.999 -> 1.00.
    assert [r.model_dump() for r in out.rates] == [
        {
            "rate": 25.5,
            "sales_net": 1000.10,
            "sales_vat": 255.03,
            "purchases_net": 80.0,
            "purchases_vat": 20.40,
        },
        {
            "rate": 14.0,
            "sales_net": 200.0,
            "sales_vat": 28.0,
            "purchases_net": 0.0,
            "purchases_vat": 0.0,
        },
        {
            "rate": 13.5,
            "sales_net": 0.0,
            "sales_vat": 0.0,
            "purchases_net": 33.33,
            "purchases_vat": 4.50,
        },
        {
            "rate": 10.0,
            "sales_net": 0.0,
            "sales_vat": 0.0,
            "purchases_net": 9.99,
            "purchases_vat": 1.00,
        },
        {
            "rate": 0.0,
            "sales_net": 0.0,
            "sales_vat": 0.0,
            "purchases_net": 5.0,
            "purchases_vat": 0.0,
        },
    ]
    assert out.sales_vat == 283.03
    assert out.deductible_vat == 25.90
    assert out.payable == 257.13
    assert out.non_deductible_vat == 0.0
    assert (out.period_start, out.period_end) == OCTOBER
    # Amounts and rates the Finnish way: a no-break space groups the digits and
    # stands before € and %.
    assert out.summary.startswith(
        f"ALV 1.10.2026–31.10.2026: myynnin vero 283,03{NBSP}€"
    )
    assert f"vähennettävä vero 25,90{NBSP}€" in out.summary
    assert f"maksettava vero 257,13{NBSP}€" in out.summary
    assert f"25,5{NBSP}%: myynti 1{NBSP}000,10{NBSP}€" in out.summary
    assert f"13,5{NBSP}%" in out.summary and f"10{NBSP}%" in out.summary


async def test_entertainment_vat_is_not_deducted(
    agent: VatAgent, ledger: SqlLedgerStore
) -> None:
    day = dt.date(2026, 10, 10)
    await ledger.book(
        "acme",
        [
            entry(
                "meal", EntryKind.EXPENSE, day, [("13.5", "100.00")], "representation"
            ),
            entry("fuel", EntryKind.EXPENSE, day, [("25.5", "40.00")], "fuel"),
        ],
    )
    out = await run(agent, *OCTOBER)
    assert [r.purchases_vat for r in out.rates] == [10.20, 13.50]  # as printed
    assert out.deductible_vat == 10.20 and out.non_deductible_vat == 13.50
    assert out.payable == -10.20  # a refund
    assert f"palautettava vero 10,20{NBSP}€" in out.summary
    assert "ei ole vähennyskelpoinen" in out.summary


async def test_an_empty_period(agent: VatAgent) -> None:
    out = await run(agent, *OCTOBER)
    assert out.rates == [] and out.payable == 0.0 and out.sales_vat == 0.0
    assert "ei kirjauksia" in out.summary


async def test_a_reversed_period_is_refused(agent: VatAgent) -> None:
    with pytest.raises(NonRetryableAgentError, match="swap them"):
        await run(agent, dt.date(2026, 10, 31), dt.date(2026, 10, 1))


async def test_without_a_ledger_the_agent_says_so() -> None:
    with pytest.raises(NonRetryableAgentError, match="no ledger store"):
        await run(VatAgent(AgentResources()), *OCTOBER)
