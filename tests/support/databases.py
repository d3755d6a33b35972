"""Fresh, migrated databases for tests: SQLite files and PostgreSQL databases.

The schema is migrated once per session into a template (a file / a template database);
each test gets its own copy, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import uuid
from typing import TYPE_CHECKING

import psycopg
from sqlalchemy.engine import make_url

from agent_orchestrator.store.migrate import upgrade

if TYPE_CHECKING:
    from pathlib import Path

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _admin_conninfo(database: str = "postgres") -> str:
    url = make_url(ADMIN_URL).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


def postgres_url(database: str) -> str:
    """A URL of `database` on the test server (asyncpg driver)."""
    return (
        make_url(ADMIN_URL)
        .set(drivername="postgresql+asyncpg", database=database)
        .render_as_string(hide_password=False)
    )


def check_postgres() -> None:
    """Fail loudly (never skip) when the test PostgreSQL is not reachable."""
    try:
        with psycopg.connect(_admin_conninfo(), connect_timeout=5) as conn:
            conn.execute("select 1")
    except psycopg.OperationalError as exc:
        raise RuntimeError(
            f"PostgreSQL for the tests is not reachable at {ADMIN_URL} ({exc}). Run "
            "`make test` (it starts the local cluster) or set TEST_POSTGRES_URL."
        ) from exc


def _admin(sql: str) -> None:
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(sql)


class DatabaseFactory:
    """Makes migrated databases of either kind from per-session templates."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.sqlite_template = workdir / "template.sqlite"
        self.pg_template = f"ao_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self._made: list[str] = []
        self._sqlite_ready = False
        self._pg_ready = False

    def sqlite(self, target_dir: Path) -> str:
        """A fresh migrated SQLite database in `target_dir`."""
        if not self._sqlite_ready:
            upgrade(f"sqlite:///{self.sqlite_template}")
            self._sqlite_ready = True
        path = target_dir / f"db-{uuid.uuid4().hex[:8]}.sqlite"
        shutil.copyfile(self.sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"

    def postgres(self) -> str:
        """A fresh migrated PostgreSQL database."""
        if not self._pg_ready:
            check_postgres()
            _admin(f'drop database if exists "{self.pg_template}"')
            _admin(f'create database "{self.pg_template}"')
            upgrade(postgres_url(self.pg_template))
            self._pg_ready = True
        name = f"ao_t_{uuid.uuid4().hex[:12]}"
        _admin(f'create database "{name}" template "{self.pg_template}"')
        self._made.append(name)
        return postgres_url(name)

    def new(self, kind: str, sqlite_dir: Path) -> str:
        """A fresh migrated database of `kind` (``sqlite``: a file in `sqlite_dir`;
        ``postgresql``)."""
        if kind == "sqlite":
            return self.sqlite(sqlite_dir)
        if kind == "postgresql":
            return self.postgres()
        raise ValueError(f"unknown database kind {kind!r}")

    def drop(self, url: str) -> None:
        """Drop a database made by `postgres` (SQLite files go with tmp_path)."""
        name = make_url(url).database
        if name in self._made:
            _admin(f'drop database if exists "{name}" with (force)')
            self._made.remove(name)

    def close(self) -> None:
        """Drop everything this factory made."""
        for name in list(self._made):
            _admin(f'drop database if exists "{name}" with (force)')
        if self._pg_ready:
            _admin(f'drop database if exists "{self.pg_template}" with (force)')
