"""Reading the photographed receipts of `tests.support.photos` end to end (the real
`ocr_agent` with Tesseract, then `receipt_parser_agent`) and judging what came back
against the truth: fully right (total, date and Y-tunnus), the VAT table right, and
figures invented (a value printed nowhere on the receipt) or wrong without the
`needs_review` flag.

Images are made once per directory (a session's cache); reading runs in a process
pool of at most two workers, each reading one receipt at a time.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from tests.support.documents import Document, printed_vat, text_of
from tests.support.photos import photograph
from tests.support.receipt_layouts import layout_receipts

TENANT = "acme"


@dataclass(frozen=True)
class Case:
    """One receipt as one kind of image, written under a files area."""

    index: int
    kind: str
    name: str  # relative to the tenant's area
    doc: Document


@dataclass
class Verdict:
    """How one reading compares with the truth."""

    case: Case
    seconds: float
    cpu_seconds: float
    fully_right: bool
    vat_right: bool
    invented: list[str] = field(default_factory=list)
    unflagged: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    review: bool = False


def make_cases(area: Path, count: int, kinds: tuple[str, ...], seed: int) -> list[Case]:
    """`count` receipts per kind of image (each receipt shown one way only), written
    once into `area` (PNG for scans, JPEG for photos) by two worker processes; files
    already there are reused."""
    docs = layout_receipts(count * len(kinds), seed)
    cases = []
    missing = []
    for number, kind in enumerate(kinds):
        for index in range(number * count, (number + 1) * count):
            doc = docs[index]
            suffix = "png" if kind == "scan" else "jpg"
            name = f"receipts/{kind}-{index:03d}.{suffix}"
            path = area / TENANT / name
            if not path.exists():
                missing.append((str(path), doc, kind, seed * 1000 + index))
            cases.append(Case(index, kind, name, doc))
    # A phone photo takes about a second of CPU to make (a 3 MP frame, noise, blur,
    # JPEG): both cores make them.
    if missing:
        with ProcessPoolExecutor(max_workers=min(2, len(missing))) as pool:
            for made in [pool.submit(_photograph, *job) for job in missing]:
                made.result()
    return cases


def _photograph(path: str, doc: Document, kind: str, seed: int) -> None:
    """Make one case's image and write it (in a pool's worker)."""
    image = photograph(doc, kind, seed)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix == ".jpg":
        image.save(target, quality=90)
    else:
        image.save(target)


def _printed(doc: Document) -> set[float]:
    from agent_orchestrator.agents.parsing import amounts

    figures = {
        abs(float(a)) for line in text_of(doc).splitlines() for a in amounts(line)
    }
    return figures | {float(r.rate) for r in doc.vat_rows}


def judge(
    case: Case, receipt: dict[str, Any], seconds: float, cpu_seconds: float = 0.0
) -> Verdict:
    """Compare a parsed receipt (as JSON) with the truth."""
    doc = case.doc
    review = bool(receipt.get("needs_review"))
    printed = _printed(doc)
    checks = {
        "total": (receipt.get("total"), float(doc.total)),
        "date": (receipt.get("date"), doc.date.isoformat()),
        "business_id": (receipt.get("business_id"), doc.business_id),
    }
    verdict = Verdict(
        case, seconds, cpu_seconds, fully_right=True, vat_right=True, review=review
    )
    for name, (got, want) in checks.items():
        if got != want:
            verdict.fully_right = False
            verdict.wrong.append(f"{name} {got} != {want}")
            if got is not None and not review:
                verdict.unflagged.append(f"{name} {got}")
    total = receipt.get("total")
    if total is not None and abs(total) not in printed:
        verdict.invented.append(f"total {total}")
    if receipt.get("date") not in (None, doc.date.isoformat()):
        verdict.invented.append(f"date {receipt.get('date')}")
    if receipt.get("business_id") not in (None, doc.business_id):
        verdict.invented.append(f"Y-tunnus {receipt.get('business_id')}")
    got_vat = sorted(
        (v["rate"], v["net"], v["vat"], v["gross"]) for v in receipt["vat_lines"]
    )
    if got_vat != printed_vat(doc):
        verdict.vat_right = False
        verdict.wrong.append(f"VAT {got_vat} != {printed_vat(doc)}")
        if got_vat and not review:
            verdict.unflagged.append("VAT lines")
    for line in receipt["vat_lines"]:
        for role in ("rate", "net", "vat", "gross"):
            value = line[role]
            if value is not None and abs(value) not in printed:
                verdict.invented.append(f"VAT {role} {value}")
    return verdict


def _cpu() -> float:
    """CPU seconds of this process and its finished children (Tesseract runs as
    one)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _read(area: str, name: str) -> tuple[dict[str, Any], float, float]:
    """OCR and parse one file in this process; the parsed receipt, the seconds it
    took and the CPU seconds it used."""
    from agent_orchestrator.agents.builtin import create_agent_registry
    from agent_orchestrator.agents.ocr import OcrInput, OcrOutput
    from agent_orchestrator.agents.receipts import ReceiptInput, ReceiptOutput
    from agent_orchestrator.config import Settings
    from agent_orchestrator.core.errors import NonRetryableAgentError
    from agent_orchestrator.core.protocols import AgentContext

    registry = create_agent_registry(Settings(_env_file=None, agent_files_dir=area))
    ocr, parser = registry.get("ocr_agent"), registry.get("receipt_parser_agent")
    assert ocr is not None and parser is not None

    async def progress(*args: object) -> None:
        del args

    cpu = _cpu()
    ctx = AgentContext(
        tenant_id=TENANT,
        execution_id="receipts",
        step_id="read",
        agent_id="ocr_agent",
        attempt=1,
        logger=logging.getLogger("tests.receipts"),
        progress=progress,
    )

    async def both() -> dict[str, Any]:
        try:
            read = await ocr.run(OcrInput(file=name), ctx)
        except NonRetryableAgentError:  # nothing readable: every field null
            return {"vat_lines": [], "needs_review": True}
        assert isinstance(read, OcrOutput)
        # The words Tesseract was unsure of, as the receipt template passes them
        # (an older package, `bench/receipts.py --code`, has none).
        unsure = getattr(read, "uncertain", None)
        given = {"text": read.text} | ({} if unsure is None else {"uncertain": unsure})
        parsed = await parser.run(ReceiptInput.model_validate(given), ctx)
        assert isinstance(parsed, ReceiptOutput)
        return parsed.receipt.model_dump(mode="json")

    started = time.perf_counter()
    receipt = anyio.run(both)
    return receipt, time.perf_counter() - started, _cpu() - cpu


