"""Opaque keyset cursors: (time, id) pairs, base64url-encoded."""

from __future__ import annotations

import base64
import datetime as dt
import json

from ..core.errors import Problem, ValidationFailed
from ..core.ids import as_utc

MAX_PAGE = 100


def encode_cursor(at: dt.datetime, row_id: str) -> str:
    """The cursor of a row ordered by (`at`, `row_id`)."""
    raw = json.dumps([as_utc(at).isoformat(), row_id], separators=(",", ":"))  # type: ignore[union-attr]
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, field: str = "after") -> tuple[dt.datetime, str]:
    """Read a cursor made by `encode_cursor`.

    Raises:
        ValidationFailed: The cursor was not made here.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        moment = as_utc(dt.datetime.fromisoformat(at))
        assert moment is not None and isinstance(row_id, str)
        return moment, row_id
    except Exception:
        raise ValidationFailed(
            [
                Problem(
                    field,
                    "not a cursor from this API; pass an endCursor you received",
                    "bad_cursor",
                )
            ]
        ) from None


def check_page_size(first: int, field: str = "first") -> None:
    """Refuse page sizes outside 1..100.

    Raises:
        ValidationFailed: With the allowed range.
    """
    if not 1 <= first <= MAX_PAGE:
        raise ValidationFailed(
            [Problem(field, f"must be between 1 and {MAX_PAGE}", "bad_page_size")]
        )
