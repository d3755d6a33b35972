"""What the offline planner lifts out of a command before reading its words: e-mail
addresses, file paths (kept exactly as written), dates ("1.9.–15.9.2026",
"2026-09-01"), quarter codes ("Q3 2026") and months in digits ("10/2026").

Each is cut out of the text, so that "kuitit/kmarket_2311.jpg" or "talous@yritys.fi" is
never read as words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["DateMention", "Extracted", "extract"]

_EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
_FILE_EXTENSIONS = (
    "pdf|jpe?g|png|tiff?|heic|heif|webp|gif|bmp|txt|xml|eml|docx?|odt|rtf|xlsx?|ods"
)
_QUOTED_PATH = re.compile(
    r"[\"'“”‘’«»]([^\"'“”‘’«»\n]*?\.(?:" + _FILE_EXTENSIONS + r"))[\"'“”‘’«»]",
    re.IGNORECASE,
)
# A run of non-space characters; `_as_path` decides whether it is a path. (One simple
# pattern and a check in code: nested patterns backtrack badly on long words.)
_CANDIDATE = re.compile(r"(?<!\S)[^\s\"'“”‘’«»()<>]+")
_HAS_EXTENSION = re.compile(r"\.(?:" + _FILE_EXTENSIONS + r")$", re.IGNORECASE)
_ROOTED = re.compile(r"^(?:~|\.{1,2})?/[^/]")
_DAY_RANGE_START = re.compile(
    r"(?<![\d.])(\d{1,2})\.\s*(?=[–—‒-]\s*\d{1,2}\.\d{1,2}\.)"
)  # "1.–15.9.2026": the start day of a range within one month
_ISO_DATE = re.compile(r"(?<![\d-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d-])")
_FI_DATE = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})?(?!\d)")
_SLASH_DATE = re.compile(r"(?<![\w/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\w/])")
_HALF_CODE = re.compile(
    r"(?<![\w])(?:(\d{4})\s*[-/]?\s*)?h([12])(?:\s*[-/]?\s*(\d{4}))?(?![\w])",
    re.IGNORECASE,
)
_MONTH_YEAR = re.compile(
    r"(?<![\w/.-])(?:(\d{1,2})\s*[/.]\s*(\d{4})|(\d{4})-(\d{1,2}))(?![\w/.-]*\d)"
)  # "10/2026", "10.2026", "2026-10"
_QUARTER_CODE = re.compile(
    r"(?<![\w])(?:(\d{4})\s*[-/]?\s*)?q([1-4])(?:\s*[-/]?\s*(\d{4}))?(?![\w])",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date as written; a part left out ("1.9.") is None.

    Attributes:
        day: Day of month.
        month: Month, None for the start day of "1.–15.9.2026".
        year: Four-digit year, if written.
        position: Where it starts in the command (mentions are kept in order).
        text: As written.
    """

    day: int
    month: int | None
    year: int | None
    position: int
    text: str


@dataclass(slots=True)
class Extracted:
    """A command taken apart.

    Attributes:
        rest: The command with everything below blanked out, for reading words.
        emails: E-mail addresses in order of appearance.
        paths: File paths exactly as written, in order.
        dates: Dates in order of appearance.
        quarters: ``(quarter, year or None)`` from codes such as "Q3 2026".
        months: ``(month, year)`` from "10/2026", "10.2026" or "2026-10".
        halves: ``(half, year or None)`` from "H1 2026".
    """

    rest: str
    emails: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    dates: list[DateMention] = field(default_factory=list)
    quarters: list[tuple[int, int | None]] = field(default_factory=list)
    months: list[tuple[int, int]] = field(default_factory=list)
    halves: list[tuple[int, int | None]] = field(default_factory=list)


def extract(command: str) -> Extracted:
    """Cut addresses, paths, dates and quarter codes out of `command`."""
    text = command
    found = Extracted(rest="")

    def blank(match: re.Match[str]) -> str:
        return " " * (match.end() - match.start())

    def take_email(match: re.Match[str]) -> str:
        found.emails.append(match.group(0))
        return blank(match)

    text = _EMAIL.sub(take_email, text)

    paths: list[tuple[int, str]] = []

    def take_quoted(match: re.Match[str]) -> str:
        paths.append((match.start(), match.group(1)))
        return blank(match)

    text = _QUOTED_PATH.sub(take_quoted, text)
    chars = list(text)
    candidates = list(_CANDIDATE.finditer(text))
    for i, match in enumerate(candidates):
        start, value = match.start(), _as_path(match.group(0))
        following = candidates[i + 1] if i + 1 < len(candidates) else None
        if (
            value is None
            and "/" in match.group(0)
            and following is not None
            and following.start() == match.end() + 1
            and "/" not in following.group(0)
            and (name := _as_path(following.group(0))) is not None
        ):
            # "kuitit/kmarket 2311.jpg": a file name with a space, written unquoted.
            value = f"{match.group(0)} {name}"
        if value is not None and not any(s <= start < s + len(p) for s, p in paths):
            paths.append((start, value))
            chars[start : start + len(value)] = " " * len(value)
    text = "".join(chars)
    found.paths = [p for _, p in sorted(paths)]

    dates: list[DateMention] = []

    def take_iso(match: re.Match[str]) -> str:
        year, month, day = (int(g) for g in match.groups())
        dates.append(DateMention(day, month, year, match.start(), match.group(0)))
        return blank(match)

    def take_day(match: re.Match[str]) -> str:
        day = int(match.group(1))
        dates.append(DateMention(day, None, None, match.start(), match.group(0)))
        return blank(match)

    def take_fi(match: re.Match[str]) -> str:
        day, month = int(match.group(1)), int(match.group(2))
        year = int(match.group(3)) if match.group(3) else None
        dates.append(DateMention(day, month, year, match.start(), match.group(0)))
        return blank(match)

    text = _ISO_DATE.sub(take_iso, text)
    text = _SLASH_DATE.sub(take_fi, text)
    text = _DAY_RANGE_START.sub(take_day, text)
    text = _FI_DATE.sub(take_fi, text)
    found.dates = sorted(dates, key=lambda d: d.position)

    def take_quarter(match: re.Match[str]) -> str:
        year = match.group(1) or match.group(3)
        found.quarters.append((int(match.group(2)), int(year) if year else None))
        return blank(match)

    text = _QUARTER_CODE.sub(take_quarter, text)

    def take_half(match: re.Match[str]) -> str:
        year = match.group(1) or match.group(3)
        found.halves.append((int(match.group(2)), int(year) if year else None))
        return blank(match)

    text = _HALF_CODE.sub(take_half, text)

    def take_month(match: re.Match[str]) -> str:
        month, year = match.group(1) or match.group(4), match.group(2) or match.group(3)
        if not 1 <= int(month) <= 12:
            return match.group(0)
        found.months.append((int(month), int(year)))
        return blank(match)

    found.rest = _MONTH_YEAR.sub(take_month, text)
    return found


def _as_path(word: str) -> str | None:
    """The file path in `word` (trailing punctuation dropped), if it is one: a name
    with a file extension, or an absolute or explicitly relative path."""
    value = word.rstrip(".,;:!?)]")
    if "://" in value or "@" in value or not any(ch.isalpha() for ch in value):
        return None
    if _HAS_EXTENSION.search(value) or _ROOTED.match(value):
        return value
    return None
