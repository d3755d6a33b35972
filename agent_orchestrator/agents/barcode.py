"""The Finnish bank barcode's printed form, the virtual barcode (virtuaaliviivakoodi).

54 digits, per Finance Finland's "Pankkiviivakoodi" guide:

- version 4 (national reference): ``4`` + IBAN digits (16) + euros (6) + cents (2) +
  reserve ``000`` + viitenumero right-aligned (20) + due date YYMMDD (6);
- version 5 (RF reference): ``5`` + IBAN digits (16) + euros (6) + cents (2) + the RF
  check digits (2) + the reference body right-aligned (21) + due date YYMMDD (6).

A due date of ``000000`` means none; an amount of zero means the payer types it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from stdnum import exceptions as stdnum_errors
from stdnum import iban as stdnum_iban
from stdnum import iso11649

_DIGITS = re.compile(r"(?<!\d)([45](?:\s?\d){53})(?!\s?\d)")


@dataclass(frozen=True, slots=True)
class VirtualBarcode:
    """A decoded virtual barcode.

    Attributes:
        code: The 54 digits.
        version: 4 or 5.
        iban: The payee's IBAN (compact), or None if its check digits fail.
        amount: The amount, or None when the barcode leaves it to the payer.
        reference: The viitenumero (version 4) or RF reference (version 5), compact.
        due_date: The due date, or None.
    """

    code: str
    version: int
    iban: str | None
    amount: Decimal | None
    reference: str | None
    due_date: dt.date | None


class BarcodeError(ValueError):
    """Digits that are not a valid virtual barcode; the message says why."""


def find(text: str) -> str | None:
    """The virtual barcode in `text`: a run of 54 digits starting with 4 or 5 (spaces
    between digits allowed), or such a run that OCR split over two nearby lines and
    that decodes with a valid account and reference."""
    match = _DIGITS.search(text)
    if match:
        return re.sub(r"\s", "", match.group(1))
    runs = [
        (row, re.sub(r"\s", "", run.group(0)))
        for row, line in enumerate(text.splitlines())
        for run in re.finditer(r"\d(?:\s?\d){5,}", line)
    ]
    for row_a, head in runs:
        for row_b, tail in runs:
            joined = head + tail
            if row_a == row_b or abs(row_a - row_b) > 2 or len(joined) != 54:
                continue
            try:
                decoded = decode(joined)
            except BarcodeError:
                continue
            if decoded.iban is not None:
                return joined
    return None


def reference_valid(number: str) -> bool:
    """Whether a Finnish reference number (viitenumero, 4 to 20 digits) ends in its
    7-3-1 check digit."""
    if not re.fullmatch(r"\d{4,20}", number) or not number.strip("0"):
        return False
    weights = (7, 3, 1)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(number[:-1])))
    return (10 - total % 10) % 10 == int(number[-1])


def decode(code: str) -> VirtualBarcode:
    """Read a virtual barcode.

    Raises:
        BarcodeError: Not 54 digits, an unknown version, or a field that cannot be
            what it claims.
    """
    code = re.sub(r"\s", "", code)
    if not re.fullmatch(r"\d{54}", code):
        raise BarcodeError(f"a virtual barcode has 54 digits; this one has {len(code)}")
    version = int(code[0])
    if version not in (4, 5):
        raise BarcodeError(
            f"virtual barcode version {version} is not supported (only 4 and 5)"
        )
    try:
        iban: str | None = stdnum_iban.validate("FI" + code[1:17])
    except stdnum_errors.ValidationError:
        iban = None
    amount = Decimal(int(code[17:23])) + Decimal(int(code[23:25])) / 100
    if version == 4:
        body = code[28:48].lstrip("0")
        reference = body or None
        if reference is not None and not reference_valid(reference):
            raise BarcodeError(
                f"the reference {reference} in the barcode fails its check digit"
            )
    else:
        body = code[27:48].lstrip("0")
        reference = f"RF{code[25:27]}{body}" if body else None
        if reference is not None and not iso11649.is_valid(reference):
            raise BarcodeError(
                f"the RF reference {reference} in the barcode is invalid"
            )
    due = None
    if code[48:] != "000000":
        try:
            due = dt.datetime.strptime(code[48:], "%y%m%d").date()
        except ValueError:
            raise BarcodeError(
                f"the barcode's due date {code[48:]} is not a date"
            ) from None
    return VirtualBarcode(
        code=code,
        version=version,
        iban=iban,
        amount=amount or None,
        reference=reference,
        due_date=due,
    )
