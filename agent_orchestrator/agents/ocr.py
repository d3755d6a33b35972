"""`ocr_agent`: the text of a receipt or invoice from an image, a PDF or a text file.

Images are read with Tesseract (``fin+eng`` by default) in a worker thread, so the
event loop stays free. PDFs give their text layer (pypdf) page by page; a page without
one is rendered with pdfium and read with Tesseract. With ``use_vision`` and an OpenAI
key, the page images go to the model instead (`agents.vision`). Files are read only
inside the caller's tenant area of ``AGENT_FILES_DIR`` (`agents.tenant_files`).

Pillow, pytesseract, pypdf and pypdfium2 are imported when a file is read, not when
the agent is made, so that listing the agents stays fast.
"""

from __future__ import annotations

import io
import os
import re
import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import anyio
import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field

from ..core.enums import Role
from ..core.errors import NonRetryableAgentError
from ..core.protocols import AgentContext, AgentHealth, LocalizedText
from ..core.text import clean_text
from . import parsing
from .base import BaseAgent
from .paper import binarise, page, word_image
from .receipts import parse_receipt
from .tenant_files import FileRefused, resolve_file, sniff, unreadable
from .tesseract import TesseractTimeout, read_words
from .vision import VisionReader

if TYPE_CHECKING:
    from PIL import Image

    from .paper import Page
    from .resources import AgentResources

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_PAGES = 50
MAX_PIXELS = 60_000_000  # about 7,700 x 7,700: a phone photo is 12 MP
PAGE_TIMEOUT_S = 90
RENDER_DPI = 300
#: Tesseract's layout mode 4: a single column of lines of varying size (receipts,
#: invoices); mode 3's block detection splits item names from their amounts. A
#: reading whose figures disagree is tried again as one uniform block (mode 6) on an
#: image binarised another way (`agents.paper`), and the more consistent one kept.
TESSERACT_CONFIG = "--psm 4"
SECOND_PASS_CONFIG = "--psm 6"
#: A word Tesseract reads with a confidence under this (0..100) is listed in the
#: output's `uncertain`: a receipt's date read so is held for review. Dates read
#: right come out at 94 to 96 on the test photos; a 3 read for an 8 at 76.
UNSURE_BELOW = 85
#: A date or a total's amount read unsure is looked at again: its place alone, cut
#: from the grey page, read as one line. The same word read there with a confidence
#: of `UNSURE_BELOW` or more is no longer unsure (a reading of it is sure and none
#: disagrees); anything else leaves it unsure. On 305 such words of blurred, shrunk
#: test photos this made 97 of the 154 right ones sure and none of the 151 misread.
SECOND_LOOK_CONFIG = "--psm 7"
MAX_SECOND_LOOKS = 4
_LANGUAGE = r"^[a-z_]{3,16}(\+[a-z_]{3,16}){0,4}$"
_MIN_LAYER_CHARS = 3
# pdfium is not thread-safe (pypdfium2 docs): one document at a time per process.
_PDFIUM = threading.Lock()


