"""Identifiers and the one clock of the domain."""

from __future__ import annotations

import datetime as dt
import uuid

DEFAULT_TENANT = "default"


def new_id() -> str:
    """A fresh random identifier (UUID4, canonical text form)."""
    return str(uuid.uuid4())


def utcnow() -> dt.datetime:
    """The current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """Normalise a datetime to aware UTC.

    SQLite returns naive UTC datetimes, PostgreSQL aware ones.
    """
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
