"""Reading Finnish receipts and invoices from OCR text: amounts, rates, dates, the
Business ID, the total and the payment method (VAT lines: `agents.vat_lines`).

OCR text is noisy: ``O``/``0``, ``l``/``1`` and ``S``/``5`` swap inside numbers, amounts
get stray spaces (``12, 50``), rates come as ``25,5 %`` or ``25.5%``. `clean_lines`
repairs numbers before any field is looked for. A field that cannot be read is left
None by the callers, with a warning; nothing is guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING

from stdnum import exceptions as stdnum_errors
from stdnum.fi import alv, ytunnus

if TYPE_CHECKING:
    from collections.abc import Sequence

CENT = Decimal("0.01")
_NUMBERISH = re.compile(r"^-?[0-9OoIl|S]+(?:[,.:/-][0-9OoIl|S]+)*[,.]?-?[€%]?$")
_AMOUNT_SHAPE = re.compile(r"[,.][0-9OoIl|S]{2}-?[€%]?$")
_CONFUSIONS = str.maketrans(
    {"O": "0", "o": "0", "I": "1", "l": "1", "|": "1", "S": "5"}
)
_SPLIT_DECIMAL = re.compile(r"(\d)(?:\s+([,.])\s*|([,.])\s+)(\d{2})(?!\d)")
_SPLIT_RATE = re.compile(r"(?<![\d,.])(\d{1,2}) ?([,.]) ?(\d) ?%")
_THOUSANDS = re.compile(r"(?<![\d,.])(\d{1,3}) (\d{3}[,.]\d{2})(?!\d)")
#: What may stand before a "1 234,50" grouped by thousands: nothing, an amount or a
#: rate, or a total, payment or VAT word. After an item's name the first digits are
#: more likely the name's own ("Näyttö 27 771,33").
_BEFORE_THOUSANDS = re.compile(
    r"(^|[,.]\d\d-?|%|€|\beur|yhteens\w*|\byht|summa|total|maksettava|alv|vero\w*"
    r"|kortti|k[äa]teinen|mobilepay|visa|debit|:)\s*$",
    re.IGNORECASE,
)
AMOUNT = re.compile(
    r"(?<![\d,.])(-\s?)?(\d{1,3}(?:\.\d{3})+|\d+)[,.](\d{2})(-)?(?!\d|[.,]\d|\s*%)"
)
# Up to three digits: "255%" is a 25,5 % whose comma OCR lost (mended by its amounts).
RATE = re.compile(r"(?<![\d,.])(\d{1,3}(?:[,.]\d{1,2})?)\s*%")
_DMY = re.compile(
    r"(?<![\d.])(\d{1,2})\s?[./]\s?(\d{1,2})\s?[./]\s?(\d{4}|\d{2})(?![\d])"
)
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_MONTHS = "tammi helmi maalis huhti touko kesä heinä elo syys loka marras joulu".split()
_WORDS = re.compile(
    r"(?<!\d)(\d{1,2})\.?\s*(" + "|".join(_MONTHS) + r")kuu\w*\s+(\d{4})", re.IGNORECASE
)
_YTUNNUS = re.compile(r"(?<!\d)(\d{7})\s?[-‐–]\s?(\d)(?!\d)")
_YTUNNUS_LONG = re.compile(r"(?<!\d)(\d{8})\s?[-‐–]\s?(\d)(?!\d)")
_VAT_NUMBER = re.compile(r"\bFI\s?(\d{8})\b")
_YTUNNUS_LABEL = re.compile(r"y\s?-?\s?tun|business\s*id|ly-?tunnus", re.IGNORECASE)
TOTAL_LABEL = re.compile(
    r"yhteens|\byht\b|\bsumma\b|\btotal\b|loppusumma|maksettava|amount due|to pay",
    re.IGNORECASE,
)
_NOT_TOTAL = re.compile(r"\b(alv|vat|vero|veroton|netto|ilman|moms)\b", re.IGNORECASE)
LOYALTY = re.compile(
    r"plussa|etukortti|s-?etu|bonus|asiakasomistaja|kanta-?asiakas|pisteet|pistett",
    re.IGNORECASE,
)
PAYMENTS = (
    (re.compile(r"mobile\s?pay", re.IGNORECASE), "MobilePay"),
    (re.compile(r"\bpivo\b", re.IGNORECASE), "Pivo"),
    (re.compile(r"\bsiirto\b", re.IGNORECASE), "Siirto"),
    (re.compile(r"lahjakortti|gift\s?card", re.IGNORECASE), "lahjakortti"),
    (re.compile(r"k[äa]tei|\bcash\b", re.IGNORECASE), "käteinen"),
    (
        re.compile(
            r"kortti|\bvisa\b|master\s?card|maestro|debit|credit|\bcard\b|l[äa]himaksu"
            r"|american express|\bamex\b",
            re.IGNORECASE,
        ),
        "kortti",
    ),
    (re.compile(r"\blasku\b|\binvoice\b", re.IGNORECASE), "lasku"),
)


@dataclass(slots=True)
class Findings:
    """What a parse found wrong: warnings, and whether a person must look before the
    document is booked (`review`)."""

    warnings: list[str] = field(default_factory=list)
    review: bool = False
    #: Fields read but left empty on purpose, each with its problem saying why.
    withheld: set[str] = field(default_factory=set)

    def note(self, message: str) -> None:
        """A warning that needs no review (a field not printed, a harmless mend)."""
        self.warnings.append(message)

    def problem(self, message: str) -> None:
        """A warning about figures that disagree: the document needs review."""
        self.warnings.append(message)
        self.review = True

    def withhold(self, field_name: str, message: str) -> None:
        """A field that was read but is left empty (not sure enough to book): a
        problem that says why, in place of "not found"."""
        self.withheld.add(field_name)
        self.problem(message)


# --- numbers --------------------------------------------------------------------------


def _fix_token(token: str) -> str:
    if not _NUMBERISH.match(token):
        return token
    digits = sum(c.isdigit() for c in token)
    confusable = sum(c in "OoIl|S" for c in token)
    if digits and (digits > confusable or _AMOUNT_SHAPE.search(token)):
        return token.translate(_CONFUSIONS)
    return token


def clean_line(line: str) -> str:
    """One line with OCR's number confusions repaired and split amounts joined."""
    line = line.replace("−", "-").replace("–", "-").replace("\u00a0", " ")
    line = " ".join(_fix_token(token) for token in line.split())
    line = _SPLIT_DECIMAL.sub(
        lambda m: m.group(1) + (m.group(2) or m.group(3)) + m.group(4), line
    )
    line = _SPLIT_RATE.sub(r"\1\2\3 %", line)
    return _THOUSANDS.sub(
        lambda m: (
            m.group(1) + m.group(2)
            if _BEFORE_THOUSANDS.search(m.string[: m.start()])
            else m.group(0)
        ),
        line,
    )


