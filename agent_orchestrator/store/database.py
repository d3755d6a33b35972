"""The database handle: engines for SQLite (embedded default) and PostgreSQL.

SQLite gets one writer connection per process (our writes queue in the pool instead of
failing with "database is locked") and a few reader connections in WAL mode; PostgreSQL
one pool for both.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ..core.errors import ConfigurationError
from .batches import PostgresBatchWriter, SqliteBatchWriter

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str) -> URL:
    """Accept the URL forms people paste and pick our async drivers.

    ``postgres://`` and ``postgresql://`` (Supabase, Heroku, psql style) become
    ``postgresql+asyncpg://``; ``sqlite:///x.db`` becomes ``sqlite+aiosqlite:///x.db``.

    Raises:
        ConfigurationError: The URL cannot be read or names another database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"DATABASE_URL {url!r} is not a database URL; use e.g. "
            "sqlite:///agent_orchestrator.db or postgresql://user:pass@host:5432/db"
        ) from exc
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return parsed.set(drivername="postgresql+asyncpg")
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    raise ConfigurationError(
        f"DATABASE_URL uses {backend!r}; supported are sqlite and postgresql"
    )


@dataclass
class Database:
    """Engines for one database; an async context manager that disposes them.

    Attributes:
        url: The normalised URL.
        writer: The engine transactions that write go through.
        reader: The engine for reads (the same as `writer` on PostgreSQL).
    """

    url: URL
    writer: AsyncEngine
    reader: AsyncEngine
    _batches: PostgresBatchWriter | SqliteBatchWriter | None = None

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.url.get_backend_name()

    @property
    def is_sqlite(self) -> bool:
        """True on the embedded SQLite database."""
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction on the writer, committed when the block ends without error."""
        async with self.writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads."""
        async with self.reader.connect() as conn:
            yield conn

    async def ping(self) -> str:
        """The server's version text; raises if the database cannot be reached."""
        from sqlalchemy import text

        async with self.read() as conn:
            if self.is_sqlite:
                value = (await conn.execute(text("select sqlite_version()"))).scalar()
                return f"SQLite {value}"
            value = (await conn.execute(text("show server_version"))).scalar()
            return f"PostgreSQL {value}"

    @property
    def batches(self) -> PostgresBatchWriter | SqliteBatchWriter:
        """The engine's hot-path writer on the raw driver (made on first use)."""
        if self._batches is None:
            if self.is_sqlite:
                self._batches = SqliteBatchWriter(
                    self.url.database or "", SQLITE_BUSY_TIMEOUT_MS / 1000
                )
            else:
                dsn = self.url.set(drivername="postgresql").render_as_string(
                    hide_password=False
                )
                self._batches = PostgresBatchWriter(dsn)
        return self._batches

    async def dispose(self) -> None:
        """Close every pooled connection."""
        if self._batches is not None:
            await self._batches.aclose()
            self._batches = None
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dispose()


def create_database(url: str, *, echo: bool = False, pool_size: int = 10) -> Database:
    """Make the engines for `url` (nothing connects until first use, except that an
    existing SQLite file is switched to WAL once, see `_ensure_wal`)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _ensure_wal(parsed.database)
        writer = create_async_engine(
            parsed,
            echo=echo,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        reader = create_async_engine(
            parsed,
            echo=echo,
            pool_size=8,
            max_overflow=8,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        for engine in (writer, reader):
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return Database(parsed, writer, reader)
    engine = create_async_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
    )
    return Database(parsed, engine, engine)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # The busy timeout first, so that the pragmas after it wait for a lock.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _ensure_wal(path: str) -> None:
    """Switch an existing SQLite file to WAL before any pool connects to it.

    WAL is a property of the file. Switching needs the file to itself, which the first
    connections of a freshly migrated database (Alembic leaves the rollback journal)
    would otherwise race for: one of them fails at once with "database is locked",
    busy timeout or not. Once the file is in WAL, every later switch is a no-op.
    """
    if not os.path.isfile(path):
        return  # nothing to race for yet; the pools' connections set it
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        finally:
            conn.close()
        time.sleep(0.05)
