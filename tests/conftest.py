"""Fixtures shared by the whole suite.

Tests that take `database_url` (or fixtures built on it) run once on SQLite and once on
PostgreSQL. PostgreSQL must be reachable: its absence fails the run, it never skips.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from agent_orchestrator.store.database import Database, create_database
from tests.support.databases import DatabaseFactory

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

pytest_plugins = ["tests.support.ordering"]

DATABASES = ("sqlite", "postgresql")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def database_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.close()


@pytest.fixture(params=DATABASES)
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(
    db_kind: str, database_factory: DatabaseFactory, tmp_path: Path
) -> Iterator[str]:
    """A fresh, migrated database of each kind."""
    if db_kind == "sqlite":
        yield database_factory.sqlite(tmp_path)
        return
    url = database_factory.postgres()
    try:
        yield url
    finally:
        database_factory.drop(url)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    async with create_database(database_url) as db:
        yield db
