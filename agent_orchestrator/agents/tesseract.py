"""Tesseract in-process (tesserocr): engines stay loaded between pages (a pool per
language set, as many engines as pages read at once), so a page costs a recognition,
not a start of the `tesseract` program that loads its language data again.

`read_words` returns the word boxes as Tesseract's TSV gives them, in the shape
`pytesseract.image_to_data(..., output_type=DICT)` gives: numbers as ``int`` (the
confidence truncated), words as text.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["TesseractTimeout", "data_path", "read_words"]

_COLUMNS = (
    "level", "page_num", "block_num", "par_num", "line_num", "word_num", "left",
    "top", "width", "height", "conf", "text",
)  # fmt: skip
_IDLE: dict[str, list[Any]] = {}  # language set -> engines not in use
_IDLE_LOCK = threading.Lock()
_PSM = re.compile(r"--psm\s+(\d+)")


class TesseractTimeout(RuntimeError):
    """A page took longer than it may."""


@functools.cache
def data_path() -> str | None:
    """Where the installed `tesseract` keeps its language data (its own report), or
    None to let the engine look where it was built to."""
    program = shutil.which("tesseract")
    if program is None:
        return None
    listed = subprocess.run(
        [program, "--list-langs"], capture_output=True, text=True, timeout=30
    )
    found = re.search(r'"([^"]+)"', listed.stdout + listed.stderr)
    return found.group(1) if found else None


def read_words(
    image: Image.Image, language: str, config: str, timeout_s: float
) -> dict[str, list[Any]]:
    """The word boxes of `image` read in `language` ("fin+eng") with `config`
    ("--psm 4").

    Raises:
        TesseractTimeout: The page took over `timeout_s`.
        RuntimeError: The engine could not start (no language data).
    """
    import tesserocr

    with _IDLE_LOCK:
        idle = _IDLE.setdefault(language, [])
        engine = idle.pop() if idle else None
    if engine is None:
        # One engine serves one page at a time; a busy one is never shared.
        engine = tesserocr.PyTessBaseAPI(path=data_path() or "", lang=language)
    try:
        psm = _PSM.search(config)
        engine.SetPageSegMode(int(psm.group(1)) if psm else tesserocr.PSM.AUTO)
        engine.SetImage(image)
        if not engine.Recognize(timeout=int(timeout_s * 1000)):
            raise TesseractTimeout(f"reading a page took over {timeout_s} s")
        return _table(engine.GetTSVText(0))
    finally:
        engine.Clear()
        with _IDLE_LOCK:
            _IDLE[language].append(engine)


def _table(tsv: str) -> dict[str, list[Any]]:
    table: dict[str, list[Any]] = {name: [] for name in _COLUMNS}
    text_column = len(_COLUMNS) - 1
    for row in tsv.splitlines():
        cells = row.split("\t")
        if len(cells) < text_column:
            continue
        cells += [""] * (len(_COLUMNS) - len(cells))
        for i, name in enumerate(_COLUMNS):
            value: Any = cells[i]
            if i != text_column:
                try:
                    value = int(float(value))
                except ValueError:
                    pass
            table[name].append(value)
    return table
