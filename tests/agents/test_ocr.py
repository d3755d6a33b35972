"""`ocr_agent` on real files: generated receipt images (PNG, JPEG, TIFF), PDFs with and
without a text layer, text files; the tenant's files area and its refusals; and the
errors as an execution records them, through the engine on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from agent_orchestrator.agents.builtin import create_agent_registry
from agent_orchestrator.agents.ocr import (
    SECOND_LOOK_CONFIG,
    OcrAgent,
    OcrInput,
    OcrOutput,
    PageText,
)
from agent_orchestrator.agents.paper import binarise, page
from agent_orchestrator.agents.receipts import parse_receipt
from agent_orchestrator.agents.tesseract import read_words
from agent_orchestrator.config import Settings
from agent_orchestrator.core.enums import ExecutionStatus, StepStatus
from agent_orchestrator.core.errors import NonRetryableAgentError
from agent_orchestrator.core.protocols import AgentContext
from tests.support.documents import make_receipt, text_of
from tests.support.scans import (
    blank_pdf,
    empty_pdf,
    font_file,
    merge_pdfs,
    render_image,
    render_pdf,
    save_image,
)
from tests.support.workflows import open_workflows, run

if TYPE_CHECKING:
    from pathlib import Path

    from agent_orchestrator.core.protocols import Agent
    from agent_orchestrator.store.database import Database
    from tests.support.documents import Document

pytestmark = pytest.mark.anyio
TENANT = "acme"


class Progress:
    """Records what the agent reports."""

    def __init__(self) -> None:
        self.reports: list[tuple[str, float | None, Any]] = []

    async def __call__(self, message: str, fraction: float | None, data: Any) -> None:
        self.reports.append((message, fraction, data))


def context(progress: Progress | None = None, tenant: str = TENANT) -> AgentContext:
    return AgentContext(
        tenant_id=tenant,
        execution_id="e1",
        step_id="ocr",
        agent_id="ocr_agent",
        attempt=1,
        logger=logging.getLogger("tests.ocr"),
        progress=progress or Progress(),
    )


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    return tmp_path / "files"


@pytest.fixture
def area(files_dir: Path) -> Path:
    path = files_dir / TENANT
    path.mkdir(parents=True)
    return path


@pytest.fixture
def ocr(files_dir: Path) -> Agent:
    settings = Settings(_env_file=None, agent_files_dir=files_dir)
    agent = create_agent_registry(settings).get("ocr_agent")
    assert agent is not None
    return agent


async def read(
    agent: Agent, file: str, progress: Progress | None = None, **inputs: Any
) -> OcrOutput:
    result = await agent.run(OcrInput(file=file, **inputs), context(progress))
    assert isinstance(result, OcrOutput)
    return result


def receipt(seed: int) -> tuple[Document, random.Random]:
    rng = random.Random(seed)
    return make_receipt(rng), rng


def assert_reads(doc: Document, text: str) -> None:
    parsed = parse_receipt(text).receipt
    assert parsed.total == float(doc.total)
    assert parsed.date == doc.date
    assert parsed.business_id == doc.business_id


@pytest.mark.parametrize(
    ("fmt", "family"),
    [
        ("PNG", "DejaVu Sans Mono"),
        ("JPEG", "Liberation Sans"),
        ("TIFF", "DejaVu Sans"),
        ("PNG", "Liberation Mono"),
    ],
)
async def test_reads_receipt_images(
    ocr: Agent, area: Path, fmt: str, family: str
) -> None:
    doc, rng = receipt(101)
    save_image(
        render_image(doc, rng, family=family), area / f"kuitti.{fmt.lower()}", fmt
    )
    progress = Progress()
    result = await read(ocr, f"kuitti.{fmt.lower()}", progress)
    assert result.method == "tesseract" and result.pages == 1
    assert 0.5 < result.confidence <= 1
    assert doc.merchant in result.text
    assert_reads(doc, result.text)
    assert progress.reports == [
        (
            "page 1 of 1 read (tesseract)",
            1.0,
            {"page": 1, "pages": 1, "method": "tesseract"},
        )
    ]


async def test_words_read_with_low_confidence_are_listed(
    ocr: Agent, area: Path
) -> None:
    doc, rng = receipt(101)
    clean = render_image(doc, rng, family="DejaVu Sans Mono", noise=False)
    page = Image.new("L", (clean.width, clean.height + 80), 255)
    page.paste(clean, (0, 0))
    # A line smudged past reading surely (a thermal slip rubbed in a pocket).
    font = ImageFont.truetype(font_file("DejaVu Sans Mono"), 26)
    draw = ImageDraw.Draw(page)
    draw.text((60, clean.height + 20), "Viite 44178823", font=font, fill=20)
    band = (50, clean.height + 15, clean.width - 50, clean.height + 70)
    page.paste(page.crop(band).filter(ImageFilter.GaussianBlur(3.0)), band[:2])
    save_image(page, area / "kuitti.png")
    result = await read(ocr, "kuitti.png")
    assert_reads(doc, result.text)
    assert result.uncertain, result.text
    words = result.text.split()
    assert all(word in words for word in result.uncertain)
    assert not any(doc.merchant.startswith(word) for word in result.uncertain)


async def test_a_date_the_two_readings_disagree_on_is_held_for_review(
    ocr: Agent, area: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first reading's items do not add up (a 9 read as a 4), so the page is
    # read a second way; that reading agrees with itself but reads the date's 12 as
    # 17, a valid date too. It is kept, and the figures the readings disagree on
    # are listed as uncertain: the date is left empty for review.
    first = "\n".join(
        [
            "Kioski Testi",
            "Y-tunnus: 3366316-9",
            "12.04.2026 10:15",
            "Kahvi 3,50",
            "Pulla 2,40",
            "YHTEENSÄ 6,40",
            "ALV 14% 0,79",
        ]
    )
    second = first.replace("12.04.2026", "17.04.2026").replace("2,40", "2,90")
    readings = iter([first, second])

    def tesseract(image: object, language: str, config: str) -> PageText:
        del image, language, config
        return PageText(next(readings), "tesseract", 0.9)

    assert isinstance(ocr, OcrAgent)
    monkeypatch.setattr(ocr, "_tesseract_once", tesseract)
    Image.new("L", (400, 300), 255).save(area / "kuitti.png")
    result = await read(ocr, "kuitti.png")
    assert result.text == second
    assert "17.04.2026" in result.uncertain
    parsed = parse_receipt(result.text, result.uncertain)
    assert parsed.receipt.date is None
    assert parsed.receipt.needs_review


def slip_with_a_date() -> Image.Image:
    """A clean slip whose date Tesseract reads surely."""
    font = ImageFont.truetype(font_file("DejaVu Sans Mono"), 28)
    image = Image.new("L", (640, 260), 250)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(["Kioski Testi", "12.04.2026 10:15", "YHTEENSÄ 6,40"]):
        draw.text((40, 40 + 60 * row), line, font=font, fill=30)
    return image


@pytest.mark.parametrize(
    ("claimed", "sure"),
    [("12.04.2026", True), ("17.04.2026", False), ("6,40", True), ("6,90", False)],
)
def test_an_unsure_date_or_total_is_sure_only_when_a_second_look_reads_it_so(
    ocr: Agent, claimed: str, sure: bool
) -> None:
    # The page's reading is said to have been unsure of the word at the date's (or
    # the total's) place. Read alone, that place gives the printed word surely:
    # the same word is then no longer unsure; another one (a 2 read as a 7) stays.
    assert isinstance(ocr, OcrAgent)
    found = page(slip_with_a_date())
    words = read_words(binarise(found).image, "fin+eng", "--psm 4", 30)
    printed = "12.04.2026" if "." in claimed else "6,40"
    at = words["text"].index(printed)
    box = (
        int(words["left"][at]),
        int(words["top"][at]),
        int(words["width"][at]),
        int(words["height"][at]),
    )
    date, total = (claimed, "6,40") if "." in claimed else ("12.04.2026", claimed)
    text = f"Kioski Testi\n{date} 10:15\nYHTEENSÄ {total}"
    read = PageText(
        text, "tesseract", 0.8, uncertain=(claimed,), unsure_at=((claimed, box),)
    )
    looked = ocr._second_look(read, found, "fin+eng")
    assert (claimed not in looked.uncertain) is sure


async def test_a_figure_the_readings_disagree_on_stays_unsure_after_a_second_look(
    ocr: Agent, area: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As above, but the second reading was also unsure of its date, and a look at
    # the date's place alone reads it the same, surely: the first reading still
    # disagrees, so the date stays unsure.
    first = "\n".join(
        [
            "Kioski Testi",
            "12.04.2026 10:15",
            "Kahvi 3,50",
            "Pulla 2,40",
            "YHTEENSÄ 6,40",
        ]
    )
    second = first.replace("12.04.2026", "17.04.2026").replace("2,40", "2,90")
    box = (40, 100, 180, 30)
    readings = iter(
        [
            PageText(first, "tesseract", 0.8),
            PageText(
                second,
                "tesseract",
                0.8,
                uncertain=("17.04.2026",),
                unsure_at=(("17.04.2026", box),),
            ),
        ]
    )
    looks: list[str] = []

    def tesseract(image: Image.Image, language: str, config: str) -> PageText:
        del image, language
        if config == SECOND_LOOK_CONFIG:
            looks.append(config)
            return PageText("17.04.2026", "tesseract", 0.96)
        return next(readings)

    assert isinstance(ocr, OcrAgent)
    monkeypatch.setattr(ocr, "_tesseract_once", tesseract)
    Image.new("L", (400, 300), 255).save(area / "kuitti.png")
    result = await read(ocr, "kuitti.png")
    assert result.text == second
    assert looks == [SECOND_LOOK_CONFIG]
    assert result.uncertain == ["17.04.2026", "2,90"]


async def test_pdf_text_layer_is_read_without_ocr(ocr: Agent, area: Path) -> None:
    doc, _ = receipt(102)
    render_pdf(doc, area / "kuitti.pdf", text_layer=True)
    result = await read(ocr, "kuitti.pdf")
    assert (result.method, result.pages, result.confidence) == ("pdf_text", 1, 1.0)
    assert_reads(doc, result.text)


async def test_scanned_pdf_is_rendered_and_read(ocr: Agent, area: Path) -> None:
    doc, rng = receipt(103)
    render_pdf(doc, area / "skannattu.pdf", text_layer=False, rng=rng)
    result = await read(ocr, "skannattu.pdf")
    assert result.method == "tesseract" and result.pages == 1
    assert_reads(doc, result.text)


async def test_mixed_pdf_reports_each_page(ocr: Agent, area: Path) -> None:
    first, rng = receipt(104)
    second, _ = receipt(105)
    render_pdf(first, area / "a.pdf", text_layer=True)
    render_pdf(second, area / "b.pdf", text_layer=False, rng=rng)
    merge_pdfs([area / "a.pdf", area / "b.pdf"], area / "kaksi.pdf")
    progress = Progress()
    result = await read(ocr, "kaksi.pdf", progress)
    assert result.pages == 2 and result.method == "tesseract"
    assert [(m, f) for m, f, _ in progress.reports] == [
        ("page 1 of 2 read (pdf_text)", 0.5),
        ("page 2 of 2 read (tesseract)", 1.0),
    ]
    page_one, page_two = result.text.split("\f")
    assert_reads(first, page_one)
    assert_reads(second, page_two)


async def test_text_file_and_absolute_path_inside_area(ocr: Agent, area: Path) -> None:
    doc, _ = receipt(106)
    (area / "kansio").mkdir()
    (area / "kansio" / "kuitti.txt").write_text(text_of(doc), encoding="utf-8")
    for name in ("kansio/kuitti.txt", str(area / "kansio" / "kuitti.txt")):
        result = await read(ocr, name)
        assert (result.method, result.pages, result.confidence) == ("text", 1, 1.0)
        assert result.text.strip() == text_of(doc).strip()


async def test_the_event_loop_stays_free_while_tesseract_works(
    ocr: Agent, area: Path
) -> None:
    doc, rng = receipt(107)
    save_image(render_image(doc, rng), area / "kuitti.png")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await anyio.sleep(0.01)
            ticks += 1

    async with anyio.create_task_group() as tg:
        tg.start_soon(tick)
        await read(ocr, "kuitti.png")
        tg.cancel_scope.cancel()
    # A blocked loop would not tick at all while Tesseract reads for ~1 s.
    assert ticks >= 5


def outside_files(files_dir: Path, area: Path, tmp_path: Path) -> dict[str, str]:
    """Names that escape the tenant's area, each pointing at a real file."""
    other = files_dir / "globex"
    other.mkdir(parents=True)
    (other / "salainen.txt").write_text("globex secret", encoding="utf-8")
    (tmp_path / "passwd.txt").write_text("root:x:0:0", encoding="utf-8")
    (area / "linkki.txt").symlink_to(tmp_path / "passwd.txt")
    (area / "naapuri").symlink_to(other)
    return {
        "dot-dot": "../globex/salainen.txt",
        "absolute": str(tmp_path / "passwd.txt"),
        "system": "/etc/passwd",
        "symlink-file": "linkki.txt",
        "symlink-dir": "naapuri/salainen.txt",
    }


