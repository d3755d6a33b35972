"""A freshly migrated SQLite file meets many connections at once on its first use.

Alembic leaves the file in the rollback-journal mode and every connection asks for WAL;
switching needs the file to itself, so connections opening together used to fail with
"database is locked" whatever the busy timeout (seen at a runner's start-up).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import anyio
import pytest
from sqlalchemy import text

from agent_orchestrator.store.database import create_database

if TYPE_CHECKING:
    from pathlib import Path

    from agent_orchestrator.store.database import Database
    from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.anyio
ROUNDS = 30
READERS = 16


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # aiosqlite is asyncio-only


async def _read(db: Database, counted: list[int]) -> None:
    async with db.read() as conn:
        result = await conn.execute(
            text("select count(*) from agent_workflow_executions")
        )
        counted.append(result.scalar_one())


async def _write(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute(text("delete from agent_workflow_executions where id = 'x'"))


async def test_many_first_connections_to_a_fresh_file_all_succeed(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    for _ in range(ROUNDS):
        url = database_factory.sqlite(tmp_path)
        path = url.removeprefix("sqlite+aiosqlite:///")
        with sqlite3.connect(path) as fresh:
            assert fresh.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        counted: list[int] = []
        async with create_database(url) as db:
            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(_write, db)
                    for _ in range(READERS):
                        tg.start_soon(_read, db, counted)
        assert counted == [0] * READERS
        with sqlite3.connect(path) as after:
            assert after.execute("PRAGMA journal_mode").fetchone() == ("wal",)
