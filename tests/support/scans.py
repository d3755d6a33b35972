"""Documents on paper and in files: `tests.support.documents` rendered as grayscale
scans (Pillow: fonts found with fc-list, noise, blur, a slight tilt) and as PDFs with a
text layer or holding only a scanned image (reportlab), written into a tenant's files
area under a temporary directory.
"""

from __future__ import annotations

import io
import random
import subprocess
from functools import cache
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFilter, ImageFont
from pypdf import PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from tests.support.documents import text_of

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.documents import Document

FONT_FAMILIES = (
    "DejaVu Sans",
    "DejaVu Sans Mono",
    "Liberation Sans",
    "Liberation Mono",
)
FORMATS = ("png", "jpeg", "tiff", "pdf", "scan.pdf", "txt")


@cache
def font_file(family: str) -> str:
    """The regular TrueType file of an installed font family (from fc-list)."""
    listed = subprocess.run(
        ["fc-list", f":family={family}", "file", "style"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for row in sorted(listed):
        path, _, style = row.partition(":")
        if any(s in style for s in ("Book", "Regular")) and "Oblique" not in style:
            return path.strip()
    raise RuntimeError(f"font family {family!r} is not installed (see fc-list)")


def render_image(
    doc: Document,
    rng: random.Random,
    *,
    family: str | None = None,
    size: int | None = None,
    noise: bool = True,
) -> Image.Image:
    """The document on paper: a grayscale scan with a font, noise and a slight tilt."""
    family = family or rng.choice(FONT_FAMILIES)
    size = size or rng.randint(22, 32)
    font = ImageFont.truetype(font_file(family), size)
    margin = size * 2
    longest = max(font.getlength(f"{left}   {right}") for left, right in doc.lines)
    width = max(
        int(size * (34 if doc.kind == "receipt" else 44)), int(longest) + 2 * margin
    )
    step = int(size * 1.45)
    image = Image.new("L", (width, margin * 2 + step * len(doc.lines)), 255)
    draw = ImageDraw.Draw(image)
    for row, (left, right) in enumerate(doc.lines):
        y = margin + row * step
        draw.text((margin, y), left, font=font, fill=20)
        if right:
            right_x = width - margin - draw.textlength(right, font=font)
            draw.text((right_x, y), right, font=font, fill=20)
    if noise:
        pixels = image.load()
        assert pixels is not None  # None only for an image without pixel data
        for _ in range(image.width * image.height // 400):
            x, y = rng.randrange(image.width), rng.randrange(image.height)
            pixels[x, y] = rng.randint(120, 220)
        image = image.filter(ImageFilter.GaussianBlur(radius=rng.uniform(0.3, 0.9)))
        image = image.rotate(rng.uniform(-2.0, 2.0), expand=True, fillcolor=255)
    return image


def save_image(image: Image.Image, path: Path, fmt: str = "PNG") -> Path:
    """Write an image as PNG, JPEG or TIFF."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, object] = {"quality": 90} if fmt == "JPEG" else {}
    if fmt == "TIFF":
        options = {"dpi": (300, 300)}
    image.save(path, fmt, **options)
    return path


def render_pdf(
    doc: Document,
    path: Path,
    *,
    text_layer: bool = True,
    rng: random.Random | None = None,
) -> Path:
    """A one-page A4 PDF: drawn text (a text layer), or a scanned image and no text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    if text_layer:
        pdf.setFont("Helvetica", 10)
        y = height - 60
        for left, right in doc.lines:
            pdf.drawString(60, y, left)
            if right:
                pdf.drawRightString(width - 60, y, right)
            y -= 15
    else:
        image = render_image(
            doc, rng or random.Random(0), family="DejaVu Sans", size=30
        )
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        buffer.seek(0)
        scale = min((width - 80) / image.width, (height - 80) / image.height)
        w, h = image.width * scale, image.height * scale
        pdf.drawImage(ImageReader(buffer), 40, height - 40 - h, w, h)
    pdf.showPage()
    pdf.save()
    return path


def blank_pdf(path: Path) -> Path:
    """A valid PDF whose one page holds nothing to read."""
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.showPage()
    pdf.save()
    return path


def empty_pdf(path: Path) -> Path:
    """A valid PDF with no pages at all."""
    with path.open("wb") as handle:
        PdfWriter().write(handle)
    return path


def merge_pdfs(parts: list[Path], path: Path) -> Path:
    """One PDF with the pages of `parts`, in order."""
    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    with path.open("wb") as handle:
        writer.write(handle)
    writer.close()
    return path


def place(doc: Document, area: Path, fmt: str, rng: random.Random) -> str:
    """Write `doc` into a tenant's files `area` as `fmt` (one of `FORMATS`); the name
    relative to the area, as an upload would return it."""
    name = f"{doc.kind}-{rng.randrange(10**6):06d}.{fmt}"
    path = area / "docs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "txt":
        path.write_text(text_of(doc), encoding="utf-8")
    elif fmt == "pdf":
        render_pdf(doc, path, text_layer=True)
    elif fmt == "scan.pdf":
        render_pdf(doc, path, text_layer=False, rng=rng)
    else:
        save_image(render_image(doc, rng), path, fmt.upper())
    return f"docs/{name}"