class OcrInput(BaseModel):
    """Which file to read, and how."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(
        min_length=1,
        max_length=1024,
        description=(
            "The file, relative to the tenant's files area (the name the upload "
            "returned, e.g. uploads/1a2b-kuitti.png): PNG, JPEG, TIFF, PDF or text."
        ),
    )
    language: str = Field(
        "fin+eng",
        pattern=_LANGUAGE,
        description="Tesseract languages joined with '+', e.g. fin+eng.",
    )
    use_vision: bool = Field(
        False,
        description="Read images with the OpenAI model instead of Tesseract "
        "(needs OPENAI_API_KEY).",
    )


class OcrLine(BaseModel):
    """One line as Tesseract read it, with its raw confidence."""

    text: str = Field(description="The line's text.")
    confidence: float = Field(
        ge=0, le=1, description="Tesseract's mean word confidence on the line, 0..1."
    )


class OcrOutput(BaseModel):
    """The text read and how it was read."""

    text: str = Field(
        description="The document's text, pages separated by a form feed."
    )
    pages: int = Field(ge=1, description="Pages read.")
    method: Literal["text", "pdf_text", "tesseract", "vision"] = Field(
        description="text file, PDF text layer, Tesseract OCR or the vision model."
    )
    confidence: float = Field(
        ge=0, le=1, description="How sure the reading is, 0..1 (Tesseract's word mean)."
    )
    lines: list[OcrLine] = Field(
        default_factory=list,
        description="Tesseract's lines with their confidence (empty for text files, "
        "PDF text layers and the vision model).",
    )
    uncertain: list[str] = Field(
        default_factory=list,
        description="Words Tesseract read with a confidence under "
        f"{UNSURE_BELOW} %, in reading order, then the figures on which a page's "
        "two readings disagree (receipt_parser_agent's `uncertain`: a date among "
        "them holds the receipt for review).",
    )


@dataclass(frozen=True, slots=True)
class PageText:
    """One page's text, how it was read and how sure the reading is."""

    text: str
    method: str
    confidence: float
    lines: tuple[OcrLine, ...] = ()
    uncertain: tuple[str, ...] = ()
    #: The words Tesseract was unsure of and where it read them (left, top, width,
    #: height), for a second look.
    unsure_at: tuple[tuple[str, tuple[int, int, int, int]], ...] = ()


