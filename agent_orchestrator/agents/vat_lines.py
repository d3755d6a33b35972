"""VAT lines of Finnish receipts and invoices as printed: ``ALV 25,5 %`` tables with
Veroton / Vero / Verollinen columns (in any order, with or without a header, under an
``ALV-ERITTELY`` title or not), inline rows, vertical blocks (the rate, then one line
per amount) and single ``Sis. ALV`` lines.

Only printed figures come out, and only when they agree with each other: a row's net
plus VAT makes its gross to the cent, its VAT is its rate of the net (give or take the
till's rounding), and its rate applied on the document's date (`agents.vat_rates`). A
row that fails is left out with a warning and the document is marked for review; no
figure is ever worked out from the others. A figure that is not printed (a ``Sis.
ALV`` line prints only the VAT) stays None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from .parsing import AMOUNT, CENT, RATE, Findings, amounts, rate_of
from .vat_rates import format_rate, vat_table

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

VAT_WORD = re.compile(r"\b(alv|vat|vero|moms|veroton|verollinen)", re.IGNORECASE)
#: Column words of a VAT table's header; "ALV" alone names the VAT amount column,
#: "ALV %" / "ALV-%" the rate column.
_COLUMN_WORDS = (
    ("net", re.compile(r"veroton|netto|\bnet\b|ilman\s*alv|\bilman\b", re.IGNORECASE)),
    ("gross", re.compile(r"verollinen|brutto|\bgross\b|yhteens|\bsis", re.IGNORECASE)),
    ("vat", re.compile(r"\bvero\b(?!\s*-?%)|\bvat\b(?!\s*%)|\btax\b|\bmoms\b", re.I)),
    # "ALV" names the VAT column only where no "Vero" does ("ALV %" is the rate's).
    ("vat", re.compile(r"\balv\b(?!\s*-?\s*(%|kanta|erit))", re.IGNORECASE)),
)
_SUMMARY_TITLE = re.compile(r"alv\s*-?\s*erittely|vat\s*summary|verot", re.IGNORECASE)
_ROW_LEAD = re.compile(r"\s*(?:[A-Z]\s+)?(\d[\d,.]{0,4})\s*%?\s+")
_ROUNDING = re.compile(r"py[öo]ristys|rounding|\bpy[öo]r\b", re.IGNORECASE)
_INCLUDED = re.compile(r"\bsis", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Vat:
    """A VAT line as printed: its rate and the amounts printed (None: not printed)."""

    rate: Decimal
    net: Decimal | None
    vat: Decimal | None
    gross: Decimal | None


@dataclass(frozen=True, slots=True)
class _Row:
    rate: Decimal | None  # None: unreadable
    values: tuple[Decimal, ...]
    roles: tuple[str, ...] | None  # the columns' meaning, when a header or labels say
    line: str
    labelled: bool  # names ALV or starts with its rate (not an item line)


def read(
    lines: Sequence[str],
    day: dt.date | None,
    total: Decimal | None,
    findings: Findings,
) -> list[Vat]:
    """The VAT lines per rate as printed, each checked; what does not fit goes to
    `findings` (a warning, and the document marked for review).

    Rows that name ALV or start with their rate come before rows found elsewhere (an
    invoice's item lines may carry a rate too); the first row of each rate counts.
    """
    rows = sorted(_rows(lines), key=lambda row: not row.labelled)
    table = vat_table()
    in_force = [r.rate for r in table.rates_on(day)] if day else []
    options = in_force or sorted(table.known(), reverse=True)
    single = len({row.rate for row in rows}) == 1
    found: dict[Decimal, Vat] = {}
    for row in rows:
        vat = _checked(row, options, total if single else None, findings)
        if vat is None or vat.rate in found:
            continue
        if day is not None and not table.is_valid(vat.rate, day):
            findings.problem(
                f"{table.explain_invalid(vat.rate, day)}; the line '{row.line}' was "
                "left out"
            )
            continue
        found[vat.rate] = vat
    result = list(found.values())
    _check_sum(result, total, lines, findings)
    return result


def rounding(lines: Sequence[str]) -> Decimal:
    """The amount of a printed rounding line (``Pyöristys -0,02``), else 0."""
    for line in lines:
        if _ROUNDING.search(line):
            values = amounts(line)
            if values and abs(values[-1]) < Decimal("0.05"):
                return values[-1]
    return Decimal(0)


def _check_sum(
    result: list[Vat], total: Decimal | None, lines: Sequence[str], findings: Findings
) -> None:
    """The lines' gross (printed, or net plus VAT for the check alone) must make the
    total, give or take a printed rounding line."""
    if not result or total is None:
        return
    grosses = [
        v.gross
        if v.gross is not None
        else (v.net + v.vat if v.net is not None and v.vat is not None else None)
        for v in result
    ]
    if any(g is None for g in grosses):
        return
    gross = sum((g for g in grosses if g is not None), Decimal(0))
    if abs(gross - total) <= CENT or gross + rounding(lines) == total:
        return
    findings.problem(
        f"the VAT lines add up to {gross} but the total is {total}; check the document"
    )


# --- rows as printed ------------------------------------------------------------------


def _rows(lines: Sequence[str]) -> list[_Row]:
    rows: list[_Row] = []
    order: tuple[str, ...] | None = None
    in_table = False
    skip = 0
    for index, line in enumerate(lines):
        if skip:
            skip -= 1
            continue
        if _SUMMARY_TITLE.search(line) and not amounts(line):
            in_table = True
            if not RATE.search(line):
                continue
        roles = _header_roles(line)
        if roles is not None:
            order, in_table = roles, True
            continue
        block = _vertical(lines, index)
        if block is not None:
            row, used = block
            rows.append(row)
            skip = used
            continue
        parsed = _vat_row(line, in_table)
        if parsed is None:
            in_table = in_table and bool(amounts(line))
            continue
        rate, values = parsed
        # A VAT row names ALV or starts with its rate; an item line starts with words.
        labelled = bool(VAT_WORD.search(line) or _ROW_LEAD.match(line))
        if len(values) == 2 and index + 1 < len(lines):
            # A right-aligned column may come out as a line of its own (a PDF's text
            # layer, OCR): a lone amount below that the two add up to is this row's.
            below = lines[index + 1]
            lone = amounts(below)
            if (
                len(lone) == 1
                and not re.search(r"[A-Za-zÅÄÖåäö]", below)
                and values[0] + values[1] == lone[0]
            ):
                values = [*values, lone[0]]
                skip = 1
        if values and (len(values) > 1 or labelled):
            inline = _inline_roles(line)
            rows.append(
                _Row(
                    rate,
                    tuple(values[:3]),
                    inline if inline else (order if in_table else None),
                    line,
                    labelled,
                )
            )
    return rows


def _vat_row(line: str, in_table: bool) -> tuple[Decimal | None, list[Decimal]] | None:
    """The rate (None if unreadable) and the amounts after it, if the line is a VAT
    row: it has a ``NN %`` rate, or it is a table row led by a number."""
    match = RATE.search(line)
    if match is not None:
        return rate_of(line), amounts(line[match.end() :])
    if not in_table:
        return None
    # Inside a table the % sign may be missing or misread: "A 25,5  10,00  2,55  12,55",
    # "146 27,61 3,87 31,48" (14 % with the sign read as 6).
    lead = _ROW_LEAD.match(line)
    if lead is None or len(amounts(line)) < 2:
        return None
    if AMOUNT.fullmatch(lead.group(1)):
        return None, amounts(line)
    try:
        rate: Decimal | None = Decimal(lead.group(1).replace(",", "."))
    except InvalidOperation:
        rate = None
    return rate, amounts(line[lead.end() :])


def _vertical(lines: Sequence[str], index: int) -> tuple[_Row, int] | None:
    """A vertical block: a line with the rate and no amount, then up to three lines
    each naming one column (Veroton / Vero / Verollinen, any order) with its amount.
    The row, and how many lines after the rate line it used."""
    line = lines[index]
    match = RATE.search(line)
    if match is None or amounts(line[match.end() :]):
        return None
    roles: list[str] = []
    values: list[Decimal] = []
    for below in lines[index + 1 : index + 4]:
        role = _role_of(below)
        found = amounts(below)
        if role is None or role in roles or len(found) != 1 or RATE.search(below):
            break
        roles.append(role)
        values.append(found[0])
    if not values:
        return None
    return _Row(rate_of(line), tuple(values), tuple(roles), line, True), len(values)


def _role_of(line: str) -> str | None:
    """Which column a label line names (the first of its words that names one)."""
    head = AMOUNT.split(line, maxsplit=1)[0]
    hits = [
        (match.start(), role)
        for role, pattern in _COLUMN_WORDS
        if (match := pattern.search(head))
    ]
    return min(hits)[1] if hits else None


def _header_roles(line: str) -> tuple[str, ...] | None:
    if amounts(line):
        return None
    positions: dict[str, int] = {}
    for role, pattern in _COLUMN_WORDS:
        match = pattern.search(line)
        if match and role not in positions:
            positions[role] = match.start()
    if len(positions) < 2:
        return None
    return tuple(sorted(positions, key=positions.__getitem__))


def _inline_roles(line: str) -> tuple[str, ...] | None:
    """The columns of an inline row that labels its amounts: ``ALV 14 % Veroton 3,33
    Vero 0,45 Verollinen 3,78``, or ``Sis. ALV 13,5 % 0,54`` (the VAT alone)."""
    match = RATE.search(line)
    if match is None:
        return None
    rest = line[match.end() :]
    roles = []
    for segment in AMOUNT.split(rest)[::5][:-1]:  # the text before each amount
        role = _role_of(segment)
        if role is None:
            break
        roles.append(role)
    if len(roles) == len(amounts(rest)) and len(set(roles)) == len(roles):
        return tuple(roles)
    if _INCLUDED.search(line[: match.start()]) and len(amounts(rest)) == 1:
        return ("vat",)
    return None


# --- checks ---------------------------------------------------------------------------


def fits(rate: Decimal, net: Decimal, vat: Decimal) -> bool:
    """Whether `vat` is `rate` of `net`, give or take the till's rounding (per item
    or per line, a few cents on a long receipt)."""
    slack = max(Decimal("0.03"), abs(net) * Decimal("0.002"))
    return abs(net * rate / 100 - vat) <= slack and (rate > 0 or vat == 0)


def _checked(
    row: _Row, options: list[Decimal], total: Decimal | None, findings: Findings
) -> Vat | None:
    """The row as a VAT line if its printed figures agree, else None (with a finding).

    An unreadable or non-Finnish rate is read from the amounts only when all three are
    printed, agree exactly, and exactly one rate in force fits them.
    """
    known = vat_table().known()
    if row.rate is not None and row.rate in known:
        vat = _consistent(row.rate, row, total)
        if vat is not None:
            return vat
        findings.problem(
            f"VAT line '{row.line}': {_why(row)}; left out (an OCR misread?), check "
            "the document"
        )
        return None
    printed = f"{format_rate(row.rate)} %" if row.rate is not None else "unreadable"
    fitting = (
        [v for r in options if (v := _consistent(r, row, None, exact=True))]
        if len(row.values) >= 3
        else []
    )
    if len(fitting) != 1:
        findings.problem(
            f"the VAT rate on '{row.line}' ({printed}) is not a Finnish rate and its "
            "amounts do not name one (an OCR misread?); that line was left out, "
            "check the document"
        )
        return None
    findings.problem(
        f"the VAT rate on '{row.line}' ({printed}) is not a Finnish rate; its amounts "
        f"fit {format_rate(fitting[0].rate)} % only"
    )
    return fitting[0]


def _why(row: _Row) -> str:
    if len(row.values) >= 3:
        return "its net, VAT and gross do not agree with each other and the rate"
    if len(row.values) == 2:
        return "its two amounts do not fit the rate"
    return "a lone amount that cannot be checked against the total"


def _consistent(
    rate: Decimal, row: _Row, total: Decimal | None, *, exact: bool = False
) -> Vat | None:
    """The printed amounts as a VAT line of `rate`, if they agree; None if not, or if
    they could be read more than one way."""
    values = row.values
    roles = row.roles
    if len(values) >= 3:
        a, b, c = values[:3]
        orders = [(a, b, c), (b, a, c), (a, c, b), (c, b, a), (b, c, a), (c, a, b)]
        if roles is not None and len(roles) >= 3 and not exact:
            named = dict(zip(roles, values[:3], strict=False))
            if {"net", "vat", "gross"} <= named.keys():
                orders.insert(0, (named["net"], named["vat"], named["gross"]))
        for net, vat, gross in orders:
            if net + vat == gross and fits(rate, net, vat):
                return Vat(rate, net, vat, gross)
        return None
    if len(values) == 2:
        return _pair(rate, values[0], values[1], roles)
    if len(values) == 1 and total is not None:
        # "Sis. ALV 13,5 % 0,54": the VAT of the whole total at one rate, checked
        # against the printed total (which is then this rate's gross).
        (value,) = values
        if fits(rate, total - value, value) and value < total:
            return Vat(rate, None, value, total)
    return None


def _pair(
    rate: Decimal, a: Decimal, b: Decimal, roles: tuple[str, ...] | None
) -> Vat | None:
    """Two printed amounts: which two of net, VAT and gross they are, when exactly
    one reading fits the rate (the labels' or header's first, if they say)."""
    readings: list[Vat] = []
    for x, y in ((a, b), (b, a)):
        if x > 0 and y >= 0 and fits(rate, x, y):
            readings.append(Vat(rate, x, y, None))
        if y > x >= 0 and fits(rate, y - x, x):
            readings.append(Vat(rate, None, x, y))
        if y > x > 0 and fits(rate, x, y - x):
            readings.append(Vat(rate, x, None, y))
    if roles is not None and len(roles) == 2:
        named = dict(zip(roles, (a, b), strict=True))
        labelled = [
            v
            for v in readings
            if all(getattr(v, role) == value for role, value in named.items())
        ]
        if labelled:
            readings = labelled
    unique = set(readings)
    return unique.pop() if len(unique) == 1 else None
