"""Receipts as people photograph them, made deterministically from a seed: a flatbed
scan, a photo cropped to the paper, and a phone photo of the slip lying on a table
(perspective, a little rotation, uneven light falling off to one side, a soft shadow,
sensor noise and JPEG artefacts). Pillow draws the thermal paper, OpenCV warps it.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from tests.support.scans import font_file

if TYPE_CHECKING:
    from tests.support.documents import Document

KINDS = ("scan", "cropped", "table")
FONTS = ("DejaVu Sans Mono", "Liberation Mono", "DejaVu Sans")


def paper(doc: Document, rng: random.Random) -> Image.Image:
    """The slip itself: grayscale thermal paper, print a little faded."""
    font = ImageFont.truetype(font_file(rng.choice(FONTS)), rng.randint(26, 30))
    size = font.size
    margin = int(size * 1.2)
    longest = max(font.getlength(f"{left}    {right}") for left, right in doc.lines)
    width = max(int(size * 21), int(longest) + 2 * margin)
    step = int(size * 1.4)
    image = Image.new("L", (width, 2 * margin + step * len(doc.lines)), 248)
    draw = ImageDraw.Draw(image)
    ink = rng.randint(15, 60)
    for row, (left, right) in enumerate(doc.lines):
        y = margin + row * step
        draw.text((margin, y), left, font=font, fill=ink)
        if right:
            x = width - margin - draw.textlength(right, font=font)
            draw.text((x, y), right, font=font, fill=ink)
    return image


def scan(doc: Document, rng: random.Random) -> Image.Image:
    """A flatbed scan: the slip on white, specks, slight blur and tilt."""
    image = paper(doc, rng)
    pixels = np.asarray(image, dtype=np.int16).copy()
    specks = rng.randint(200, 600)
    ys = np.array([rng.randrange(pixels.shape[0]) for _ in range(specks)])
    xs = np.array([rng.randrange(pixels.shape[1]) for _ in range(specks)])
    pixels[ys, xs] = 140
    image = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.7)))
    return image.rotate(rng.uniform(-1.5, 1.5), expand=True, fillcolor=255)


def _lighting(shape: tuple[int, int], rng: random.Random) -> NDArray[np.float32]:
    """Light falling off from a point outside the frame, and a soft shadow."""
    full = shape
    # Worked out on a small grid and enlarged: light and shadow vary slowly.
    height, width = max(8, shape[0] // 8), max(8, shape[1] // 8)
    shape = (height, width)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = rng.uniform(-0.5, 1.5) * width, rng.uniform(-0.5, 0.3) * height
    distance = np.hypot(xs - cx, ys - cy) / np.hypot(width, height)
    light = 1.05 - rng.uniform(0.25, 0.45) * distance
    shadow = np.zeros(shape, np.float32)
    x0 = rng.randint(0, width // 2)
    y0 = rng.randint(height // 3, height - 1)
    cv2.ellipse(
        shadow,
        (x0, y0),
        (rng.randint(width // 4, width // 2), rng.randint(height // 6, height // 3)),
        rng.uniform(0, 180),
        0,
        360,
        1.0,
        -1,
    )
    blurred = cv2.GaussianBlur(shadow, (0, 0), width / 15)
    small = light * (1 - rng.uniform(0.2, 0.35) * blurred)
    large = cv2.resize(small, (full[1], full[0]), interpolation=cv2.INTER_LINEAR)
    return np.asarray(large, dtype=np.float32)


def _finish(rgb: NDArray[np.float32], rng: random.Random) -> Image.Image:
    """Sensor noise, a little focus blur and a phone's JPEG."""
    noisy = rgb + np.random.default_rng(rng.randrange(2**32)).normal(0, 4, rgb.shape)
    image = Image.fromarray(noisy.clip(0, 255).astype(np.uint8), "RGB")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 0.9)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=rng.randint(60, 82))
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def cropped(doc: Document, rng: random.Random) -> Image.Image:
    """A photo cropped to the paper: warm light, falloff, slight perspective."""
    gray = np.asarray(paper(doc, rng), np.float32)
    height, width = gray.shape
    jitter = [rng.uniform(0, 0.02) for _ in range(8)]
    src = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    dst = np.array(
        [
            [jitter[0] * width, jitter[1] * height],
            [width - jitter[2] * width, jitter[3] * height],
            [width - jitter[4] * width, height - jitter[5] * height],
            [jitter[6] * width, height - jitter[7] * height],
        ],
        dtype=np.float32,
    )
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(
        gray, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE
    )
    lit = warped * _lighting(warped.shape, rng)
    tint = np.array(
        [1.0, rng.uniform(0.95, 1.0), rng.uniform(0.85, 0.95)], dtype=np.float32
    )
    return _finish(lit[..., None] * tint, rng)


