"""The database's schema: checking it before use and applying the Alembic history
(`agent-orchestrator migrate`, start-up checks, tests).

Driver errors met on the way (server down, no such database, login refused, a file
that is not SQLite) become `DatabaseUnavailable`, and a schema that is missing or at
another revision `SchemaMismatch`, each with one line that names ``DATABASE_URL`` (its
password hidden) and what to do.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from ..core.errors import (
    AgentOrchestratorError,
    ConfigurationError,
    DatabaseUnavailable,
    SchemaMismatch,
)
from .database import normalise_url

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import URL, Connection

ROOT = Path(__file__).resolve().parents[2]
CONNECT_TIMEOUT_S = 10.0
MIGRATE_COMMAND = "agent-orchestrator migrate"

# PostgreSQL error codes (SQLSTATE) met when a database cannot be used at all:
# https://www.postgresql.org/docs/current/errcodes-appendix.html
_NO_SUCH_DATABASE = "3D000"
_NO_SUCH_TABLE = "42P01"
_UNUSABLE_CLASSES = ("08", "28", "53", "57P")


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a database's schema stands against this version's migrations.

    Attributes:
        url: The database URL with its password hidden.
        current: The database's revision; None when it has no schema yet.
        head: The revision this version works with.
        known: Whether `current` is in this version's history (False when a newer
            version migrated the database).
    """

    url: str
    current: str | None
    head: str
    known: bool = True

    @property
    def up_to_date(self) -> bool:
        """True when the database is at `head`."""
        return self.current == self.head

    def mismatch(self) -> SchemaMismatch | None:
        """The error that says why the schema cannot be used, or None when it can."""
        if self.up_to_date:
            return None
        if self.current is None:
            text = (
                f"the database {self.url} has no schema yet: run `{MIGRATE_COMMAND}` "
                f"(it creates revision {self.head})"
            )
        elif not self.known:
            text = (
                f"the database {self.url} is at schema revision {self.current}, which "
                f"this version does not know (it works with {self.head}): a newer "
                "Agent Orchestrator migrated it; run that version, or point "
                "DATABASE_URL at another database"
            )
        else:
            text = (
                f"the database {self.url} is at schema revision {self.current}, this "
                f"version needs {self.head}: run `{MIGRATE_COMMAND}`"
            )
        return SchemaMismatch(text, current=self.current, head=self.head)


@dataclass(frozen=True, slots=True)
class Migration:
    """What `migrate` did.

    Attributes:
        url: The database URL with its password hidden.
        before: The revision before, None when there was no schema.
        after: The revision now.
    """

    url: str
    before: str | None
    after: str

    def describe(self) -> str:
        """``created the schema at 0002``, ``upgraded 0001 → 0002`` or ``already at
        0002``."""
        if self.before is None:
            return f"created the schema at {self.after}"
        if self.before == self.after:
            return f"already at {self.after}"
        return f"upgraded {self.before} → {self.after}"


def parse_url(database_url: str) -> URL:
    """`database_url` with our async driver, or a one-line error about it.

    Raises:
        ConfigurationError: The URL cannot be read or names another kind of database.
    """
    try:
        return normalise_url(database_url)
    except ConfigurationError:
        raise
    except ValueError as exc:
        # make_url raises a bare ValueError for e.g. a port that is not a number; the
        # URL itself is not repeated because it may hold a password.
        raise ConfigurationError(
            f"DATABASE_URL cannot be read ({exc}); use e.g. "
            "sqlite:///agent_orchestrator.db or postgresql://user:pass@host:5432/db"
        ) from exc


def safe_url(database_url: str) -> str:
    """The URL as people wrote it, with its password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except Exception:
        return "(DATABASE_URL, unreadable)"


def alembic_config(database_url: str) -> Config:
    """An Alembic config for the repository's one migration history.

    Raises:
        ConfigurationError: The migrations folder is not next to the package (the
            project must be installed from its source tree, as `make install` does).
    """
    from alembic.config import Config

    ini = ROOT / "alembic.ini"
    if not ini.is_file():
        raise ConfigurationError(
            f"cannot find {ini}; install the project from its source tree "
            "(pip install -e .) so that the migrations travel with it"
        )
    config = Config(str(ini))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


@lru_cache(maxsize=1)
def _history() -> tuple[str, frozenset[str]]:
    """The head revision and every revision of the history."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(""))
    heads = script.get_heads()
    if len(heads) != 1:
        raise ConfigurationError(
            f"the migration history has {len(heads)} heads ({', '.join(heads)}); "
            "merge them with `alembic merge heads`"
        )
    revisions = frozenset(r.revision for r in script.walk_revisions())
    return heads[0], revisions


