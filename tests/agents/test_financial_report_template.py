"""The shipped `financial_report` template through the real engine, registry and
stores, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import anyio
import pypdf
import pytest

from agent_orchestrator.agents.builtin import create_agent_registry
from agent_orchestrator.config import Settings
from agent_orchestrator.core.bookkeeping import EntryKind, NewLedgerEntry, VatLine
from agent_orchestrator.core.enums import ExecutionStatus, StepStatus
from agent_orchestrator.core.errors import ValidationFailed
from agent_orchestrator.engine.bus import EventBus
from agent_orchestrator.engine.runner import Runner
from agent_orchestrator.service.starting import ExecuteRequest, ExecutionStarter
from agent_orchestrator.store.artifacts import SqlArtifactStore
from agent_orchestrator.store.ledger import SqlLedgerStore
from agent_orchestrator.store.outbox import SqlOutbox
from agent_orchestrator.store.runs import SqlRunStore
from agent_orchestrator.wiring.services import load_checked_templates
from tests.engine.conftest import FAST

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from agent_orchestrator.core.protocols import ExecutionRecord
    from agent_orchestrator.store.database import Database

pytestmark = pytest.mark.anyio
NBSP = "\u00a0"

# (day, kind, category, account, rate, net, vat): one VAT line each.
BOOKED = [
    ("2026-10-03", EntryKind.INCOME, "sales", "3000", "25.5", "4200.00", "1071.00"),
    ("2026-10-09", EntryKind.EXPENSE, "rent", "7000", "25.5", "1100.00", "280.50"),
    ("2026-10-12", EntryKind.EXPENSE, "telecom", "7830", "25.5", "49.90", "12.72"),
    ("2026-10-30", EntryKind.EXPENSE, "travel", "7500", "13.5", "230.00", "31.05"),
    ("2026-09-15", EntryKind.INCOME, "sales", "3000", "25.5", "3000.00", "765.00"),
    ("2026-09-20", EntryKind.EXPENSE, "rent", "7000", "25.5", "1100.00", "280.50"),
    ("2026-11-02", EntryKind.EXPENSE, "rent", "7000", "25.5", "1100.00", "280.50"),
]
VARIABLES = {"period_start": "2026-10-01", "period_end": "2026-10-31"}


def october() -> dict[str, Decimal]:
    """The report's figures, summed here from `BOOKED`."""
    rows = [r for r in BOOKED if "2026-10-01" <= r[0] <= "2026-10-31"]
    income = sum((Decimal(r[5]) for r in rows if r[1] is EntryKind.INCOME), Decimal(0))
    expenses = sum(
        (Decimal(r[5]) for r in rows if r[1] is EntryKind.EXPENSE), Decimal(0)
    )
    sales_vat = sum(
        (Decimal(r[6]) for r in rows if r[1] is EntryKind.INCOME), Decimal(0)
    )
    purchase_vat = sum(
        (Decimal(r[6]) for r in rows if r[1] is EntryKind.EXPENSE), Decimal(0)
    )
    return {
        "income": income,
        "expenses": expenses,
        "vat_payable": sales_vat - purchase_vat,
        "result": income - expenses,
    }


@dataclass
class Rig:
    service: ExecutionStarter
    runner: Runner
    artifacts: SqlArtifactStore


@pytest.fixture
async def rig(database: Database, tmp_path: Path) -> AsyncIterator[Rig]:
    ledger = SqlLedgerStore(database)
    await ledger.book(
        "acme",
        [
            NewLedgerEntry(
                booking_key=f"booked:{n}",
                kind=kind,
                entry_date=dt.date.fromisoformat(day),
                counterparty="Yritys Oy",
                account=account,
                category=category,
                description=category,
                gross=Decimal(net) + Decimal(vat),
                vat_lines=(
                    VatLine(
                        Decimal(rate),
                        Decimal(net),
                        Decimal(vat),
                        Decimal(net) + Decimal(vat),
                    ),
                ),
            )
            for n, (day, kind, category, account, rate, net, vat) in enumerate(BOOKED)
        ],
    )
    artifacts = SqlArtifactStore(database)
    settings = Settings(_env_file=None, agent_files_dir=tmp_path)
    registry = create_agent_registry(
        settings,
        ledger=ledger,
        artifacts=artifacts,
        outbox=SqlOutbox(database),
    )
    templates = load_checked_templates(registry)
    async with Runner(SqlRunStore(database), registry, EventBus(), FAST) as runner:
        yield Rig(ExecutionStarter(runner, registry, templates), runner, artifacts)