def _table(
    shape: tuple[int, int], rng: random.Random, colour: tuple[int, int, int] | None
) -> NDArray[np.float32]:
    """A table top: a wood, laminate or dark stone colour (or `colour`) with grain."""
    height, width = shape
    base = rng.choice(
        [(150, 105, 70), (90, 70, 55), (60, 60, 65), (175, 160, 140), (40, 45, 50)]
    )
    base = colour or base
    noise = np.random.default_rng(rng.randrange(2**32))
    raw = noise.normal(0, 1, (height, 1)).astype(np.float32)
    grain = np.asarray(cv2.GaussianBlur(raw, (1, 0), 3), np.float32).reshape(height, 1)
    grain *= 12
    speckle = noise.normal(0, 6, (height, width)).astype(np.float32)
    surface = np.repeat(grain, width, axis=1) + speckle
    return np.stack([surface + channel for channel in base], axis=-1)


@dataclass(frozen=True)
class Shadow:
    """A soft shadow over a phone photo (a hand, the phone): an ellipse's centre and
    half-axes as shares of the frame's width and height, and the share of the light
    it takes at its middle."""

    x: float
    y: float
    rx: float
    ry: float
    depth: float

    def shade(self, shape: tuple[int, int]) -> NDArray[np.float32]:
        """The light left under the shadow, 1 outside it, for a frame of `shape`."""
        # Worked out on a small grid and enlarged, as `_lighting` does.
        height, width = max(8, shape[0] // 8), max(8, shape[1] // 8)
        mask = np.zeros((height, width), np.float32)
        centre = (round(self.x * width), round(self.y * height))
        axes = (round(self.rx * width), round(self.ry * height))
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 1.0, -1)
        blurred = cv2.GaussianBlur(mask, (0, 0), width / 30)
        small = 1 - self.depth * blurred
        large = cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
        return np.asarray(large, dtype=np.float32)


@dataclass(frozen=True)
class TablePhoto:
    """A phone photo of a slip on a table and where the slip's corners are in it
    (top-left, top-right, bottom-right, bottom-left, in pixels)."""

    image: Image.Image
    corners: NDArray[np.float32]


def table_photo(
    doc: Document,
    rng: random.Random,
    *,
    table: tuple[int, int, int] | None = None,
    shadow: Shadow | None = None,
) -> TablePhoto:
    """A phone photo of the slip on a table: the paper fills half to four fifths of
    the frame's height, turned a little, seen at a slight angle. `table` sets the
    table's colour; `shadow` lays a shadow over the photo besides the usual light
    (neither changes the other random choices)."""
    gray = np.asarray(paper(doc, rng), np.float32)
    ph, pw = gray.shape
    height, width = 2000, 1500
    scale = min(rng.uniform(0.6, 0.82) * height / ph, rng.uniform(0.9, 1.1))
    angle = np.radians(rng.uniform(-8, 8))
    cx = width / 2 + rng.uniform(-0.08, 0.08) * width
    cy = height / 2 + rng.uniform(-0.05, 0.05) * height
    corners = []
    for x, y in ((0, 0), (pw, 0), (pw, ph), (0, ph)):
        dx, dy = (x - pw / 2) * scale, (y - ph / 2) * scale
        corners.append(
            [
                cx + dx * np.cos(angle) - dy * np.sin(angle),
                cy + dx * np.sin(angle) + dy * np.cos(angle),
            ]
        )
    # Perspective: the far edge (top) a little narrower than the near one.
    squeeze = rng.uniform(0.0, 0.08) * pw * scale
    corners[0][0] += squeeze
    corners[1][0] -= squeeze
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], dtype=np.float32)
    placed = np.array(corners, dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, placed)
    sheet = cv2.warpPerspective(gray, matrix, (width, height), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(
        np.ones_like(gray), matrix, (width, height), flags=cv2.INTER_LINEAR
    )
    surface = _table((height, width), rng, table)
    tint = np.array(
        [1.0, rng.uniform(0.96, 1.0), rng.uniform(0.88, 0.96)], dtype=np.float32
    )
    composed = (
        surface * (1 - mask[..., None]) + (sheet[..., None] * tint) * mask[..., None]
    )
    light = _lighting((height, width), rng)
    if shadow is not None:
        light = light * shadow.shade((height, width))
    return TablePhoto(_finish(composed * light[..., None], rng), placed)


def on_table(doc: Document, rng: random.Random) -> Image.Image:
    """A phone photo of the slip on a table (`table_photo`)."""
    return table_photo(doc, rng).image


def photograph(doc: Document, kind: str, seed: int) -> Image.Image:
    """`doc` as an image of `kind` (one of `KINDS`), the same for the same seed."""
    rng = random.Random(seed)
    if kind == "scan":
        return scan(doc, rng)
    if kind == "cropped":
        return cropped(doc, rng)
    return on_table(doc, rng)