def head_revision() -> str:
    """The revision this version works with."""
    return _history()[0]


def current_heads(database_url: str) -> list[str]:
    """The script heads of the history (one, if the history is healthy)."""
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())


async def schema_status(
    database_url: str, *, timeout_s: float = CONNECT_TIMEOUT_S
) -> SchemaStatus:
    """Connect to the database and read its schema revision.

    A SQLite file that does not exist is reported as having no schema; it is not
    created.

    Raises:
        ConfigurationError: The URL cannot be read or names another database.
        DatabaseUnavailable: The database cannot be reached or opened.
    """
    url = parse_url(database_url)
    head, revisions = _history()
    shown = safe_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        if path in ("", ":memory:"):
            return SchemaStatus(shown, None, head)
        file = anyio.Path(path)
        if not await file.exists():
            if not await file.parent.is_dir():
                raise DatabaseUnavailable(
                    f"cannot create the SQLite file {path}: the folder {file.parent} "
                    f"does not exist; create it or correct DATABASE_URL ({shown})"
                )
            return SchemaStatus(shown, None, head)
    try:
        current = await _read_revision(url, timeout_s)
    except Exception as exc:
        raise _unusable(exc, database_url) from exc
    known = current is None or current in revisions
    return SchemaStatus(shown, current, head, known)


async def check_schema(database_url: str) -> SchemaStatus:
    """`schema_status`, raising unless the database is at this version's revision.

    Raises:
        ConfigurationError: The URL cannot be read or names another database.
        DatabaseUnavailable: The database cannot be reached or opened.
        SchemaMismatch: The schema is missing or at another revision.
    """
    status = await schema_status(database_url)
    mismatch = status.mismatch()
    if mismatch is not None:
        raise mismatch
    return status


async def _read_revision(url: URL, timeout_s: float) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    # asyncpg waits 60 s for a host that drops packets; start-up should not.
    args = {"timeout": timeout_s} if url.get_backend_name() == "postgresql" else {}
    engine = create_async_engine(url, poolclass=NullPool, connect_args=args)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(read)
    finally:
        await engine.dispose()


def migrate(database_url: str) -> Migration:
    """Bring the database to this version's revision and say what was done (blocking;
    from async code, await `migrate_async`).

    Raises:
        ConfigurationError: The URL cannot be read or names another database.
        DatabaseUnavailable: The database cannot be reached or opened.
        SchemaMismatch: The database is at a revision this version does not know.
    """
    return anyio.run(migrate_async, database_url)