class OcrAgent(BaseAgent[OcrInput, OcrOutput]):
    """Reads text from the caller's files."""

    id = "ocr_agent"
    name = "OCR"
    description = LocalizedText(
        fi="Lukee kuitin tai laskun tekstin kuvasta (Tesseract, suomi ja englanti), "
        "PDF:stä tai tekstitiedostosta tenantin tiedostoalueelta.",
        en="Reads the text of a receipt or invoice from an image (Tesseract, Finnish "
        "and English), a PDF or a text file in the tenant's files area.",
    )
    version = "1.0.0"
    input_model = OcrInput
    output_model = OcrOutput
    min_role = Role.OPERATOR

    def __init__(self, resources: AgentResources) -> None:
        self.files_dir = resources.files_dir
        # Tesseract's OpenMP threads make it several times slower when pages are read
        # side by side on few cores; one thread per run, unless the operator says so.
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        self.vision = VisionReader(resources.model)
        # Tesseract is CPU-bound: at most one run per core at a time.
        self._slots = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
        self._languages: set[str] | None = None

    async def run(self, inputs: OcrInput, ctx: AgentContext) -> OcrOutput:
        """Read the file's text, page by page, reporting progress per page.

        Raises:
            NonRetryableAgentError: The file is outside the area, missing, empty,
                corrupt, of an unsupported kind, or holds no readable text.
        """
        path = resolve_file(self.files_dir, ctx.tenant_id, inputs.file)
        try:
            size = path.stat().st_size
            data = b"" if size > MAX_FILE_BYTES else await anyio.Path(path).read_bytes()
        except OSError as exc:  # removed or made unreadable since it was resolved
            raise unreadable(inputs.file, exc) from None
        if size == 0:
            raise FileRefused(
                f"file '{inputs.file}' is empty (0 bytes); upload the document again"
            )
        if size > MAX_FILE_BYTES:
            raise FileRefused(
                f"file '{inputs.file}' is {size} bytes, over the {MAX_FILE_BYTES} byte "
                "limit; scan it at 300 dpi or split it"
            )
        kind = sniff(data[:8192])
        if kind is None:
            raise FileRefused(
                f"file '{inputs.file}' is not a PNG, JPEG, TIFF, PDF or UTF-8 text "
                "file; convert it to one of those"
            )
        if kind == "text":
            await ctx.report_progress("text file read", fraction=1.0)
            text = data.decode("utf-8-sig", errors="replace")
            return self._output(inputs.file, [PageText(text, "text", 1.0)])
        if inputs.use_vision:
            self.vision.check()
        else:
            await self._check_languages(inputs.language)
        if kind == "pdf":
            pages = await self._read_pdf(data, inputs, ctx)
        else:
            images = await anyio.to_thread.run_sync(_open_images, data, inputs.file)
            pages = []
            for number, image in enumerate(images, 1):
                pages.append(await self._read_image(image, inputs))
                await _progress(ctx, number, len(images), pages[-1].method)
        return self._output(inputs.file, pages)

    async def _read_pdf(
        self, data: bytes, inputs: OcrInput, ctx: AgentContext
    ) -> list[PageText]:
        layers = await anyio.to_thread.run_sync(_pdf_text_layers, data, inputs.file)
        pages = []
        for number, layer in enumerate(layers, 1):
            if layer is not None:  # a text layer is exact: no model or OCR needed
                pages.append(PageText(layer, "pdf_text", 1.0))
            else:
                image = await anyio.to_thread.run_sync(_render_pdf_page, data, number)
                pages.append(await self._read_image(image, inputs))
            await _progress(ctx, number, len(layers), pages[-1].method)
        return pages

    async def _read_image(self, image: Image.Image, inputs: OcrInput) -> PageText:
        if inputs.use_vision:
            return PageText(
                await self.vision.read(image), "vision", self.vision.confidence
            )
        return await anyio.to_thread.run_sync(self._tesseract, image, inputs.language)

    def _tesseract(self, image: Image.Image, language: str) -> PageText:
        """Read the prepared page; if the reading's figures disagree, read it a second
        way and keep the reading that agrees best."""
        found = page(image)  # the paper found and straightened once for both
        first = self._tesseract_once(
            binarise(found, variant=0).image, language, TESSERACT_CONFIG
        )
        score = _consistency(first.text)
        if score[0]:
            return self._second_look(first, found, language)
        second = self._tesseract_once(
            binarise(found, variant=1).image, language, SECOND_PASS_CONFIG
        )
        # Looked at again before the readings are compared: a figure they disagree
        # on stays unsure whatever a second look says.
        if _consistency(second.text) > score:
            return _doubted(self._second_look(second, found, language), first)
        return _doubted(self._second_look(first, found, language), second)

    def _second_look(self, read: PageText, found: Page, language: str) -> PageText:
        """`read` without the unsure dates and totals' amounts that a reading of
        their place alone gives the same and surely (`SECOND_LOOK_CONFIG`)."""
        totals = {
            amount
            for _, amount in parsing.total_candidates(parsing.clean_lines(read.text))
        }
        sure: list[int] = []
        looks = 0
        for index, (word, box) in enumerate(read.unsure_at):
            if looks == MAX_SECOND_LOOKS:
                break
            if not _dated(word) and not totals & set(parsing.amounts(word)):
                continue
            looks += 1
            again = self._tesseract_once(
                word_image(found, box), language, SECOND_LOOK_CONFIG
            )
            if word in again.text.split() and word not in again.uncertain:
                sure.append(index)
        if not sure:
            return read
        uncertain = list(read.uncertain)
        for index in sure:
            uncertain.remove(read.unsure_at[index][0])
        return replace(
            read,
            uncertain=tuple(uncertain),
            unsure_at=tuple(
                pair for index, pair in enumerate(read.unsure_at) if index not in sure
            ),
        )

    def _tesseract_once(
        self, image: Image.Image, language: str, config: str
    ) -> PageText:
        with self._slots:
            try:
                data = read_words(image, language, config, PAGE_TIMEOUT_S)
            except TesseractTimeout:
                raise NonRetryableAgentError(
                    f"reading a page took over {PAGE_TIMEOUT_S} s; scan the document "
                    "at 300 dpi and try again"
                ) from None
            except RuntimeError as exc:
                raise NonRetryableAgentError(
                    f"Tesseract could not start for {language} ({exc}); install "
                    "tesseract-ocr and tesseract-ocr-fin"
                ) from exc
        return _words_to_text(data)

    async def _check_languages(self, language: str) -> None:
        if self._languages is None:
            self._languages = await anyio.to_thread.run_sync(_installed_languages)
        missing = [lang for lang in language.split("+") if lang not in self._languages]
        if missing:
            raise NonRetryableAgentError(
                f"Tesseract has no language data for {', '.join(missing)} (installed: "
                f"{', '.join(sorted(self._languages)) or 'none'}); use fin+eng or "
                "install tesseract-ocr-<language>"
            )

    def _output(self, name: str, pages: list[PageText]) -> OcrOutput:
        # What a page gives (a text file, a PDF's text layer, a model's answer) may
        # hold NUL or lone surrogates, which the databases refuse (`core.text`).
        text = clean_text("\f".join(page.text.strip("\n") for page in pages))
        if not text.replace("\f", "").strip():
            raise FileRefused(
                f"no text found in '{name}': the pages are blank or the scan is too "
                "faint; scan the document again (300 dpi, good light)"
            )
        methods = {page.method for page in pages}
        method = (
            "pdf_text"
            if methods == {"pdf_text"}
            else next(
                (m for m in ("vision", "tesseract", "text") if m in methods), "text"
            )
        )
        confidence = sum(page.confidence for page in pages) / len(pages)
        return OcrOutput(
            text=text,
            pages=len(pages),
            method=method,
            confidence=round(confidence, 3),
            lines=[line for page in pages for line in page.lines],
            uncertain=[clean_text(word) for page in pages for word in page.uncertain],
        )

    async def health(self) -> AgentHealth:
        """Tesseract's version and whether Finnish and English data are installed."""
        import pytesseract

        try:
            version = await anyio.to_thread.run_sync(pytesseract.get_tesseract_version)
            languages = await anyio.to_thread.run_sync(_installed_languages)
        except (pytesseract.TesseractNotFoundError, OSError):
            return AgentHealth(
                ok=False,
                detail="Tesseract is not installed; install tesseract-ocr and "
                "tesseract-ocr-fin",
                checks={"tesseract": False, "fin": False, "eng": False},
            )
        checks = {
            "tesseract": True,
            "fin": "fin" in languages,
            "eng": "eng" in languages,
            "vision": self.vision.available,
        }
        ok = checks["fin"] and checks["eng"]
        detail = f"Tesseract {version} with {', '.join(sorted(languages))}"
        if not ok:
            detail += "; install tesseract-ocr-fin and tesseract-ocr-eng"
        return AgentHealth(ok=ok, detail=detail, checks=checks)


