"""A person's corrections to a document held for review, and the checks a document
must pass before it is booked: the same as the parsers apply to what they read
(`agents.vat_lines`): a VAT line's net plus VAT is its gross, its VAT is its rate of
the net, the rate applied on the document's date, and the lines add up to the total.

A line may give two of net, VAT and gross; the third is their sum or difference
(never a figure worked out from the rate). Paths in problems name the document's
fields (``vat_lines[1].gross``); transports rename them to their own spelling.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from stdnum import exceptions as stdnum_errors
from stdnum.fi import ytunnus

from ..core.bookkeeping import VatLine
from ..core.errors import Problem, ValidationFailed
from .parsing import CENT
from .vat_lines import fits
from .vat_rates import format_rate, vat_table

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: Euros with at most two decimals ("12.55", "12,55", "-3", 12.5).
_AMOUNT = re.compile(r"-?\d{1,12}(?:[.,]\d{1,2})?")
_RATE = re.compile(r"\d{1,2}(?:[.,]\d{1,2})?")
#: The fields a correction may set (the document's own names).
FIELDS = ("merchant", "business_id", "date", "total", "vat_lines")
MAX_LINES = 10
MAX_TEXT = 200


@dataclass(frozen=True, slots=True)
class Checked:
    """A document that passed every check: what booking it needs.

    Attributes:
        date: Its date.
        total: Its total with VAT.
        lines: Its VAT lines, each complete.
    """

    date: dt.date
    total: Decimal
    lines: tuple[VatLine, ...]


def amount(value: Any, path: str, problems: list[Problem]) -> Decimal | None:
    """`value` as euros with at most two decimals (None stays None); a problem
    otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problems.append(Problem(path, "must be an amount such as 12.55", "bad_amount"))
        return None
    text = str(value).strip()
    if not _AMOUNT.fullmatch(text):
        problems.append(
            Problem(
                path,
                f"{value!r} is not an amount in euros with at most two decimals "
                "(e.g. 12.55)",
                "bad_amount",
            )
        )
        return None
    return Decimal(text.replace(",", ".")).quantize(CENT)


def rate(value: Any, path: str, problems: list[Problem]) -> Decimal | None:
    """A VAT rate in percent (``25.5``); a problem when missing or not a number."""
    text = str(value).strip() if isinstance(value, str | int | float) else ""
    if isinstance(value, bool) or not _RATE.fullmatch(text):
        problems.append(
            Problem(path, "give the VAT rate in percent, e.g. 25.5 or 14", "bad_rate")
        )
        return None
    number = Decimal(text.replace(",", ".")).normalize()
    return (
        number.quantize(Decimal(1)) if number == number.to_integral_value() else number
    )


