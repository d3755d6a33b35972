"""The structure of a command: its clauses, and the parts of a clause that are not
words of a task (when it runs, on what condition, how much).

A command such as "Käsittele lokakuun kuitit kansiosta kuitit/2026-10, tee sen jälkeen
ALV-laskelma lokakuulta ja lähetä se osoitteeseen kirjanpito@firma.fi kun olen
hyväksynyt sen" is read clause by clause: the clauses are cut at sentence ends, commas
and the connectives of Finnish, English and Swedish ("ja", "sitten", "sen jälkeen",
"lopuksi", "mutta", "kun", "ennen kuin", "muuten", "and then", "och sedan"), never
inside an elided compound ("syys- ja lokakuulta"), a number ("1.000,50 €", "klo 9.30")
or an address or path. Each clause keeps the connective that opened it: "kun" and
"ennen kuin" say in which order its work runs, "jos" that it is a condition, "muuten"
that it is the other branch of one.

The schedule ("joka kuun 1. päivä klo 8", "maanantaisin kello 9.30", "kvartaaleittain")
and a condition's amount ("yli 1 000 €", "tuhat euroa") are read here from the text,
by small grammars of their own, and cut out of the clause before its words are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .intents import Comparison, Frequency, ScheduleSpec

__all__ = [
    "Clause",
    "read_amount",
    "read_comparison",
    "read_schedule",
    "split_clauses",
]

# Connectives that open a clause, longest first; the group names what they say.
_CONNECTIVE = re.compile(
    r"""(?ix)
    (?P<cut>[.;!?](?=\s|$)|,(?!\d))
    | \b(?P<before>ennen\s+kuin|before|innan)\b
    | \b(?P<once>vasta\s+kun|kunhan|kun|once|when|när)\b
    | \b(?P<otherwise>muuten|muussa\s+tapauksessa|otherwise|else|annars)\b
    | \b(?P<condition>jos|if|om)\b
    | \b(?P<then>ja\s+sitten|ja\s+sen\s+jälkeen|ja\s+lopuksi|sen\s+jälkeen|sitten|
         lopuksi|and\s+then|then|finally|och\s+sedan|sedan|därefter|slutligen|sit)\b
    | \b(?P<and>ja|sekä|mutta|and|but|och|samt|men)\b
    """
)


@dataclass(frozen=True, slots=True)
class Clause:
    """One clause of a command.

    Attributes:
        text: As written (without the connective that opened it).
        opener: What opened it: ``start``, ``then``, ``and``, ``before`` ("ennen
            kuin": its work runs after the previous clause's), ``once`` ("kun":
            it must happen first), ``condition`` ("jos") or ``otherwise``.
    """

    text: str
    opener: str


def split_clauses(command: str, protected: str) -> list[Clause]:
    """The clauses of `command`.

    Args:
        command: As written.
        protected: The same text with addresses, paths and dates blanked out
            (same length), so that their dots and commas never cut a clause.
    """
    clauses: list[Clause] = []
    start, opener = 0, "start"
    for match in _CONNECTIVE.finditer(protected):
        kind = match.lastgroup or "and"
        if not _cuts(protected, match) or _between_numbers(command, match):
            continue
        piece = command[start : match.start()].strip(" ,;:")
        if piece:
            clauses.append(Clause(piece, opener))
            opener = "and" if kind == "cut" else kind
        elif kind != "cut" and _STRENGTH[kind] > _STRENGTH[opener]:
            # "ja jos", ", kun", "ja sitten": the stronger connective wins.
            opener = kind
        start = match.end()
    piece = command[start:].strip(" ,;:.!?")
    if piece:
        clauses.append(Clause(piece, opener))
    return clauses


_STRENGTH = {
    "start": 0,
    "cut": 0,
    "and": 1,
    "then": 2,
    "once": 3,
    "before": 3,
    "condition": 4,
    "otherwise": 4,
}


def _between_numbers(command: str, match: re.Match[str]) -> bool:
    """ "1.9.2026 ja 15.9.2026": a connective between two numbers joins them."""
    if match.lastgroup == "cut":
        return False
    before = command[: match.start()].rstrip()
    after = command[match.end() :].lstrip()
    return (before[-1:].isdigit() or before.endswith(".")) and after[:1].isdigit()


def _cuts(text: str, match: re.Match[str]) -> bool:
    """Whether a connective really cuts the command here."""
    before = text[: match.start()].rstrip()
    after = text[match.end() :].lstrip()
    if match.lastgroup == "cut":
        mark = match.group(0)
        if mark in ".,:" and before[-1:].isdigit() and after[:1].isdigit():
            return False  # 1.000,50 / klo 9.30 / 9:30
        return not (mark == "." and before[-1:].isdigit() and len(before) > 0)
    # "syys- ja lokakuulta", "tammi- och februari": an elided compound.
    return not (before.endswith("-") or before.endswith("–"))


# --- schedules ------------------------------------------------------------------

_WEEKDAY_STEMS = {
    1: ("maanantai", "monday", "måndag"),
    2: ("tiistai", "tuesday", "tisdag"),
    3: ("keskiviikko", "wednesday", "onsdag"),
    4: ("torstai", "thursday", "torsdag"),
    5: ("perjantai", "friday", "fredag"),
    6: ("lauantai", "saturday", "lördag"),
    7: ("sunnuntai", "sunday", "söndag"),
}
_MONTH_STEMS = (
    ("tammi", "januar", "jan"),
    ("helmi", "februar", "feb"),
    ("maalis", "march", "mars"),
    ("huhti", "april", "apr"),
    ("touko", "may", "maj"),
    ("kesä", "june", "juni"),
    ("heinä", "july", "juli"),
    ("elo", "august", "augusti"),
    ("syys", "september", "sep"),
    ("loka", "october", "oktober"),
    ("marras", "november", "nov"),
    ("joulu", "december", "dec"),
)
_ORDINALS = {
    "ensimmäi": 1, "toise": 2, "toinen": 2, "kolmante": 3, "neljänte": 4,
    "viidente": 5, "first": 1, "second": 2, "third": 3, "första": 1, "andra": 2,
    "viimeise": 31, "last": 31, "sista": 31,
}  # fmt: skip
_WEEKDAY = re.compile(
    r"(?i)\b(?:(?:aina|joka|every|varje|kaikkina)\s+)?("
    + "|".join(stem for stems in _WEEKDAY_STEMS.values() for stem in stems)
    + r")(?:isin|sin|s|ar|na|in|ina|arna)?\b"
)
_DAILY = re.compile(
    r"(?i)\b(päivittäin|joka\s+päivä|jokaisena\s+päivänä|arkisin|every\s+day|daily|"
    r"dagligen|varje\s+dag)\b"
)
_MONTHLY = re.compile(
    r"(?i)\b(kuukausittain|kuittain|joka\s+kuu(?:n|kauden)?|jokaisen\s+kuu(?:n|kauden)|"
    r"kuun\s+(?:ensimmäisenä|\d{1,2}\.)|kuukauden\s+(?:ensimmäisenä|\d{1,2}\.)|"
    r"monthly|every\s+month|each\s+month|månatligen|varje\s+månad|månadsvis)"
)
_QUARTERLY = re.compile(
    r"(?i)\b(neljännesvuosittain|kvartaaleittain|kvartaalittain|neljänneksittäin|"
    r"joka\s+(?:kvartaali|neljännes|vuosineljännes)\w*|quarterly|every\s+quarter|"
    r"each\s+quarter|kvartalsvis|varje\s+kvartal)"
)
_YEARLY = re.compile(
    r"(?i)\b(vuosittain|joka\s+vuosi|jokaisen\s+vuoden|yearly|annually|every\s+year|"
    r"each\s+year|årligen|varje\s+år)\b"
)
_TIME = re.compile(
    r"(?i)\b(?:klo|kello|kl|at|@)\.?\s*(\d{1,2})(?:[.:](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?"
    r"|\b(\d{1,2})(?:[.:](\d{2}))?\s*(am|pm)\b"
)
_DAY_NUMBER = re.compile(r"(?i)\b(\d{1,2})\.?\s*(?:päivä\w*|pv|day|dagen)?\b")
# "15. tammikuuta", "tammikuun 15. päivä", "January 15th", "15th of January",
# "den 15 januari": day and month in the orders people write them.
_DAY_MONTH = (
    re.compile(r"(?i)\b(?P<day>\d{1,2})\.\s*(?P<month>[a-zäö]+?)kuuta\b"),
    re.compile(r"(?i)\b(?P<month>[a-zäö]+?)kuun\s+(?P<day>\d{1,2})\.(?:\s*päivä\w*)?"),
    re.compile(
        r"(?i)\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>[a-zåäö]+)"
    ),
    re.compile(r"(?i)\b(?P<month>[a-zåäö]+)\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b"),
)
_ORDINAL_DAY = re.compile(
    r"(?i)\b(?:aina\s+)?(?:(?:kuun|kuukauden|neljänneksen|kvartaalin|"
    r"vuosineljänneksen|month's|quarter's)\s+)?("
    + "|".join(_ORDINALS)
    + r")\w*\s+(?:päivä\w*|arkipäivä\w*|day|dagen)"
)
_ENGLISH_DAY = re.compile(r"(?i)\b(?:on\s+)?(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)\b")
_QUARTER_END = re.compile(
    r"(?i)(kvartaalin|neljänneksen|vuosineljänneksen)\s+(päätyttyä|jälkeen|alussa)"
)


def read_schedule(text: str) -> tuple[ScheduleSpec | None, str]:
    """The schedule a clause names, and the clause with the schedule's words cut out
    (so that "joka kuun 1. päivä" is not read as a period)."""
    frequency: Frequency | None = None
    weekdays: list[int] = []
    cut: list[tuple[int, int]] = []
    for weekday in _WEEKDAY.finditer(text):
        word = weekday.group(0).lower()
        # "maanantaina" alone is one Monday, not every Monday: a schedule needs
        # "joka", "-isin"/"-sin" or a plural/every.
        if not re.search(r"(joka|every|varje|kaikkina|isin|sin|days|dagar|ar)\b", word):
            continue
        stem = weekday.group(1).lower()
        weekdays.extend(d for d, stems in _WEEKDAY_STEMS.items() if stem in stems)
        frequency = Frequency.WEEKLY
        cut.append(weekday.span())
    for pattern, found in (
        (_QUARTERLY, Frequency.QUARTERLY),
        (_YEARLY, Frequency.YEARLY),
        (_MONTHLY, Frequency.MONTHLY),
        (_DAILY, Frequency.DAILY),
    ):
        match = pattern.search(text)
        if match is not None and frequency is None:
            frequency = found
            cut.append(match.span())
    if frequency is None:
        return None, text
    hour, minute = None, 0
    time = next((m for m in _TIME.finditer(text) if m.group(1) or m.group(4)), None)
    if time is not None:
        hour_text = time.group(1) or time.group(4)
        minute_text = time.group(2) or time.group(5)
        suffix = (time.group(3) or time.group(6) or "").lower().replace(".", "")
        hour = int(hour_text) % 24
        minute = int(minute_text) if minute_text else 0
        if suffix == "pm" and hour < 12:
            hour += 12
        if suffix == "am" and hour == 12:
            hour = 0
        if minute > 59:
            minute = 0
        cut.append(time.span())
    day: int | None = None
    month: int | None = None
    if frequency is Frequency.YEARLY:
        day, month, span = _day_and_month(text)
        if span is not None:
            cut.append(span)
    if day is None and frequency in (
        Frequency.MONTHLY,
        Frequency.QUARTERLY,
        Frequency.YEARLY,
    ):
        ordinal = _ORDINAL_DAY.search(text)
        if ordinal is not None:
            stem = ordinal.group(1).lower()
            nth = next(v for k, v in _ORDINALS.items() if stem.startswith(k))
            day = min(nth, 28)
            cut.append(ordinal.span())
        elif (english := _ENGLISH_DAY.search(text)) is not None:
            day = int(english.group(1))
            cut.append(english.span())
        else:
            for number in _DAY_NUMBER.finditer(text):
                if time is not None and time.start() <= number.start() < time.end():
                    continue
                value = int(number.group(1))
                if 1 <= value <= 31 and "." in text[number.start() : number.end() + 1]:
                    day = value
                    cut.append(number.span())
                    break
    quarter_end = _QUARTER_END.search(text)
    if quarter_end is not None:
        cut.append(quarter_end.span())
        frequency = Frequency.QUARTERLY if frequency is Frequency.MONTHLY else frequency
    spec = ScheduleSpec(
        frequency=frequency,
        weekdays=sorted(set(weekdays)),
        day_of_month=day,
        month=month,
        hour=hour,
        minute=minute,
    )
    rest = text
    for start, end in sorted(cut, reverse=True):
        rest = rest[:start] + " " * (end - start) + rest[end:]
    return spec, rest


def _day_and_month(text: str) -> tuple[int | None, int | None, tuple[int, int] | None]:
    for pattern in _DAY_MONTH:
        for match in pattern.finditer(text):
            month = _month_number(match.group("month"))
            day = int(match.group("day"))
            if month is not None and 1 <= day <= 31:
                return day, month, match.span()
    return None, None, None


def _month_number(word: str) -> int | None:
    lower = word.lower()
    for number, stems in enumerate(_MONTH_STEMS, start=1):
        if any(lower.startswith(stem) for stem in stems):
            return number
    return None


# --- amounts and comparisons ------------------------------------------------------

_NUMBER_WORDS = {
    "nolla": 0, "yksi": 1, "kaksi": 2, "kolme": 3, "neljä": 4, "viisi": 5,
    "kuusi": 6, "seitsemän": 7, "kahdeksan": 8, "yhdeksän": 9, "kymmenen": 10,
    "sata": 100, "sataa": 100, "tuhat": 1000, "tuhatta": 1000,
    "one": 1, "two": 2, "three": 3, "five": 5, "ten": 10, "hundred": 100,
    "thousand": 1000, "tusen": 1000,
}  # fmt: skip
_SCALE = {
    "tuhat": 1000, "tuhatta": 1000, "thousand": 1000, "tusen": 1000, "t": 1000,
    "k": 1000, "milj": 1_000_000, "miljoona": 1_000_000, "miljoonaa": 1_000_000,
    "million": 1_000_000, "miljon": 1_000_000, "miljoner": 1_000_000,
}  # fmt: skip
_AMOUNT = re.compile(
    r"(?i)(?<![\w.,])(\d{1,3}(?:[ \u00a0.,]\d{3})+(?![\d])|\d+)(?:,(\d{1,2}))?(?!\d)"
    r"(?:\s*(tuhatta|tuhat|milj\.?|miljoonaa|miljoona|thousand|million|k|t)\b)?"
    r"(?=\s*(?:€|e\b|eur|euro|euroa|euros?|kr)?)"
)
_WORD_AMOUNT = re.compile(
    r"(?i)\b((?:" + "|".join(_NUMBER_WORDS) + r")(?:\s+(?:tuhatta|tuhat|thousand|"
    r"tusen))?)\s*(?:€|euroa?|euros?)?"
)
_COMPARISONS = (
    (Comparison.AT_LEAST, r"vähintään|at\s+least|minst|ainakin"),
    (Comparison.AT_MOST, r"enintään|korkeintaan|at\s+most|högst"),
    (Comparison.BELOW, r"alle|alittaa|alittavat|alittaa|vähemmän|under|below|less|"
     r"mindre|negatiivi|miinukse|tappiolli|negative|negativ"),
    (Comparison.ABOVE, r"yli|ylittää|ylittävät|ylittyy|enemmän|isompi|suurempi|over|"
     r"above|exceeds?|more|greater|mer|överstiger"),
)  # fmt: skip


def read_amount(text: str) -> Decimal | None:
    """The amount of euros a condition names ("1 000 €", "1.000,50 €", "tuhat
    euroa", "5 tuhatta", "2,5 milj."), or None."""
    for match in _AMOUNT.finditer(text):
        whole = re.sub(r"[ \u00a0.,]", "", match.group(1))
        cents = match.group(2)
        try:
            value = Decimal(whole + ("." + cents if cents else ""))
        except InvalidOperation:
            continue
        scale = (match.group(3) or "").lower().rstrip(".")
        if scale:
            value *= _SCALE.get(scale, 1)
        return value
    worded = _WORD_AMOUNT.search(text)
    if worded is not None:
        parts = worded.group(1).lower().split()
        value = Decimal(_NUMBER_WORDS[parts[0]])
        if len(parts) > 1:
            value *= _SCALE.get(parts[1], 1)
        return value
    return None


def read_comparison(text: str) -> Comparison:
    """How a condition compares ("yli" above, "vähintään" at least ...); above by
    default ("jos palautettavaa tulee")."""
    lower = text.lower()
    for comparison, words in _COMPARISONS:
        if re.search(rf"\b(?:{words})", lower):
            return comparison
    return Comparison.ABOVE
