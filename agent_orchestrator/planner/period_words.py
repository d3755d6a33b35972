"""Period words in a command → a symbolic `PeriodSpec` (resolved later in `periods`).

Reads Finnish by lemma ("viimeiseltä kolmelta kuukaudelta" is viimeinen + kolme +
kuukausi) and English and Swedish by word form ("last 3 months", "förra månaden").
The precedence: written dates, then quarters, then month names, then "the last N
months", then "from the start of the year", then a unit with viime/tämä, then a bare
year, then "eilen"/"tänään".
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.errors import PlanningFailed
from . import lexicon as lx
from .messages import text
from .model import PeriodKind, PeriodSpec
from .period_math import before_last, half_year, iso_week, last_whole, relative_half

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .extract import DateMention
    from .finnish import Word

__all__ = ["read_period"]

_YEAR = re.compile(r"^((?:19|20|21)\d{2})(?::\w+)?$")
_COUNT = re.compile(r"^(\d{1,3})(?::\w+)?$")
_ORDINAL_DIGIT = re.compile(r"^([1-4])\.$")
_COUNT_KK = re.compile(r"^(\d{1,3})kk$")
_WINDOW = 3  # how many words before a unit may qualify it
_START_UNITS = lx.YEAR_UNIT_FI | lx.MONTH_UNIT_FI | lx.QUARTER_UNIT_FI | lx.WEEK_UNIT_FI

_UNITS = (
    ("month", lx.MONTH_UNIT_FI, lx.MONTH_UNIT_FOREIGN),
    ("quarter", lx.QUARTER_UNIT_FI, lx.QUARTER_UNIT_FOREIGN),
    ("year", lx.YEAR_UNIT_FI, lx.YEAR_UNIT_FOREIGN),
    ("week", lx.WEEK_UNIT_FI, lx.WEEK_UNIT_FOREIGN),
    ("fiscal", lx.FISCAL_FI, lx.FISCAL_FOREIGN),
    ("half", lx.HALF_UNIT_FI, lx.HALF_UNIT_FOREIGN),
    (
        "day",
        frozenset({"päivä"}),
        frozenset({"day", "days", "dag", "dagar", "dagarna"}),
    ),
)
_PREVIOUS = {
    "month": PeriodKind.PREVIOUS_MONTH,
    "quarter": PeriodKind.PREVIOUS_QUARTER,
    "year": PeriodKind.PREVIOUS_YEAR,
    "fiscal": PeriodKind.PREVIOUS_YEAR,
    "week": PeriodKind.PREVIOUS_WEEK,
    "day": PeriodKind.YESTERDAY,
}
_CURRENT = {
    "month": PeriodKind.CURRENT_MONTH,
    "quarter": PeriodKind.CURRENT_QUARTER,
    "year": PeriodKind.CURRENT_YEAR,
    "fiscal": PeriodKind.CURRENT_YEAR,
    "week": PeriodKind.CURRENT_WEEK,
    "day": PeriodKind.TODAY,
}


@dataclass(slots=True)
class _Token:
    unit: str | None = None
    month: int | None = None
    ordinal: int | None = None
    number: int | None = None
    year: int | None = None
    previous: bool = False
    last_n: bool = False
    current: bool = False
    before_last: bool = False  # "toissa"
    start: bool = False  # "alusta"
    since: bool = False
    month_prefix: int | None = None  # "syys" of "syys–lokakuu"
    range_start: int | None = None  # 1 for "tammi-maaliskuulta"


def _classify(word: Word, prev: Word | None) -> _Token:
    lemmas, lower = word.lemmas, word.lower
    token = _Token()
    for unit, fi, foreign in _UNITS:
        if lemmas & fi or lower in foreign:
            token.unit = unit
            break
    for lemma in lemmas:
        if lemma in lx.MONTHS_FI:
            token.month = lx.MONTHS_FI[lemma]
    if token.month is None and "-" in lower:
        # "loka-marraskuulta": Voikko may read the whole as one compound lemma.
        token.month = next(
            (lx.MONTHS_FI[p] for p in sorted(word.parts) if p in lx.MONTHS_FI), None
        )
    if token.month is None and lower in lx.MONTHS_FOREIGN:
        token.month = lx.MONTHS_FOREIGN[lower]
    token.month_prefix = lx.MONTH_PREFIXES.get(lower)
    if token.month is not None and "-" in lower:
        token.range_start = lx.MONTH_PREFIXES.get(lower.split("-", 1)[0])
    if lemmas & {"alkuvuosi"}:
        token.unit, token.start = "year", True
    for lemma in sorted(lemmas):
        if lemma in lx.ORDINALS:
            token.ordinal = lx.ORDINALS[lemma]
        if lemma in lx.NUMBERS:
            token.number = lx.NUMBERS[lemma]
    if (match := _ORDINAL_DIGIT.match(lower)) is not None:
        token.ordinal = int(match.group(1))
    elif (match := _YEAR.match(lower)) is not None:
        token.year = int(match.group(1))
    elif (match := _COUNT.match(lower)) is not None:
        token.number = int(match.group(1))
    elif (match := _COUNT_KK.match(lower)) is not None:
        token.number, token.unit = int(match.group(1)), "month"
    token.previous = bool(lemmas & lx.PREVIOUS_FI) or lower in lx.PREVIOUS_FOREIGN
    token.last_n = bool(lemmas & lx.LAST_N_FI) or lower in lx.LAST_N_FOREIGN
    token.current = bool(lemmas & lx.CURRENT_FI) or lower in lx.CURRENT_FOREIGN
    if lower == "i" and token.unit is None:
        token.current = True  # Swedish "i år", "i månaden"
    if lemmas & lx.LATEST_FI or lower in lx.LATEST_FOREIGN:
        token.previous = True
    token.before_last = lower == "toissa" or lower.startswith("toissa")
    token.start = token.start or (
        bool(lemmas & lx.START_FI)
        and prev is not None
        and bool(prev.lemmas & _START_UNITS)
    )
    token.since = bool(lemmas & lx.SINCE_FI) or lower in lx.SINCE_FOREIGN
    return token


def read_period(
    words: Sequence[Word],
    dates: Sequence[DateMention],
    quarter_codes: Sequence[tuple[int, int | None]],
    month_codes: Sequence[tuple[int, int]],
    half_codes: Sequence[tuple[int, int | None]],
    reference: dt.date,
    language: str,
    raw: str,
) -> PeriodSpec | None:
    """The period a command names, or None when it names none.

    Args:
        words: The command's words (addresses, paths and dates cut out).
        dates: Dates written in digits, in order.
        quarter_codes: "Q3 2026"-style quarters.
        month_codes: "10/2026"-style months.
        half_codes: "H1 2026"-style half-years.
        reference: The request's reference date.
        language: For messages.
        raw: The command lower-cased, for multi-word phrases ("year to date").

    Raises:
        PlanningFailed: A written date does not exist (e.g. 31.2.2026).
    """
    if dates:
        return _explicit(dates, words, reference, language)
    if month_codes:
        month, month_year = month_codes[0]
        return PeriodSpec(kind=PeriodKind.MONTH, month=month, year=month_year)
    tokens = [
        _classify(word, words[i - 1] if i else None) for i, word in enumerate(words)
    ]
    for i, token in enumerate(tokens):
        if token.unit is not None and token.number is not None:
            # "kuusi" is six and moons (kuu), "kuusta" from six and from the month:
            # a number before a unit ("kuusi kuukautta"), else the unit.
            if i + 1 < len(tokens) and tokens[i + 1].unit is not None:
                token.unit = None
            elif not _COUNT_KK.match(words[i].lower):
                token.number = None
        if token.month_prefix and token.month is None:
            following = tokens[i + 1] if i + 1 < len(tokens) else None
            if following is not None and following.month is not None:
                token.month = token.month_prefix
    year = _year_of(tokens, reference)
    if half_codes:
        half, code_year = half_codes[0]
        return half_year(code_year or year or reference.year, half)
    if quarter_codes:
        quarter, code_year = quarter_codes[0]
        return PeriodSpec(
            kind=PeriodKind.QUARTER, quarter=quarter, year=code_year or year
        )
    for i, token in enumerate(tokens):
        if token.unit == "quarter":
            for back in _window(tokens, i):
                if back.ordinal is not None:
                    return PeriodSpec(
                        kind=PeriodKind.QUARTER, quarter=back.ordinal, year=year
                    )
        if token.unit == "half":
            for back in _window(tokens, i):
                if back.ordinal in (1, 2):
                    return half_year(year or reference.year, back.ordinal)
    months = [(i, t.month) for i, t in enumerate(tokens) if t.month is not None]
    if months:
        return _months(months, tokens, year, reference)
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.unit == "week" and following is not None and following.number:
            # "viikko 45", "vko 45", "week 45": an ISO week number.
            try:
                return iso_week(following.number, year, reference)
            except ValueError:
                detail = f"week {following.number}"
                raise PlanningFailed(
                    text("bad_period", language, detail=detail)
                ) from None
    for i, token in enumerate(tokens):
        if token.unit is None or token.unit == "fiscal":
            continue
        count = token.number or next(
            (b.number for b in _window(tokens, i) if b.number), None
        )
        if count is not None and count >= 1 and not token.start:
            return last_whole(token.unit, count, reference)
    if any(phrase in raw for phrase in lx.YEAR_TO_DATE_PHRASES):
        return PeriodSpec(kind=PeriodKind.CURRENT_YEAR)
    for i, token in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.unit is not None and (token.start or (nxt is not None and nxt.start)):
            if token.unit == "half":
                return relative_half(reference, previous=False)
            return PeriodSpec(kind=_CURRENT[token.unit])
    for i, token in enumerate(tokens):
        if token.unit is None:
            continue
        window = _window(tokens, i)
        if token.before_last or any(b.before_last for b in window):
            return before_last(token.unit, reference)
        if any(b.previous or b.last_n for b in window):
            if token.unit == "half":
                return relative_half(reference, previous=True)
            return PeriodSpec(kind=_PREVIOUS[token.unit])
        if any(b.current for b in window):
            if token.unit == "half":
                return relative_half(reference, previous=False)
            return PeriodSpec(kind=_CURRENT[token.unit])
    if any(phrase in raw for phrase in lx.FISCAL_FOREIGN_PHRASES) or any(
        t.unit == "fiscal" for t in tokens
    ):
        if year is not None:
            return PeriodSpec(kind=PeriodKind.YEAR, year=year)
        return PeriodSpec(kind=PeriodKind.CURRENT_YEAR)
    if "i fjol" in raw:
        return PeriodSpec(kind=PeriodKind.PREVIOUS_YEAR)
    explicit_years = [t.year for t in tokens if t.year is not None]
    if explicit_years:
        return PeriodSpec(kind=PeriodKind.YEAR, year=explicit_years[0])
    lemmas = {lemma for word in words for lemma in word.lemmas}
    if lemmas & lx.YESTERDAY or "i går" in raw:
        return PeriodSpec(kind=PeriodKind.YESTERDAY)
    if lemmas & lx.TODAY or "i dag" in raw:
        return PeriodSpec(kind=PeriodKind.TODAY)
    return None


def _window(tokens: Sequence[_Token], i: int) -> list[_Token]:
    """The words just before token `i`, nearest first, up to the previous unit."""
    out = []
    for j in range(i - 1, max(-1, i - 1 - _WINDOW), -1):
        if tokens[j].unit is not None:
            break
        out.append(tokens[j])
    return out


def _year_of(tokens: Sequence[_Token], reference: dt.date) -> int | None:
    """The year a month or quarter belongs to: written, or "viime/tämä vuosi"."""
    for token in tokens:
        if token.year is not None:
            return token.year
    for i, token in enumerate(tokens):
        if token.unit in ("year", "fiscal"):
            window = _window(tokens, i)
            if token.before_last or any(b.before_last for b in window):
                return reference.year - 2
            if any(b.previous or b.last_n for b in window):
                return reference.year - 1
            if any(b.current for b in window):
                return reference.year
    return None


def _months(
    months: Sequence[tuple[int, int]],
    tokens: Sequence[_Token],
    year: int | None,
    reference: dt.date,
) -> PeriodSpec:
    first_index, first = months[0]
    range_start = tokens[first_index].range_start
    if range_start is not None:
        # "tammi-maaliskuulta": from the prefix's month through this one.
        return _month_range(range_start, first, year, reference)
    if len(months) >= 2 and months[1][1] != first:
        # "tammikuusta maaliskuuhun": from the first month through the second.
        return _month_range(first, months[1][1], year, reference)
    following = tokens[first_index + 1 : first_index + 3]
    if any(t.since for t in following):
        # "syyskuusta alkaen": from the start of that month to the reference date.
        start_year = year
        if start_year is None:
            start_year = (
                reference.year if first <= reference.month else reference.year - 1
            )
        return PeriodSpec(
            kind=PeriodKind.EXPLICIT, start=dt.date(start_year, first, 1), end=reference
        )
    return PeriodSpec(kind=PeriodKind.MONTH, month=first, year=year)


def _month_range(
    first: int, last: int, year: int | None, reference: dt.date
) -> PeriodSpec:
    end_year = year
    if end_year is None:
        end_year = reference.year if last <= reference.month else reference.year - 1
    start_year = end_year if first <= last else end_year - 1
    return PeriodSpec(
        kind=PeriodKind.EXPLICIT,
        start=dt.date(start_year, first, 1),
        end=dt.date(end_year, last, calendar.monthrange(end_year, last)[1]),
    )


def _explicit(
    dates: Sequence[DateMention],
    words: Sequence[Word],
    reference: dt.date,
    language: str,
) -> PeriodSpec:
    """Written dates: two make a range, one a single day ("alkaen": to today)."""
    mentions = list(dates[:2])
    months: list[int | None] = [m.month for m in mentions]
    years: list[int | None] = [m.year for m in mentions]
    inherited = [False] * len(mentions)
    for i in range(len(mentions)):
        if months[i] is None:  # "1.–15.9.2026": the start day takes the end's month
            later = next((m for m in months[i + 1 :] if m is not None), None)
            months[i] = later if later is not None else reference.month
        if years[i] is None:
            later_year = next((y for y in years[i + 1 :] if y is not None), None)
            earlier = next((y for y in reversed(years[:i]) if y is not None), None)
            years[i] = later_year or earlier or reference.year
            inherited[i] = True
    days: list[dt.date] = []
    for mention, month, year in zip(mentions, months, years, strict=True):
        try:
            days.append(
                dt.date(int(year or reference.year), int(month or 1), mention.day)
            )
        except ValueError:
            shown = f"{mention.day}.{month}.{year}"
            raise PlanningFailed(text("bad_date", language, date=shown)) from None
    if len(days) == 1:
        lemmas = {lemma for word in words for lemma in word.lemmas}
        if lemmas & lx.SINCE_FI or any(w.lower in lx.SINCE_FOREIGN for w in words):
            return PeriodSpec(kind=PeriodKind.EXPLICIT, start=days[0], end=reference)
        return PeriodSpec(kind=PeriodKind.EXPLICIT, start=days[0], end=days[0])
    start, end = days
    if start > end and inherited[0]:
        # "15.12.–15.1.2027": the start belongs to the year before.
        start = start.replace(year=start.year - 1)
    return PeriodSpec(kind=PeriodKind.EXPLICIT, start=start, end=end)