async def migrate_async(database_url: str) -> Migration:
    """`migrate` from async code."""
    before = await schema_status(database_url)
    if not before.known:
        mismatch = before.mismatch()
        assert mismatch is not None
        raise mismatch
    if not before.up_to_date:
        await upgrade_async(database_url)
    return Migration(before.url, before.current, before.head)


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database up to `revision` (blocking).

    Alembic's env runs its own event loop; called from inside a running loop, the work
    moves to a helper thread so that the loops do not meet.

    Raises:
        ConfigurationError: The URL cannot be read or names another database.
        DatabaseUnavailable: The database cannot be reached or opened.
    """
    from alembic import command

    parse_url(database_url)

    def work() -> None:
        try:
            command.upgrade(alembic_config(database_url), revision)
        except AgentOrchestratorError:
            raise
        except Exception as exc:
            ours = translate_error(exc, database_url)
            if ours is None:
                raise
            raise ours from exc

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        work()
        return
    errors: list[BaseException] = []

    def in_thread() -> None:
        try:
            work()
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=in_thread, name="alembic-upgrade")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """`upgrade` from async code (Alembic's env runs its own event loop in a thread)."""
    await anyio.to_thread.run_sync(upgrade, database_url, revision)


def translate_error(
    exc: BaseException, database_url: str
) -> AgentOrchestratorError | None:
    """Our error for a driver error that means the database cannot be used, or None
    when `exc` is something else (a bug, a constraint, ...).

    Recognised: connection refused, unknown host, no answer, no such database, login
    refused, a missing table (an unmigrated database), a SQLite file that cannot be
    opened or is not a database, and a query parameter the driver does not accept.
    """
    if isinstance(exc, AgentOrchestratorError):
        return exc
    from sqlalchemy.exc import DBAPIError

    shown = safe_url(database_url)
    try:
        url = normalise_url(database_url)
    except (ConfigurationError, ValueError) as bad:
        return ConfigurationError(str(bad))
    if url.get_backend_name() == "sqlite":
        return _sqlite_error(exc, url.database or "", shown)
    host = f"{url.host or 'localhost'}:{url.port or 5432}"
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        reason = _first_line(exc.orig) if exc.orig is not None else _first_line(exc)
        if sqlstate == _NO_SUCH_DATABASE:
            createdb = (
                f"createdb -h {url.host or 'localhost'} -p {url.port or 5432} "
                f"-U {url.username or 'postgres'} {url.database}"
            )
            return DatabaseUnavailable(
                f"database '{url.database}' does not exist on the PostgreSQL server at "
                f"{host} (DATABASE_URL={shown}): create it ({createdb}) and run "
                f"`{MIGRATE_COMMAND}`, or correct DATABASE_URL"
            )
        if sqlstate.startswith("28"):
            return DatabaseUnavailable(
                f"the PostgreSQL server at {host} refused the login ({reason}): "
                f"correct the user or password in DATABASE_URL ({shown})"
            )
        if sqlstate == _NO_SUCH_TABLE:
            return _missing_table(reason, shown)
        if sqlstate.startswith(_UNUSABLE_CLASSES):
            return DatabaseUnavailable(
                f"the PostgreSQL server at {host} cannot serve DATABASE_URL={shown} "
                f"now ({reason}); try again, or check the server"
            )
        return None
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        if isinstance(exc, TimeoutError):
            why = f"no answer within {CONNECT_TIMEOUT_S:g} s"
        elif isinstance(exc, ConnectionRefusedError):
            why = "connection refused"
        elif isinstance(exc, socket.gaierror):  # an unknown host name
            return DatabaseUnavailable(
                f"cannot find the database host '{url.host}' ({exc.strerror or exc}): "
                f"correct the host in DATABASE_URL ({shown})"
            )
        else:
            why = exc.strerror or str(exc) or type(exc).__name__
        return DatabaseUnavailable(
            f"cannot connect to PostgreSQL at {host} ({why}): start the server, or "
            f"correct DATABASE_URL ({shown})"
        )
    if isinstance(exc, TypeError) and "unexpected keyword argument" in str(exc):
        # The driver was handed a query parameter of the URL it does not know
        # (sslmode=require, as psql writes it, is ssl=require for asyncpg).
        name = str(exc).rsplit(" ", 1)[-1]
        return ConfigurationError(
            f"DATABASE_URL has the parameter {name}, which the asyncpg driver does not "
            f"accept ({shown}); remove it (write ?ssl=require instead of "
            "?sslmode=require)"
        )
    return None


def _sqlite_error(
    exc: BaseException, path: str, shown: str
) -> AgentOrchestratorError | None:
    from sqlalchemy.exc import DBAPIError

    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(orig, sqlite3.DatabaseError):
        return None
    reason = _first_line(orig)
    if "unable to open database file" in reason:
        if Path(path).is_dir():
            return DatabaseUnavailable(
                f"{path} is a folder, not a SQLite file: correct DATABASE_URL ({shown})"
            )
        return DatabaseUnavailable(
            f"cannot open the SQLite file {path}: its folder does not exist or is not "
            f"writable; create the folder or correct DATABASE_URL ({shown})"
        )
    if "file is not a database" in reason:
        return DatabaseUnavailable(
            f"{path} is not a SQLite database: correct DATABASE_URL ({shown}) or move "
            "the file away"
        )
    if "no such table" in reason:
        return _missing_table(reason, shown)
    return None


def _missing_table(reason: str, shown: str) -> SchemaMismatch:
    try:
        head = head_revision()
    except ConfigurationError:
        head = "head"
    return SchemaMismatch(
        f"the database {shown} lacks a table ({reason}): its schema was not created; "
        f"run `{MIGRATE_COMMAND}`",
        current=None,
        head=head,
    )


def _unusable(exc: Exception, database_url: str) -> AgentOrchestratorError:
    """`translate_error`, or a one-line `DatabaseUnavailable` for anything else met
    while connecting."""
    ours = translate_error(exc, database_url)
    if ours is not None:
        return ours
    return DatabaseUnavailable(
        f"cannot use the database {safe_url(database_url)} ({type(exc).__name__}: "
        f"{_first_line(exc)}): check DATABASE_URL"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
