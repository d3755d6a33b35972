"""The database handle: engines for SQLite (embedded default) and PostgreSQL.

SQLite gets one writer connection per process, lent to one transaction at a time (our
writes queue for it instead of failing with "database is locked"), and a few reader
connections in WAL mode; PostgreSQL one pool for both. Every write, the engine's
batches included, goes through these connections.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio
from sqlalchemy import event
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ..core.errors import ConfigurationError
from ..core.text import dumps
from .batches import PostgresBatches, SqliteBatches

if TYPE_CHECKING:
    import threading
    from collections.abc import AsyncIterator, Awaitable, Callable

    from sqlalchemy.engine.interfaces import DBAPIConnection

    from ..core.protocols import WriteBatch

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: How long a SQLite write waits for the writer connection before giving up.
WRITER_WAIT_S = 60.0
#: WAL pages after which a commit checkpoints (see `_sqlite_writer_pragmas`).
SQLITE_CHECKPOINT_PAGES = 10_000
#: The SQLAlchemy driver our SQLite engines are made with (see `StoppingAiosqlite`).
SQLITE_DRIVER = "sqlite+agent_orchestrator_aiosqlite"


class StoppingAiosqlite(SQLiteDialect_aiosqlite):
    """SQLAlchemy's aiosqlite dialect, whose ``terminate`` only stops the connection.

    SQLAlchemy terminates a connection it invalidates, as it does when a task is
    cancelled in the middle of a statement (a lease renewal cut off by its deadline).
    Its aiosqlite terminate then stops the connection's thread and, racing that,
    starts a graceful close; that close finds the connection stopping, forgets the
    sqlite3 connection before the thread could close it, and waits forever for a
    second stop that the ended thread never runs. The sqlite3 connection is left open,
    in its transaction and holding SQLite's write lock until the garbage collector
    finds it: every later write waits the busy timeout and fails, and the waiting close
    task never ends.

    Here terminate queues a rollback and close of the sqlite3 connection and stops
    the thread: aiosqlite runs what was queued before them first, all on the
    connection's own thread. Nothing waits for it, so a shielded cleanup cannot hang
    on it; `Database.dispose` waits (bounded) for those threads to end.
    """

    supports_statement_cache = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: Threads of stopped connections that may still be running what was queued.
        self.stopping: set[threading.Thread] = set()

    def do_terminate(self, dbapi_connection: DBAPIConnection) -> None:
        """Stop the connection's thread after what it has queued (see the class)."""
        connection = dbapi_connection._connection
        self.stopping = {t for t in self.stopping if t.is_alive()}
        self.stopping.add(connection._thread)
        sqlite_connection = connection._connection
        if sqlite_connection is not None:
            # Ended on its thread after what is queued; aiosqlite's own stop closes
            # only what its (loop-side) attribute still names when the thread gets
            # there, and a close racing it clears that attribute first.
            ending = partial(_roll_back_and_close, sqlite_connection)
            connection._tx.put_nowait((None, ending))
        connection.stop()
        # Closed from here on: a later close() returns at once instead of queueing a
        # second stop that the ended thread would never answer.
        connection._connection = None

    async def wait_stopped(self, timeout_s: float) -> None:
        """Wait (up to `timeout_s`) for the threads of stopped connections to end, so
        that none of them answers an event loop that has gone."""
        for thread in list(self.stopping):
            await anyio.to_thread.run_sync(thread.join, timeout_s)
        self.stopping = {t for t in self.stopping if t.is_alive()}


registry.register(SQLITE_DRIVER.replace("+", "."), __name__, StoppingAiosqlite.__name__)


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
        writer: The engine transactions that write go through (on SQLite its one
            connection is held and lent to one write at a time, see
            `WriterConnection`; use `write`, not the engine).
        reader: The engine for reads (the same as `writer` on PostgreSQL).
        writer_wait_s: On SQLite, how long a write waits for the writer connection,
            and how long an engine batch may run on it.
    """

    url: URL
    writer: AsyncEngine
    reader: AsyncEngine
    writer_wait_s: float = WRITER_WAIT_S
    _sqlite_writer: WriterConnection | None = None
    _batches: PostgresBatches | SqliteBatches | None = None
    _opened: bool = False
    _opening: anyio.Lock = field(default_factory=anyio.Lock)

    def __post_init__(self) -> None:
        if self.is_sqlite:
            self._sqlite_writer = WriterConnection(self.writer, self.writer_wait_s)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.url.get_backend_name()

    @property
    def is_sqlite(self) -> bool:
        """True on the embedded SQLite database."""
        return self.dialect == "sqlite"

    async def open(self) -> None:
        """Get the database ready for its pools (done once, on entry or first use).

        An existing SQLite file is switched to WAL here, in a worker thread, before any
        pooled connection opens (see `_ensure_wal`).
        """
        if self._opened:
            return
        async with self._opening:
            if self._opened:
                return
            path = self.url.database
            if self.is_sqlite and path and path != ":memory:":
                await anyio.to_thread.run_sync(_ensure_wal, path)
            self._opened = True

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction on the writer, committed when the block ends without error."""
        await self.open()
        if self._sqlite_writer is None:
            async with self.writer.begin() as conn:
                yield conn
            return
        async with self._sqlite_writer.lend() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads."""
        await self.open()
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
    def batches(self) -> PostgresBatches | SqliteBatches:
        """The engine's hot-path writer on the writer engine (made on first use)."""
        if self._batches is None:
            if self._sqlite_writer is not None:
                self._batches = SqliteBatches(self._sqlite_writer)
            else:
                self._batches = PostgresBatches(self.writer)
        return self._batches

    async def write_batch(self, batch: WriteBatch) -> None:
        """Store an engine batch in one transaction; see `store.batches`."""
        await self.open()
        await self.batches.write(batch)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        if self._batches is not None:
            await self._batches.aclose()
            self._batches = None
        if self._sqlite_writer is not None:
            await self._sqlite_writer.aclose()
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()
        for engine in {self.writer, self.reader}:
            if isinstance(engine.dialect, StoppingAiosqlite):
                await engine.dialect.wait_stopped(SQLITE_BUSY_TIMEOUT_MS / 1000)

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dispose()


