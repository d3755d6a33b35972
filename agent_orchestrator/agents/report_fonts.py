"""Which fonts the PDF report is set in, and where they are installed.

Kept apart from `report_pdf` so that a health check finds the fonts without importing
reportlab's layout machinery.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
FONT_FILES = {FONT: "DejaVuSans.ttf", FONT_BOLD: "DejaVuSans-Bold.ttf"}
FONT_FAMILIES = {FONT: "DejaVu Sans:style=Book", FONT_BOLD: "DejaVu Sans:style=Bold"}


def find_font_file(name: str) -> Path | None:
    """The TrueType file of one of our fonts: reportlab's search path first (it holds
    Debian's ``/usr/share/fonts/truetype/dejavu``), then fontconfig's ``fc-match``."""
    from reportlab import rl_config

    for directory in rl_config.TTFSearchPath:
        candidate = Path(directory) / FONT_FILES[name]
        if candidate.is_file():
            return candidate
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    found = subprocess.run(
        [fc_match, "-f", "%{file}", FONT_FAMILIES[name]],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    ).stdout.strip()
    return Path(found) if found.endswith(FONT_FILES[name]) else None
