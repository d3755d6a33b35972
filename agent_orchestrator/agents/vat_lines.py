"""VAT lines of Finnish receipts and invoices as printed: ``ALV 25,5 %`` tables with
Veroton / Vero / Verollinen columns (in any order), inline rows, and single ``Sis. ALV``
lines, each checked for consistency and against the rates that applied on the
document's date (`agents.vat_rates`).

A table row's three amounts say the same thing twice (net + VAT = gross, VAT = net x
rate), so one misread figure is found and mended from the other two, and a misread rate
is read from its amounts; each mend is reported as a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from .parsing import AMOUNT, CENT, RATE, amounts, cents, rate_of
from .vat_rates import format_rate, vat_table

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

VAT_WORD = re.compile(r"\b(alv|vat|vero|moms|veroton|verollinen)", re.IGNORECASE)
_HEADER_ROLES = (
    ("net", re.compile(r"veroton|netto|\bnet\b|ilman", re.IGNORECASE)),
    ("gross", re.compile(r"verollinen|brutto|gross|yhteens|\bsis", re.IGNORECASE)),
    ("vat", re.compile(r"\bvero\b|alv\s*(€|eur)|\bvat\b|\btax\b", re.IGNORECASE)),
)
_ROW_LEAD = re.compile(r"\s*(?:[A-Z]\s+)?(\d[\d,.]{0,4})\s*%?\s+")


@dataclass(frozen=True, slots=True)
class Vat:
    """A VAT line as read: rate, net, VAT and gross."""

    rate: Decimal
    net: Decimal
    vat: Decimal
    gross: Decimal


def read(
    lines: Sequence[str],
    day: dt.date | None,
    total: Decimal | None,
    warnings: list[str],
) -> list[Vat]:
    """The VAT lines per rate as printed, each checked for consistency and against the
    rates that applied on `day`; what was mended or does not fit goes to `warnings`.

    Rows that name ALV or start with their rate come before rows found elsewhere (an
    invoice's item lines may carry a rate too); the first row of each rate counts.
    """
    table = vat_table()
    order: tuple[str, ...] = ("net", "vat", "gross")
    rows: list[tuple[bool, Decimal | None, list[Decimal], str]] = []
    in_table = False
    for line in lines:
        roles = _header_roles(line)
        if roles is not None:
            order, in_table = roles, True
            continue
        row = _vat_row(line, in_table)
        if row is None:
            in_table = in_table and bool(amounts(line))
            continue
        rate, values = row
        # A VAT row names ALV or starts with its rate; an item line starts with words.
        labelled = bool(VAT_WORD.search(line) or _ROW_LEAD.match(line))
        if values and (len(values) > 1 or labelled):
            rows.append((not labelled, rate, values[:3], line))
    rows.sort(key=lambda row: row[0])
    candidates = table.rates_on(day) if day else []
    options = [r.rate for r in candidates] or sorted(table.known(), reverse=True)
    single = len({rate for _, rate, _, _ in rows}) == 1
    found: dict[Decimal, Vat] = {}
    for _, rate, values, line in rows:
        notes: list[str] = []
        if rate is not None and rate in table.known():
            vat = _solve(rate, values, order, total if single else None, notes)
        else:
            vat = next(
                (
                    v
                    for r in options
                    if (v := _solve(r, values, order, None, [], strict=True))
                ),
                None,
            )
            printed = f"{format_rate(rate)} %" if rate is not None else "unreadable"
            if vat is None:
                warnings.append(
                    f"the VAT rate on '{line}' ({printed}) is not a Finnish rate and "
                    "its amounts fit none (an OCR misread?); that line was left out, "
                    "check the document"
                )
                continue
            notes.append(
                f"the VAT rate on '{line}' ({printed}) is not a Finnish rate; its "
                f"amounts give {format_rate(vat.rate)} %"
            )
        if vat is not None and vat.rate not in found:
            found[vat.rate] = vat
            warnings.extend(notes)
    result = list(found.values())
    if day is not None:
        warnings.extend(
            table.explain_invalid(v.rate, day)
            for v in result
            if not table.is_valid(v.rate, day)
        )
    if result and total is not None:
        gross = sum((v.gross for v in result), Decimal(0))
        if abs(gross - total) > CENT:
            warnings.append(
                f"the VAT lines add up to {gross} but the total is {total}; check "
                "the document"
            )
    return result


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


def _header_roles(line: str) -> tuple[str, ...] | None:
    positions = []
    for role, pattern in _HEADER_ROLES:
        match = pattern.search(line)
        if match:
            positions.append((match.start(), role))
    if len(positions) < 2 or amounts(line):
        return None
    roles = tuple(role for _, role in sorted(positions))
    missing = [r for r in ("net", "vat", "gross") if r not in roles]
    return roles + tuple(missing)


def _fits(rate: Decimal, net: Decimal, vat: Decimal) -> bool:
    """Whether `vat` is `rate` of `net`, give or take the till's rounding."""
    slack = max(Decimal("0.03"), abs(net) * Decimal("0.002"))
    return abs(net * rate / 100 - vat) <= slack and (rate > 0 or vat == 0)


def _solve(
    rate: Decimal,
    values: list[Decimal],
    order: Sequence[str],
    total: Decimal | None,
    notes: list[str],
    *,
    strict: bool = False,
) -> Vat | None:
    """Net, VAT and gross from a row's amounts; None if they do not fit `rate`.

    `strict` accepts only amounts that fit without mending.
    """
    name = f"{format_rate(rate)} %"
    if len(values) >= 3:
        a, b, c = values[:3]
        for net, vat, gross in (
            (a, b, c),
            (b, a, c),
            (a, c, b),
            (c, b, a),
            (b, c, a),
            (c, a, b),
        ):
            if abs(net + vat - gross) <= CENT and _fits(rate, net, vat):
                return Vat(rate, net, vat, gross)
        if strict:
            return None
        named = dict(zip(order, values[:3], strict=False))
        mended = _mend(rate, named)
        if mended is not None:
            row, role = mended
            notes.append(
                f"VAT line {name}: the {role} was read as {named[role]}, which does "
                f"not fit the other amounts; used {getattr(row, role)}"
            )
            return row
        notes.append(
            f"VAT line {name}: net {named['net']} + VAT {named['vat']} does not make "
            f"{named['gross']}; check the document"
        )
        return Vat(rate, named["net"], named["vat"], named["gross"])
    if len(values) == 2:
        a, b = values
        # (net, VAT), (VAT, gross) or (net, gross), in either order.
        for net, vat in (
            (a, b),
            (b, a),
            (b - a, a),
            (a - b, b),
            (a, b - a),
            (b, a - b),
        ):
            if net > 0 and vat >= 0 and _fits(rate, net, vat):
                return Vat(rate, net, vat, net + vat)
        if not strict:
            notes.append(
                f"VAT line {name}: the amounts {a} and {b} do not fit the rate"
            )
        return None
    (value,) = values
    if strict:
        return None
    if (
        total is not None
        and rate
        and abs(cents(total * rate / (100 + rate)) - value) <= CENT
    ):
        return Vat(rate, total - value, value, total)
    if rate and value:
        net = cents(value * 100 / rate)
        notes.append(
            f"VAT line {name}: only the VAT {value} is printed; net and gross were "
            "worked out from it"
        )
        return Vat(rate, net, value, net + value)
    return None


def _mend(rate: Decimal, named: dict[str, Decimal]) -> tuple[Vat, str] | None:
    """The row with one misread amount recomputed from the two others: of the three
    guesses that fit the rate, the one that fits it most closely."""
    net, vat, gross = named["net"], named["vat"], named["gross"]
    guesses = [
        (Vat(rate, net, vat, net + vat), "gross"),
        (Vat(rate, net, gross - net, gross), "vat"),
        (Vat(rate, gross - vat, vat, gross), "net"),
    ]
    fitting = [g for g in guesses if g[0].net > 0 and _fits(rate, g[0].net, g[0].vat)]
    if not fitting:
        return None
    return min(fitting, key=lambda g: abs(g[0].net * rate / 100 - g[0].vat))
