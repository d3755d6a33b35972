"""Tesseract in-process: the word boxes have the shape and the words the `tesseract`
program gives, engines are reused, and a page over its time is stopped."""

from __future__ import annotations

import pytesseract
import pytest
from PIL import Image, ImageDraw, ImageFont

from agent_orchestrator.agents import tesseract
from agent_orchestrator.agents.tesseract import TesseractTimeout, data_path, read_words

LINES = ("K-Market Kamppi", "Y-tunnus 1234567-8", "Maito 1,59", "YHTEENSÄ 4,08")


def receipt(lines: tuple[str, ...] = LINES, height: int = 320) -> Image.Image:
    image = Image.new("L", (760, height), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("DejaVuSans.ttf", 28)
    for i, line in enumerate(lines):
        draw.text((40, 30 + i * 60), line, fill=0, font=font)
    return image


def test_the_words_are_those_the_tesseract_program_reads() -> None:
    image = receipt()
    ours = read_words(image, "fin+eng", "--psm 4", 30)
    program = pytesseract.image_to_data(
        image, lang="fin+eng", config="--psm 4", output_type=pytesseract.Output.DICT
    )
    words = [w for w in ours["text"] if str(w).strip()]
    assert " ".join(words) == " ".join(LINES)
    assert words == [w for w in program["text"] if str(w).strip()]
    assert set(ours) == set(program)
    # Numbers as numbers, the confidence truncated, as pytesseract gives them.
    assert all(isinstance(c, int) for c in ours["conf"] + ours["line_num"])


def test_engines_are_kept_and_reused() -> None:
    read_words(receipt(), "fin+eng", "--psm 6", 30)
    idle = list(tesseract._IDLE["fin+eng"])
    read_words(receipt(), "fin+eng", "--psm 6", 30)
    assert tesseract._IDLE["fin+eng"] == idle  # the same engines, none added
    assert data_path() is not None and "tessdata" in str(data_path())


def test_a_page_over_its_time_is_stopped() -> None:
    many = tuple(f"Rivi {n} tuote {n * 7},{n:02d}" for n in range(60))
    with pytest.raises(TesseractTimeout):
        read_words(receipt(many, height=3700), "fin+eng", "--psm 4", 0.001)
    # The engine that timed out is clean for the next page.
    words = read_words(receipt(), "fin+eng", "--psm 4", 30)["text"]
    assert "Kamppi" in words