async def test_paths_outside_the_area_are_refused(
    ocr: Agent, files_dir: Path, area: Path, tmp_path: Path
) -> None:
    for case, name in outside_files(files_dir, area, tmp_path).items():
        with pytest.raises(NonRetryableAgentError) as caught:
            await read(ocr, name)
        assert "outside your files area" in str(caught.value), case
        assert caught.value.retryable is False


BAD_FILES = {
    "missing": ("puuttuu.png", "does not exist in your files area"),
    "corrupt-image": ("rikki.png", "is corrupt or truncated"),
    "truncated-jpeg": ("katkennut.jpg", "is corrupt or truncated"),
    "zero-bytes": ("tyhja.pdf", "is empty (0 bytes)"),
    "no-pages": ("sivuton.pdf", "has no pages"),
    "blank-page": ("tyhja-sivu.pdf", "no text found"),
    "corrupt-pdf": ("rikki.pdf", "is corrupt and cannot be read"),
    "zip": ("arkisto.zip", "is not a PNG, JPEG, TIFF, PDF or UTF-8 text file"),
}


def make_bad_files(area: Path) -> None:
    doc, rng = receipt(108)
    (area / "rikki.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    save_image(render_image(doc, rng), area / "koko.jpg", "JPEG")
    whole = (area / "koko.jpg").read_bytes()
    (area / "katkennut.jpg").write_bytes(whole[: len(whole) // 3])
    (area / "tyhja.pdf").write_bytes(b"")
    empty_pdf(area / "sivuton.pdf")
    blank_pdf(area / "tyhja-sivu.pdf")
    (area / "rikki.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<>> garbage \x00\xff" * 20)
    (area / "arkisto.zip").write_bytes(b"PK\x03\x04" + bytes(200))


@pytest.mark.parametrize("case", sorted(BAD_FILES))
async def test_bad_files_give_clear_errors(ocr: Agent, area: Path, case: str) -> None:
    make_bad_files(area)
    name, message = BAD_FILES[case]
    with pytest.raises(NonRetryableAgentError) as caught:
        await read(ocr, name)
    assert message in str(caught.value)
    assert name in str(caught.value)


async def test_unknown_language_is_refused(ocr: Agent, area: Path) -> None:
    doc, rng = receipt(109)
    save_image(render_image(doc, rng), area / "kuitti.png")
    with pytest.raises(NonRetryableAgentError, match="no language data for swe"):
        await read(ocr, "kuitti.png", language="swe")


async def test_vision_without_a_key_is_refused(ocr: Agent, area: Path) -> None:
    doc, rng = receipt(110)
    save_image(render_image(doc, rng), area / "kuitti.png")
    with pytest.raises(NonRetryableAgentError, match="use_vision needs OPENAI_API_KEY"):
        await read(ocr, "kuitti.png", use_vision=True)


async def test_health_names_tesseract_and_languages(ocr: Agent) -> None:
    health = await ocr.health()
    assert health.ok
    assert health.detail.startswith("Tesseract 5.")
    assert "fin" in health.detail and "eng" in health.detail
    assert health.checks["fin"] and health.checks["eng"] and health.checks["tesseract"]
    assert health.checks["vision"] is False


# --- through the engine, on SQLite and PostgreSQL ------------------------------------


ENGINE_CASES = {
    "outside": ("../globex/salainen.txt", "outside your files area"),
    "corrupt-image": ("rikki.png", "is corrupt or truncated"),
    "empty-pdf": ("tyhja.pdf", "is empty (0 bytes)"),
    "blank-pdf": ("tyhja-sivu.pdf", "no text found"),
}


async def test_engine_records_the_clear_error(
    database: Database, files_dir: Path, area: Path, tmp_path: Path
) -> None:
    make_bad_files(area)
    outside_files(files_dir, area, tmp_path)
    async with open_workflows(database, files_dir) as service:
        for case, (name, message) in ENGINE_CASES.items():
            graph = {
                "variables": {"receipt_file": {"type": "string", "required": True}},
                "steps": [
                    {
                        "id": "ocr",
                        "agent": "ocr_agent",
                        "inputs": {"file": "${vars.receipt_file}"},
                    },
                    {
                        "id": "parse",
                        "agent": "receipt_parser_agent",
                        "inputs": {"text": "${steps.ocr.text}"},
                    },
                ],
            }
            done = await run(service, graph=graph, variables={"receipt_file": name})
            assert done.status is ExecutionStatus.FAILED, case
            steps = {s.step_id: s for s in done.steps}
            assert steps["ocr"].status is StepStatus.FAILED
            assert steps["ocr"].attempts == 1, "a bad file is not retried"
            assert message in (steps["ocr"].error or ""), case
            assert done.error_message is not None and message in done.error_message
            assert steps["parse"].status is not StepStatus.SUCCEEDED
            stored = await service.runner.store.load_execution(done.id, TENANT)
            assert stored.error_message == done.error_message


def ocr_graph() -> dict[str, Any]:
    return {
        "variables": {"receipt_file": {"type": "string", "required": True}},
        "steps": [
            {
                "id": "ocr",
                "agent": "ocr_agent",
                "inputs": {"file": "${vars.receipt_file}"},
            }
        ],
        "outputs": {"text": "${steps.ocr.text}"},
    }


async def test_a_name_the_system_cannot_read_fails_once_without_server_paths(
    database: Database, files_dir: Path, area: Path
) -> None:
    (area / "silmukka.txt").symlink_to("silmukka.txt")
    names = {
        "k" * 300 + ".txt": "file name too long",
        "silmukka.txt": "a symbolic link points to itself",
    }
    async with open_workflows(database, files_dir) as service:
        for name, reason in names.items():
            done = await run(
                service, graph=ocr_graph(), variables={"receipt_file": name}
            )
            assert done.status is ExecutionStatus.FAILED, name
            [step] = done.steps
            assert step.attempts == 1, "an unreadable file is not retried"
            assert step.error is not None and done.error_message is not None
            assert f"file '{name}' cannot be read ({reason})" in step.error
            for message in (step.error, done.error_message):
                assert str(files_dir) not in message
                assert str(files_dir.resolve()) not in message


async def test_a_text_file_with_nul_after_the_sniffed_part_is_read_clean(
    database: Database, files_dir: Path, area: Path
) -> None:
    doc, _ = receipt(107)
    # The kind is told by the first 8 KiB; the NUL bytes come after them.
    body = text_of(doc) + "\n" * 9000 + "loppu\x00rivi \x00\n"
    (area / "nul.txt").write_bytes(body.encode())
    async with open_workflows(database, files_dir) as service:
        done = await run(
            service,
            template_id="receipt_processing",
            variables={"receipt_file": "nul.txt"},
        )
    assert done.status is ExecutionStatus.SUCCEEDED, done.error_message
    ocr_step = next(s for s in done.steps if s.step_id == "ocr")
    assert ocr_step.output is not None
    assert ocr_step.output["text"].endswith("loppurivi ")
    assert "\x00" not in ocr_step.output["text"]
    assert done.result is not None
    assert done.result["receipt"]["total"] == float(doc.total)