def clean_lines(text: str) -> list[str]:
    """The text's non-empty lines, cleaned (pages' form feeds are line breaks)."""
    lines = (clean_line(raw) for raw in text.replace("\f", "\n").splitlines())
    return [line for line in lines if line]


def amounts(line: str) -> list[Decimal]:
    """Every money amount on a line (``12,50``, ``1.234,50``, ``-0,50``, ``0,50-``)."""
    found = []
    for match in AMOUNT.finditer(line):
        whole = match.group(2).replace(".", "")
        value = Decimal(f"{whole}.{match.group(3)}")
        found.append(-value if match.group(1) or match.group(4) else value)
    return found


def rate_of(text: str) -> Decimal | None:
    """The first ``NN %`` / ``NN,N %`` on a line, as a Decimal."""
    match = RATE.search(text)
    if match is None:
        return None
    try:
        return Decimal(match.group(1).replace(",", "."))
    except InvalidOperation:
        return None


def cents(value: Decimal) -> Decimal:
    """Rounded to whole cents."""
    return value.quantize(CENT, ROUND_HALF_UP)


# --- fields ---------------------------------------------------------------------------


def dates(line: str) -> list[dt.date]:
    """The valid dates written on a line, in order."""
    found: list[tuple[int, dt.date]] = []
    for match in _DMY.finditer(line):
        day, month, year = (int(g) for g in match.groups())
        found.extend(_date(match.start(), year, month, day))
    for match in _ISO.finditer(line):
        year, month, day = (int(g) for g in match.groups())
        found.extend(_date(match.start(), year, month, day))
    for match in _WORDS.finditer(line):
        month = _MONTHS.index(match.group(2).lower()) + 1
        found.extend(
            _date(match.start(), int(match.group(3)), month, int(match.group(1)))
        )
    return [day for _, day in sorted(found, key=lambda pair: pair[0])]


