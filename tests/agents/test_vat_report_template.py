"""The shipped `vat_report` template run by the real engine with the real built-in
agents on SQLite and PostgreSQL: documents are booked through `ledger_agent` steps
first, then the VAT figures are checked against sums computed here."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from agent_orchestrator.agents.builtin import create_agent_registry
from agent_orchestrator.config import Settings
from agent_orchestrator.core.enums import ExecutionStatus
from agent_orchestrator.engine.bus import EventBus
from agent_orchestrator.engine.runner import Runner
from agent_orchestrator.engine.settings import EngineSettings
from agent_orchestrator.service.starting import ExecuteRequest, ExecutionStarter
from agent_orchestrator.store.artifacts import SqlArtifactStore
from agent_orchestrator.store.ledger import SqlLedgerStore
from agent_orchestrator.store.outbox import SqlOutbox
from agent_orchestrator.store.runs import SqlRunStore
from agent_orchestrator.wiring.services import load_checked_templates

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from agent_orchestrator.core.protocols import ExecutionRecord
    from agent_orchestrator.store.database import Database

pytestmark = pytest.mark.anyio
CENT = Decimal("0.01")
FAST = EngineSettings(
    max_retries=2, timeout_ms=10_000, retry_initial_ms=20, retry_max_ms=500, lease_s=5
)

# (document type, date, [(rate, net), ...]) -- sales and purchases at every rate.
DOCUMENTS: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("sale", "2026-10-01", [("25.5", "1200.00"), ("14", "150.00")]),
    ("sale", "2026-10-17", [("13.5", "80.40"), ("10", "45.55")]),
    ("sale", "2026-10-31", [("25.5", "19.99")]),
    ("receipt", "2026-10-03", [("25.5", "47.81")]),
    ("receipt", "2026-10-12", [("13.5", "23.37"), ("25.5", "3.99")]),
    ("invoice", "2026-10-20", [("14", "312.50")]),
    ("receipt", "2026-10-29", [("10", "17.27")]),
    # Outside October: must be left out.
    ("sale", "2026-09-30", [("25.5", "5000.00")]),
    ("receipt", "2026-11-01", [("14", "777.00")]),
]


def vat_of(net: Decimal, rate: Decimal) -> Decimal:
    return (net * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def document(kind: str, day: str, lines: list[tuple[str, str]]) -> dict[str, Any]:
    vat_lines = []
    for rate, net in lines:
        vat = vat_of(Decimal(net), Decimal(rate))
        vat_lines.append(
            {
                "rate": float(rate),
                "net": float(net),
                "vat": float(vat),
                "gross": float(Decimal(net) + vat),
            }
        )
    total = sum(Decimal(str(line["gross"])) for line in vat_lines)
    party = "customer" if kind == "sale" else "merchant"
    return {
        party: "Kahvila Esimerkki Oy" if kind == "sale" else "Neste Espoo",
        "date": day,
        "total": float(total),
        "currency": "EUR",
        "vat_lines": vat_lines,
        "items": [],
    }


def expected_october() -> dict[str, Any]:
    """The figures computed here, independently of the product's code."""
    start, end = "2026-10-01", "2026-10-31"
    rates: dict[Decimal, dict[str, Decimal]] = {}
    for kind, day, lines in DOCUMENTS:
        if not start <= day <= end:
            continue
        side = "sales" if kind == "sale" else "purchases"
        for rate, net in lines:
            row = rates.setdefault(
                Decimal(rate),
                {
                    "sales_net": Decimal(0),
                    "sales_vat": Decimal(0),
                    "purchases_net": Decimal(0),
                    "purchases_vat": Decimal(0),
                },
            )
            row[f"{side}_net"] += Decimal(net)
            row[f"{side}_vat"] += vat_of(Decimal(net), Decimal(rate))
    sales = sum((r["sales_vat"] for r in rates.values()), Decimal(0))
    purchases = sum((r["purchases_vat"] for r in rates.values()), Decimal(0))
    return {
        "rates": [
            {"rate": float(rate), **{k: float(v) for k, v in rates[rate].items()}}
            for rate in sorted(rates, reverse=True)
        ],
        "sales_vat": float(sales),
        "deductible_vat": float(purchases),
        "payable": float(sales - purchases),
    }


@pytest.fixture
async def service(
    database: Database, tmp_path: Path
) -> AsyncIterator[ExecutionStarter]:
    settings = Settings(
        _env_file=None, database_url=str(database.url), agent_files_dir=tmp_path
    )
    registry = create_agent_registry(
        settings,
        ledger=SqlLedgerStore(database),
        artifacts=SqlArtifactStore(database),
        outbox=SqlOutbox(database),
    )
    templates = load_checked_templates(registry)
    async with Runner(SqlRunStore(database), registry, EventBus(), FAST) as runner:
        yield ExecutionStarter(runner, registry, templates)


async def run(service: ExecutionStarter, **request: Any) -> ExecutionRecord:
    record, _ = await service.execute(ExecuteRequest(tenant_id="acme", **request))
    with anyio.fail_after(60):
        return await service.runner.wait_finished(record.id)


async def book_documents(service: ExecutionStarter) -> None:
    steps = [
        {
            "id": f"book{n}",
            "agent": "ledger_agent",
            "inputs": {"document": document(*d), "document_type": d[0]},
        }
        for n, d in enumerate(DOCUMENTS)
    ]
    done = await run(service, graph={"steps": steps})
    assert done.status is ExecutionStatus.SUCCEEDED, done.error_message


async def test_vat_report_for_october(service: ExecutionStarter) -> None:
    await book_documents(service)
    done = await run(
        service,
        template_id="vat_report",
        variables={"period_start": "2026-10-01", "period_end": "2026-10-31"},
    )
    assert done.status is ExecutionStatus.SUCCEEDED, done.error_message
    result = dict(done.result or {})
    expected = expected_october()
    assert result["rates"] == expected["rates"]
    assert [r["rate"] for r in result["rates"]] == [25.5, 14.0, 13.5, 10.0]
    for name in ("sales_vat", "deductible_vat", "payable"):
        assert result[name] == pytest.approx(expected[name], abs=1e-9), name
    summary = result["summary"]
    assert summary.startswith("ALV 1.10.2026–31.10.2026")
    payable = f"{expected['payable']:,.2f}".replace(",", "\u00a0").replace(".", ",")
    assert f"maksettava vero {payable}\u00a0€" in summary


async def test_vat_report_needs_its_period(service: ExecutionStarter) -> None:
    from agent_orchestrator.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        await run(service, template_id="vat_report", variables={})
    paths = {p.path for p in caught.value.problems}
    assert any("period_start" in p for p in paths)
    assert any("period_end" in p for p in paths)
