"""How often OCR plus parsing reads a receipt fully right: 30 generated receipts (fonts,
sizes, noise, a slight tilt; PNG, JPEG, TIFF and scanned PDFs), read by the real
`ocr_agent` with Tesseract and parsed by `receipt_parser_agent`. A receipt counts as
right when its total, date, Y-tunnus and every VAT line (rate, net, VAT, gross) are."""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from agent_orchestrator.agents.builtin import create_agent_registry
from agent_orchestrator.agents.ocr import OcrInput, OcrOutput
from agent_orchestrator.agents.receipts import ReceiptInput, ReceiptOutput
from agent_orchestrator.config import Settings
from agent_orchestrator.core.protocols import AgentContext
from tests.support.documents import Document, make_receipt, printed_vat
from tests.support.scans import place

if TYPE_CHECKING:
    from pathlib import Path

#: 30 Tesseract readings (a second one for a page whose figures disagree) need more
#: than the default limit when the machine is loaded.
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(600)]

COUNT = 30
REQUIRED = 0.90
WORKERS = 2  # the machine has two cores; Tesseract runs in worker threads
FORMATS = ("png", "png", "jpeg", "tiff", "scan.pdf")


def context(step: str) -> AgentContext:
    async def progress(*args: Any) -> None:
        return None

    return AgentContext(
        tenant_id="acme",
        execution_id="accuracy",
        step_id=step,
        agent_id=step,
        attempt=1,
        logger=logging.getLogger("tests.accuracy"),
        progress=progress,
    )


def differences(doc: Document, out: ReceiptOutput) -> list[str]:
    r = out.receipt
    wrong = []
    if r.total != float(doc.total):
        wrong.append(f"total {r.total} != {doc.total}")
    if r.date != doc.date:
        wrong.append(f"date {r.date} != {doc.date}")
    if r.business_id != doc.business_id:
        wrong.append(f"Y-tunnus {r.business_id} != {doc.business_id}")
    got = sorted((v.rate, v.net, v.vat, v.gross) for v in r.vat_lines)
    want = printed_vat(doc)
    if got != want:
        wrong.append(f"VAT {got} != {want}")
    return wrong


async def test_receipts_read_fully_right(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(_env_file=None, agent_files_dir=tmp_path)
    registry = create_agent_registry(settings)
    ocr, parser = registry.get("ocr_agent"), registry.get("receipt_parser_agent")
    assert ocr is not None and parser is not None
    area = tmp_path / "acme"
    rng = random.Random(20261124)
    cases = []
    for n in range(COUNT):
        doc = make_receipt(rng)
        cases.append((doc, place(doc, area, FORMATS[n % len(FORMATS)], rng)))

    results: dict[int, tuple[list[str], float]] = {}
    limiter = anyio.CapacityLimiter(WORKERS)

    async def check(index: int, doc: Document, name: str) -> None:
        async with limiter:
            read = await ocr.run(OcrInput(file=name), context("ocr"))
        assert isinstance(read, OcrOutput)
        parsed = await parser.run(ReceiptInput(text=read.text), context("parse"))
        assert isinstance(parsed, ReceiptOutput)
        results[index] = (differences(doc, parsed), read.confidence)

    async with anyio.create_task_group() as tg:
        for index, (doc, name) in enumerate(cases):
            tg.start_soon(check, index, doc, name)

    right = sum(1 for wrong, _ in results.values() if not wrong)
    share = right / COUNT
    with capsys.disabled():
        print(
            f"\nreceipts fully right: {right}/{COUNT} = {share:.1%}".replace("%", " %")
        )
        for index, (wrong, confidence) in sorted(results.items()):
            if wrong:
                name = cases[index][1]
                print(f"  {name} (OCR confidence {confidence:.2f}): {'; '.join(wrong)}")
    assert share >= REQUIRED