def correct(
    document: Mapping[str, Any], changes: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The document with `changes` applied, and what changed (``{field: {"from",
    "to"}}``), amounts as JSON numbers with two decimals.

    Raises:
        ValidationFailed: A field is unknown or its value is malformed (each problem
            names its field).
    """
    problems: list[Problem] = []
    new = dict(document)
    problems.extend(
        Problem(
            name,
            f"not a field a correction may set; use {', '.join(FIELDS)}",
            "unknown_field",
        )
        for name in changes
        if name not in FIELDS
    )
    if "merchant" in changes:
        new["merchant"] = _text(changes["merchant"], "merchant", problems)
    if "business_id" in changes:
        new["business_id"] = _business_id(changes["business_id"], problems)
    if "date" in changes:
        day = _date(changes["date"], problems)
        new["date"] = None if day is None else day.isoformat()
    if "total" in changes:
        total = amount(changes["total"], "total", problems)
        new["total"] = None if total is None else float(total)
    if "vat_lines" in changes:
        new["vat_lines"] = _lines(changes["vat_lines"], problems)
    if problems:
        raise ValidationFailed(problems)
    changed = {
        name: {"from": document.get(name), "to": new.get(name)}
        for name in FIELDS
        if name in changes and document.get(name) != new.get(name)
    }
    return new, changed


def check(document: Mapping[str, Any]) -> tuple[Checked | None, list[Problem]]:
    """Whether `document` may be booked: the checks of the module docstring, every
    problem with the field it concerns."""
    problems: list[Problem] = []
    day = _date(document.get("date"), problems)
    if day is None and not problems:
        problems.append(
            Problem("date", "missing: give the document's date (YYYY-MM-DD)", "missing")
        )
    total = amount(document.get("total"), "total", problems)
    if total is None and document.get("total") is None:
        problems.append(
            Problem("total", "missing: give the total with VAT, e.g. 12.55", "missing")
        )
    raw_lines = document.get("vat_lines") or []
    if not isinstance(raw_lines, list) or not raw_lines:
        problems.append(
            Problem(
                "vat_lines",
                "no VAT line: give each VAT rate's net, VAT and gross as printed",
                "missing",
            )
        )
        raw_lines = []
    lines: list[VatLine] = []
    table = vat_table()
    for index, raw in enumerate(raw_lines):
        where = f"vat_lines[{index}]"
        line = _line(raw, where, problems)
        if line is None:
            continue
        if day is not None and not table.is_valid(line.rate, day):
            problems.append(
                Problem(f"{where}.rate", table.explain_invalid(line.rate, day), "rate")
            )
        if any(other.rate == line.rate for other in lines):
            problems.append(
                Problem(
                    f"{where}.rate",
                    f"a second line at {format_rate(line.rate)} %: give one line per "
                    "rate",
                    "duplicate_rate",
                )
            )
        lines.append(line)
    if total is not None and lines and len(lines) == len(raw_lines):
        gross = sum((line.gross for line in lines), Decimal(0))
        if abs(gross - total) > CENT:
            problems.append(
                Problem(
                    "total",
                    f"the VAT lines' gross amounts add up to {gross} but the total is "
                    f"{total}; correct the total or a line",
                    "sum",
                )
            )
    if problems or day is None or total is None:
        return None, problems
    return Checked(day, total, tuple(lines)), []


def _line(raw: Any, where: str, problems: list[Problem]) -> VatLine | None:
    if not isinstance(raw, dict):
        problems.append(
            Problem(
                where, "must be an object with rate, net, vat and gross", "bad_line"
            )
        )
        return None
    before = len(problems)
    percent = rate(raw.get("rate"), f"{where}.rate", problems)
    net = amount(raw.get("net"), f"{where}.net", problems)
    vat = amount(raw.get("vat"), f"{where}.vat", problems)
    gross = amount(raw.get("gross"), f"{where}.gross", problems)
    if len(problems) > before or percent is None:
        return None
    given = sum(v is not None for v in (net, vat, gross))
    if given < 2:
        missing = [
            n for n, v in (("net", net), ("vat", vat), ("gross", gross)) if v is None
        ]
        problems.append(
            Problem(
                f"{where}.{missing[0]}",
                "give at least two of net, vat and gross as printed",
                "missing",
            )
        )
        return None
    if net is not None and vat is not None and gross is not None:
        if net + vat != gross:
            problems.append(
                Problem(
                    f"{where}.gross",
                    f"net {net} + VAT {vat} makes {net + vat}, not the gross {gross}",
                    "sum",
                )
            )
            return None
    elif gross is None:
        assert net is not None and vat is not None
        gross = net + vat
    elif vat is None:
        assert net is not None
        vat = gross - net
    else:
        net = gross - vat
    if not fits(percent, net, vat):
        expected = (net * percent / 100).quantize(CENT)
        problems.append(
            Problem(
                f"{where}.vat",
                f"VAT {vat} is not {format_rate(percent)} % of the net {net} (that "
                f"would be about {expected}); check the rate and the amounts",
                "vat",
            )
        )
        return None
    return VatLine(percent, net, vat, gross)


def _lines(value: Any, problems: list[Problem]) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_LINES:
        problems.append(
            Problem(
                "vat_lines", f"must be a list of at most {MAX_LINES} lines", "bad_line"
            )
        )
        return []
    lines = []
    for index, raw in enumerate(value):
        where = f"vat_lines[{index}]"
        if not isinstance(raw, dict):
            problems.append(
                Problem(where, "must be an object with rate, net, vat and gross")
            )
            continue
        unknown = set(raw) - {"rate", "net", "vat", "gross"}
        problems.extend(
            Problem(f"{where}.{name}", "unknown; use rate, net, vat, gross")
            for name in sorted(unknown)
        )
        percent = rate(raw.get("rate"), f"{where}.rate", problems)
        figures = {
            name: amount(raw.get(name), f"{where}.{name}", problems)
            for name in ("net", "vat", "gross")
        }
        lines.append(
            {
                "rate": None if percent is None else float(percent),
                **{k: None if v is None else float(v) for k, v in figures.items()},
            }
        )
    return lines


def _text(value: Any, path: str, problems: list[Problem]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= MAX_TEXT:
        problems.append(Problem(path, f"give 1 to {MAX_TEXT} characters", "bad_text"))
        return None
    return value.strip()


def _business_id(value: Any, problems: list[Problem]) -> str | None:
    if value is None or value == "":
        return None
    try:
        return str(ytunnus.format(ytunnus.validate(str(value))))
    except stdnum_errors.ValidationError:
        problems.append(
            Problem(
                "business_id",
                f"{value!r} is not a valid Y-tunnus (e.g. 1234567-1, check digit "
                "included)",
                "bad_business_id",
            )
        )
        return None


def _date(value: Any, problems: list[Problem]) -> dt.date | None:
    if value is None or value == "":
        return None
    text = str(value)
    try:
        if len(text) != len("YYYY-MM-DD"):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append(
            Problem("date", f"{value!r} is not a date: use YYYY-MM-DD", "bad_date")
        )
        return None


def as_document_lines(lines: Sequence[VatLine]) -> list[dict[str, float]]:
    """Checked lines as the document keeps them (JSON numbers)."""
    return [
        {
            "rate": float(line.rate),
            "net": float(line.net),
            "vat": float(line.vat),
            "gross": float(line.gross),
        }
        for line in lines
    ]