async def _progress(ctx: AgentContext, number: int, total: int, method: str) -> None:
    await ctx.report_progress(
        f"page {number} of {total} read ({method})",
        fraction=number / total,
        data={"page": number, "pages": total, "method": method},
    )


def _installed_languages() -> set[str]:
    import pytesseract

    return set(pytesseract.get_languages(config="")) - {"osd"}


def _open_images(data: bytes, name: str) -> list[Image.Image]:
    """Every frame of an image file, decoded (a multi-page TIFF has several)."""
    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise FileRefused(
                    f"image '{name}' is {image.width} x {image.height} pixels, over "
                    f"{MAX_PIXELS} pixels; scale it down (300 dpi is enough)"
                )
            frames = [
                ImageOps.exif_transpose(f.copy()) for f in ImageSequence.Iterator(image)
            ]
    except FileRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise FileRefused(
            f"image '{name}' is corrupt or truncated and cannot be read ({exc}); "
            "upload the original photo or scan again"
        ) from None
    if len(frames) > MAX_PAGES:
        raise FileRefused(f"image '{name}' has {len(frames)} pages, over {MAX_PAGES}")
    return frames


def _pdf_text_layers(data: bytes, name: str) -> list[str | None]:
    """Each page's text layer, or None for a page that has none (a scan)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileRefused(
                f"PDF '{name}' is password-protected; upload it without a password"
            )
        count = len(reader.pages)
        if count == 0:
            raise FileRefused(f"PDF '{name}' has no pages; upload the full document")
        if count > MAX_PAGES:
            raise FileRefused(f"PDF '{name}' has {count} pages, over {MAX_PAGES}")
        layers = [page.extract_text() or "" for page in reader.pages]
    except FileRefused:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise FileRefused(
            f"PDF '{name}' is corrupt and cannot be read ({exc}); export it again"
        ) from None
    alnum = re.compile(r"\w")
    return [
        text if len(alnum.findall(text)) >= _MIN_LAYER_CHARS else None
        for text in layers
    ]


def _render_pdf_page(data: bytes, number: int) -> Image.Image:
    """Page `number` (from 1) as a grayscale image at `RENDER_DPI`."""
    import pypdfium2

    with _PDFIUM:
        document = pypdfium2.PdfDocument(data)
        try:
            page = document[number - 1]
            try:
                bitmap = page.render(scale=RENDER_DPI / 72, grayscale=True)
                image: Image.Image = bitmap.to_pil().copy()
            finally:
                page.close()
        finally:
            document.close()
    return image


def _consistency(text: str) -> tuple[bool, int, int]:
    """How well a reading's figures agree, as the receipt parser finds them: no
    review needed first, then more fields read, then fewer warnings."""
    out = parse_receipt(text)
    receipt = out.receipt
    found = sum(
        value not in (None, [])
        for value in (
            receipt.total,
            receipt.date,
            receipt.business_id,
            receipt.vat_lines,
        )
    )
    return (not receipt.needs_review, found, -len(out.warnings))


def _words_to_text(data: dict[str, list[Any]]) -> PageText:
    """Lines of words from Tesseract's word boxes, each with its mean confidence, and
    the page's mean word confidence."""
    lines: dict[tuple[int, int, int], list[tuple[str, float]]] = {}
    unsure_at: list[tuple[str, tuple[int, int, int, int]]] = []
    for i, word in enumerate(data["text"]):
        word = str(word).strip()
        if not word:
            continue
        key = (
            int(data["block_num"][i]),
            int(data["par_num"][i]),
            int(data["line_num"][i]),
        )
        confidence = float(data["conf"][i])
        lines.setdefault(key, []).append((word, confidence))
        if 0 <= confidence < UNSURE_BELOW:
            left, top = int(data["left"][i]), int(data["top"][i])
            box = (left, top, int(data["width"][i]), int(data["height"][i]))
            unsure_at.append((word, box))
    read = [
        OcrLine(
            text=" ".join(word for word, _ in words),
            confidence=_mean([conf for _, conf in words if conf >= 0]),
        )
        for words in lines.values()
    ]
    every = [conf for words in lines.values() for _, conf in words if conf >= 0]
    return PageText(
        "\n".join(line.text for line in read),
        "tesseract",
        _mean(every),
        tuple(read),
        tuple(word for word, _ in unsure_at),
        tuple(unsure_at),
    )


def _dated(word: str) -> bool:
    """Whether a word holds a date, as the receipt parser reads dates."""
    return any(parsing.dates(line) for line in parsing.clean_lines(word))


def _doubted(chosen: PageText, other: PageText) -> PageText:
    """`chosen`, its uncertain words joined by its figures that the page's other
    reading does not share: where two readings disagree, neither is sure (a second
    reading that agrees better may still have read a date's 2 as a 7)."""
    theirs = set(other.text.split())
    disputed = tuple(
        word
        for word in dict.fromkeys(chosen.text.split())
        if any(c.isdigit() for c in word)
        and word not in theirs
        and word not in chosen.uncertain
    )
    return replace(chosen, uncertain=chosen.uncertain + disputed)


def _mean(confidences: list[float]) -> float:
    """Tesseract's 0..100 confidences as one 0..1 figure."""
    mean = sum(confidences) / len(confidences) / 100 if confidences else 0.0
    return round(max(0.0, min(1.0, mean)), 3)