async def execute(rig: Rig, variables: dict[str, Any]) -> ExecutionRecord:
    record, created = await rig.service.execute(
        ExecuteRequest(
            tenant_id="acme", template_id="financial_report", variables=variables
        )
    )
    assert created
    with anyio.fail_after(60):
        return await rig.runner.wait_finished(record.id)


def test_the_template_is_shipped_and_valid(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, agent_files_dir=tmp_path)
    template = load_checked_templates(create_agent_registry(settings))[
        "financial_report"
    ]
    variables = template.graph.variables
    assert (
        variables["period_start"].type == "date" and variables["period_start"].required
    )
    assert variables["period_end"].type == "date" and variables["period_end"].required
    assert variables["format"].type == "string"
    assert variables["format"].default == "markdown"
    assert [(s.id, s.agent) for s in template.graph.steps] == [
        ("report", "report_agent")
    ]
    assert set(template.graph.outputs) == {
        "artifact_id",
        "format",
        "filename",
        "content",
        "summary",
        "totals",
    }
    assert template.notify is not None
    assert template.notify.attachments == ["${steps.report.artifact_id}"]
    assert "talousraportti" in template.keywords


async def test_markdown_by_default(rig: Rig) -> None:
    final = await execute(rig, VARIABLES)
    assert final.status is ExecutionStatus.SUCCEEDED, final.error_message
    result = dict(final.result or {})
    assert set(result) == {
        "artifact_id",
        "format",
        "filename",
        "content",
        "summary",
        "totals",
    }
    assert result["format"] == "markdown"
    assert result["filename"] == "talousraportti_2026-10-01_2026-10-31.md"
    expected = october()
    assert result["totals"] == {k: float(v) for k, v in expected.items()}
    for value in expected.values():
        text = f"{value:,.2f}".replace(",", NBSP).replace(".", ",") + f"{NBSP}€"
        assert text in result["content"]
    stored = await rig.artifacts.get(result["artifact_id"], "acme")
    assert stored.content.decode() == result["content"]
    assert stored.execution_id == final.id
    [step] = final.steps
    assert step.status is StepStatus.SUCCEEDED and step.attempts == 1


async def test_pdf_and_json_through_the_engine(rig: Rig) -> None:
    pdf = await execute(rig, {**VARIABLES, "format": "pdf"})
    assert pdf.status is ExecutionStatus.SUCCEEDED, pdf.error_message
    result = dict(pdf.result or {})
    assert result["filename"].endswith(".pdf")
    stored = await rig.artifacts.get(result["artifact_id"], "acme")
    assert stored.content_type == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(stored.content)).pages[0].extract_text()
    income = october()["income"]
    assert f"{income:,.2f}".replace(",", " ").replace(".", ",") + " €" in text.replace(
        NBSP, " "
    )
    doc = await execute(rig, {**VARIABLES, "format": "json"})
    body = json.loads(dict(doc.result or {})["content"])
    assert body["totals"]["result"] == float(october()["result"])


async def test_a_wrong_format_fails_the_step_with_the_reason(rig: Rig) -> None:
    final = await execute(rig, {**VARIABLES, "format": "docx"})
    assert final.status is ExecutionStatus.FAILED
    [step] = final.steps
    assert step.attempts == 1  # bad input is not retried
    assert "format" in (step.error or "") and "pdf" in (step.error or "")


async def test_missing_period_is_refused_before_running(rig: Rig) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await rig.service.execute(
            ExecuteRequest(
                tenant_id="acme",
                template_id="financial_report",
                variables={"period_start": "2026-10-01"},
            )
        )
    assert any("period_end" in p.path for p in caught.value.problems)