def _date(at: int, year: int, month: int, day: int) -> list[tuple[int, dt.date]]:
    if year < 100:
        year += 2000
    if not 2000 <= year <= 2099:
        return []
    try:
        return [(at, dt.date(year, month, day))]
    except ValueError:
        return []


def labelled_date(lines: Sequence[str], label: re.Pattern[str]) -> dt.date | None:
    """The date on the line of `label` (or on the next line)."""
    for i, line in enumerate(lines):
        match = label.search(line)
        if match is None:
            continue
        found = dates(line[match.end() :]) or (
            dates(lines[i + 1]) if i + 1 < len(lines) else []
        )
        if found:
            return found[0]
    return None


def business_id(lines: Sequence[str], findings: Findings) -> str | None:
    """The Y-tunnus, checksum validated; labelled lines first, then any line."""
    labelled = [line for line in lines if _YTUNNUS_LABEL.search(line)]
    for line in [*labelled, *(line for line in lines if line not in labelled)]:
        for match in _YTUNNUS.finditer(line):
            candidate = f"{match.group(1)}-{match.group(2)}"
            try:
                return str(ytunnus.format(ytunnus.validate(candidate)))
            except stdnum_errors.ValidationError:
                findings.problem(
                    f"Y-tunnus {candidate} fails its check digit (an OCR misread?); "
                    "left empty, check the document"
                )
                return None
        for match in _VAT_NUMBER.finditer(line):
            # The VAT number (ALV-numero) is FI + the Y-tunnus without its hyphen.
            if alv.is_valid("FI" + match.group(1)):
                return str(ytunnus.format(match.group(1)))
        if line in labelled:
            found = _stray_digit(line, findings)
            if found:
                return found
    return None


def _stray_digit(line: str, findings: Findings) -> str | None:
    """A labelled Y-tunnus with one stray digit before or after its seven (a speck
    read as a digit), when exactly one way of dropping it passes the check digit."""
    match = _YTUNNUS_LONG.search(line)
    if match is None:
        return None
    digits, check = match.group(1), match.group(2)
    fits = {
        f"{seven}-{check}"
        for seven in (digits[1:], digits[:-1])
        if ytunnus.is_valid(f"{seven}-{check}")
    }
    if len(fits) != 1:
        return None
    (found,) = fits
    findings.problem(
        f"Y-tunnus read as {digits}-{check}, with a stray digit; {found} passes the "
        "check digit"
    )
    return found


def merchant(lines: Sequence[str], skip: re.Pattern[str]) -> str | None:
    """The seller's name: the first line near the top made of words, not numbers."""
    for line in lines[:6]:
        letters = sum(c.isalpha() for c in line)
        if letters < 3 or skip.search(line) or _YTUNNUS.search(line) or dates(line):
            continue
        if sum(c.isdigit() for c in line) > letters / 2:
            continue
        name = re.sub(r"^[^\wÅÄÖåäö]+|[^\w.)ÅÄÖåäö]+$", "", line).strip()
        if len(name) >= 3:
            return name
    return None


def total_candidates(lines: Sequence[str]) -> list[tuple[int, Decimal]]:
    """(line index, amount) of each line labelled as the total, in order.

    An amount printed far to the right may come out of OCR as a line of its own, just
    below or above its label: a label without an amount takes a neighbouring line that
    holds an amount and no words.
    """
    found = []
    for i, line in enumerate(lines):
        if not TOTAL_LABEL.search(line) or _NOT_TOTAL.search(line):
            continue
        values = amounts(line)
        for near in (i + 1, i - 1):
            if values or not 0 <= near < len(lines):
                continue
            if not re.search(r"[A-Za-zÅÄÖåäö]{2}", lines[near]):
                values = amounts(lines[near])
        if values:
            found.append((i, values[-1]))
    return found


def payment_method(lines: Sequence[str], start: int = 0) -> str | None:
    """The payment method named after line `start` (else anywhere); loyalty card
    lines (Plussa, S-Etukortti, Bonus) name no way of paying."""
    for line in [*lines[start:], *lines[:start]]:
        if LOYALTY.search(line):
            continue
        for pattern, name in PAYMENTS:
            if pattern.search(line):
                return name
    return None


def confidence(
    found: dict[str, bool], weights: dict[str, float], warnings: int
) -> float:
    """A 0..1 score: the weight of the fields found, lowered by each warning."""
    score = sum(w for name, w in weights.items() if found.get(name)) / sum(
        weights.values()
    )
    return round(score * 0.85**warnings, 3)