def read_all(area: Path, cases: list[Case], workers: int = 2) -> list[Verdict]:
    """Read every case in a pool of `workers` processes (Tesseract one thread each)."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    with ProcessPoolExecutor(max_workers=min(workers, 2)) as pool:
        futures = [pool.submit(_read, str(area), case.name) for case in cases]
        results = [future.result() for future in futures]
    return [
        judge(case, receipt, seconds, cpu)
        for case, (receipt, seconds, cpu) in zip(cases, results, strict=True)
    ]


@dataclass(frozen=True)
class Figures:
    """The figures of one kind of image."""

    kind: str
    receipts: int
    fully_right: float
    vat_right: float
    invented: int
    unflagged: int
    flagged: int
    median_s: float
    p95_s: float
    median_cpu_s: float


def figures(verdicts: list[Verdict], kind: str) -> Figures:
    """Rates, counts and times of the verdicts of one kind."""
    mine = [v for v in verdicts if v.case.kind == kind]
    times = sorted(v.seconds for v in mine)
    cpu = sorted(v.cpu_seconds for v in mine)
    count = len(mine) or 1
    return Figures(
        kind=kind,
        receipts=len(mine),
        fully_right=sum(v.fully_right for v in mine) / count,
        vat_right=sum(v.vat_right for v in mine) / count,
        invented=sum(len(v.invented) for v in mine),
        unflagged=sum(len(v.unflagged) for v in mine),
        flagged=sum(v.review for v in mine),
        median_s=times[len(times) // 2] if times else 0.0,
        p95_s=times[min(len(times) - 1, int(len(times) * 0.95))] if times else 0.0,
        median_cpu_s=cpu[len(cpu) // 2] if cpu else 0.0,
    )


def describe(verdicts: list[Verdict]) -> str:
    """What went wrong, one line per receipt."""
    return "\n".join(
        f"  {v.case.name}: {'; '.join(v.wrong + v.invented)}"
        + (" [review]" if v.review else "")
        for v in verdicts
        if v.wrong or v.invented
    )