class WriterConnection:
    """SQLite's one writer connection: checked out of the writer engine's pool once,
    held, and lent to one transaction at a time.

    SQLite admits one writer at a time anyway. Lending a held connection under a lock
    costs a few microseconds a write, where a checkout from the pool and its reset on
    return cost two hops to the driver's thread (the engine writes a batch per step).
    """

    def __init__(self, engine: AsyncEngine, wait_s: float) -> None:
        self.engine = engine
        self._wait_s = wait_s
        self._conn: AsyncConnection | None = None
        self._lock = anyio.Lock()

    @asynccontextmanager
    async def lend(self) -> AsyncIterator[AsyncConnection]:
        """The connection, to this task alone until the block ends.

        Raises:
            TimeoutError: Other writes held it for longer than the wait allowed.
        """
        try:
            self._lock.acquire_nowait()
        except anyio.WouldBlock:
            with anyio.fail_after(self._wait_s):
                await self._lock.acquire()
        try:
            conn = self._conn
            if conn is None or conn.closed or conn.invalidated:
                if conn is not None:
                    # An invalidated connection still holds the pool's one slot.
                    await self._discard(conn)
                conn = self._conn = await self.engine.connect()
            try:
                yield conn
            finally:
                if conn.invalidated:
                    await self._discard(conn)
                elif conn.in_transaction():
                    # A transaction cut short on its way out (cancelled while it
                    # ended): end it here so that the next write starts clean.
                    await self._end(conn)
        finally:
            self._lock.release()

    async def _end(self, conn: AsyncConnection) -> None:
        # Shielded but bounded: a rollback that cannot finish must not keep the lock.
        with anyio.CancelScope(shield=True):
            ended = False
            with anyio.move_on_after(self._wait_s):
                try:
                    await conn.rollback()
                    ended = True
                except Exception:
                    pass
            if not ended:
                await self._discard(conn)

    async def _discard(self, conn: AsyncConnection) -> None:
        """Drop a broken connection; the next write gets a new one from the pool.

        Its sqlite3 connection is rolled back and closed on its own thread after what
        is queued there (see `StoppingAiosqlite`); nothing here waits for that.
        """
        if self._conn is conn:
            self._conn = None
        with anyio.CancelScope(shield=True), anyio.move_on_after(self._wait_s):
            if not conn.invalidated:
                await conn.invalidate()
            await conn.close()

    async def run_on_thread(
        self,
        conn: AsyncConnection,
        call: Callable[[], Awaitable[None]],
        interrupt: Callable[[], None],
    ) -> None:
        """Await `call` (work on `conn`'s thread) for up to the writer's wait.

        Raises:
            TimeoutError: It took longer. `interrupt` is called (the caller's work
                should then stop and roll back, as an engine batch does before its
                commit), and the connection is dropped: it closes once the work has
                ended on its thread, and no later write uses it.
        """
        try:
            with anyio.fail_after(self._wait_s):
                await call()
        except TimeoutError:
            interrupt()
            await self._discard(conn)
            raise

    async def aclose(self) -> None:
        """Give the connection back to the pool (after the write holding it)."""
        async with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                await conn.close()


def create_database(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    writer_wait_s: float = WRITER_WAIT_S,
) -> Database:
    """Make the engines for `url`; nothing connects before the database is entered
    (``async with``) or first used, which also switches an existing SQLite file to WAL
    (see `Database.open`).

    JSON is encoded by `core.text.dumps` on both databases: text in it is cleaned of
    what PostgreSQL refuses, and NaN is refused on SQLite too (`NotStorable`).
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        driven = parsed.set(drivername=SQLITE_DRIVER)
        writer = create_async_engine(
            driven,
            echo=echo,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            json_serializer=dumps,
        )
        reader = create_async_engine(
            driven,
            echo=echo,
            pool_size=8,
            max_overflow=8,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            json_serializer=dumps,
        )
        for engine in (writer, reader):
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(writer.sync_engine, "connect", _sqlite_writer_pragmas)
        return Database(parsed, writer, reader, writer_wait_s)
    engine = create_async_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        json_serializer=dumps,
    )
    return Database(parsed, engine, engine)


def _roll_back_and_close(connection: sqlite3.Connection) -> None:
    """End a stopped connection's transaction, then close it (on its own thread).

    The rollback comes first: a close leaves the connection open, in its transaction
    and with SQLite's write lock, for as long as a statement of it is not yet finalized
    (a cursor the garbage collector has not found yet).
    """
    try:
        connection.rollback()
    finally:
        connection.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # The busy timeout first, so that the pragmas after it wait for a lock.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_writer_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # The connection that commits runs the checkpoints (copying the WAL into the file,
    # with an fsync). The engine's commits rewrite the same few pages over and over, so
    # checkpointing ten times less often than SQLite's default of 1000 pages writes far
    # fewer pages and fsyncs in all, for a WAL file of up to ~40 MB.
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
    cursor.close()


def _ensure_wal(path: str) -> None:
    """Switch an existing SQLite file to WAL before any pool connects to it (blocking:
    `Database.open` runs it in a worker thread).

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
