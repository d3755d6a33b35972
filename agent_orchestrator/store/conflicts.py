"""``INSERT ... ON CONFLICT DO NOTHING`` on both databases, for idempotent writes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.dialects import postgresql, sqlite

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Table
    from sqlalchemy.sql.dml import Insert

    from .database import Database


def insert_or_skip(database: Database, table: Table, unique: Sequence[str]) -> Insert:
    """An insert into `table` that silently skips rows clashing on `unique` columns.

    A clash with a row another transaction is still writing waits for that transaction
    (PostgreSQL) or cannot happen (SQLite has one writer), so a read after the insert,
    in the same transaction, always finds the winning row.
    """
    if database.is_sqlite:
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(unique))
    return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(unique))
