"""The shipped `receipt_processing` and `invoice_processing` templates end to end: the
real engine and built-in agents on SQLite and PostgreSQL read generated documents from
the tenant's files area (OCR), parse, categorise and book them; the booked ledger entry
must carry the generated document's total, date and VAT lines."""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING

import pytest

from agent_orchestrator.core.enums import ExecutionStatus, StepStatus
from agent_orchestrator.store.ledger import SqlLedgerStore
from tests.support.documents import make_invoice, make_receipt
from tests.support.scans import place
from tests.support.workflows import open_workflows, run

if TYPE_CHECKING:
    from pathlib import Path

    from agent_orchestrator.core.bookkeeping import LedgerEntry
    from agent_orchestrator.store.database import Database
    from tests.support.documents import Document

pytestmark = pytest.mark.anyio
TENANT = "acme"


def assert_booked_as(entry: LedgerEntry, doc: Document, kind: str, name: str) -> None:
    assert entry.document_type == kind
    assert entry.entry_date == doc.date
    assert entry.gross == doc.total
    assert sorted((v.rate, v.net, v.vat, v.gross) for v in entry.vat_lines) == sorted(
        (v.rate, v.net, v.vat, v.gross) for v in doc.vat_rows
    )
    assert entry.counterparty == doc.merchant
    assert entry.business_id == doc.business_id
    assert entry.source_file == name


async def booked(database: Database, entry_ids: list[str], day: dt.date) -> LedgerEntry:
    entries = await SqlLedgerStore(database).entries(TENANT, day, day)
    [entry] = [e for e in entries if e.id in entry_ids]
    return entry


@pytest.mark.parametrize("fmt", ["png", "scan.pdf"])
async def test_receipt_processing(database: Database, tmp_path: Path, fmt: str) -> None:
    rng = random.Random(4100 + len(fmt))
    doc = make_receipt(rng)
    name = place(doc, tmp_path / TENANT, fmt, rng)
    async with open_workflows(database, tmp_path) as service:
        done = await run(
            service, template_id="receipt_processing", variables={"receipt_file": name}
        )
    assert done.status is ExecutionStatus.SUCCEEDED, done.error_message
    assert [s.status for s in done.steps] == [StepStatus.SUCCEEDED] * 4
    result = dict(done.result or {})
    assert set(result) == {"receipt", "category", "entry_ids"}
    assert result["receipt"]["total"] == float(doc.total)
    assert result["receipt"]["date"] == doc.date.isoformat()
    assert isinstance(result["category"], str) and result["category"]
    entry = await booked(database, result["entry_ids"], doc.date)
    assert_booked_as(entry, doc, "receipt", name)
    assert entry.category == result["category"]


@pytest.mark.parametrize(("fmt", "rf"), [("pdf", False), ("png", True)])
async def test_invoice_processing(
    database: Database, tmp_path: Path, fmt: str, rf: bool
) -> None:
    rng = random.Random(4200 + len(fmt))
    doc = make_invoice(rng, rf=rf)
    name = place(doc, tmp_path / TENANT, fmt, rng)
    async with open_workflows(database, tmp_path) as service:
        done = await run(
            service, template_id="invoice_processing", variables={"invoice_file": name}
        )
    assert done.status is ExecutionStatus.SUCCEEDED, done.error_message
    result = dict(done.result or {})
    invoice = result["invoice"]
    assert (invoice["iban"], invoice["reference"]) == (doc.iban, doc.reference)
    assert invoice["due_date"] == str(doc.due_date)
    assert invoice["virtual_barcode"] == doc.barcode
    entry = await booked(database, result["entry_ids"], doc.date)
    assert_booked_as(entry, doc, "invoice", name)
    assert entry.details["invoice_number"] == doc.invoice_number


async def test_a_template_on_a_file_outside_the_area_fails_clearly(
    database: Database, tmp_path: Path
) -> None:
    async with open_workflows(database, tmp_path) as service:
        done = await run(
            service,
            template_id="receipt_processing",
            variables={"receipt_file": "../globex/kuitti.png"},
        )
    assert done.status is ExecutionStatus.FAILED
    assert "outside your files area" in (done.error_message or "")
    steps = {s.step_id: s.status for s in done.steps}
    assert steps["ocr"] is StepStatus.FAILED
    assert steps["book"] is not StepStatus.SUCCEEDED
    assert (
        await SqlLedgerStore(database).entries(
            TENANT, dt.date(2000, 1, 1), dt.date(2100, 1, 1)
        )
        == []
    )
