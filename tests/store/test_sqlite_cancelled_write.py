"""A SQLite write cancelled in the middle of a statement leaves the writer usable.

A lease renewal is cut off by its deadline under load, so this happens in production.
SQLAlchemy then invalidates the connection; the aiosqlite connection used to be left
open in its transaction, holding SQLite's write lock until the garbage collector found
it: every later write waited the busy timeout and failed (the engine's lease renewals
and batches with it), and a close task waited forever (seen as a test run hanging in
its event loop's teardown).

The engine's group commit writes its batches shielded while it holds the writer, so a
batch that cannot finish must fail after the writer's wait rather than hold it forever.

Cancellation and slowness are made certain with a slow SQL function (and a trigger that
calls it), registered on the writer's connections by the test only.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from sqlalchemy import event, text

from agent_orchestrator.core.protocols import WriteBatch
from agent_orchestrator.store.database import create_database
from agent_orchestrator.store.runs import SqlRunStore
from tests.store.test_batches import event as stored_event
from tests.store.test_batches import started

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.anyio
SLOW_S = 0.3


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # aiosqlite is asyncio-only


def _slow(seconds: float) -> int:
    time.sleep(seconds)  # on the connection's own thread, not the event loop
    return 1


def _add_slow(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.create_function("slow", 1, _slow)


def _others() -> set[asyncio.Task[Any]]:
    current = asyncio.current_task()
    return {t for t in asyncio.all_tasks() if t is not current}


@pytest.mark.parametrize("cut_after_s", [0.0, 0.01, SLOW_S / 2])
async def test_a_write_cut_off_mid_statement_leaves_the_writer_usable(
    database_factory: DatabaseFactory, tmp_path: Path, cut_after_s: float
) -> None:
    url = database_factory.sqlite(tmp_path)
    async with create_database(url) as db:
        event.listen(db.writer.sync_engine, "connect", _add_slow)
        async with db.write() as conn:
            await conn.execute(text("create table t (id integer primary key)"))
        before = _others()

        async def cut_off(value: int) -> None:
            with anyio.move_on_after(cut_after_s) as scope:
                async with db.write() as conn:
                    await conn.execute(text(f"insert into t values ({value})"))
                    await conn.execute(text(f"select slow({SLOW_S})"))
            assert scope.cancelled_caught

        async with anyio.create_task_group() as tg:
            for value in range(1, 4):
                tg.start_soon(cut_off, value)
        # The next writes get the lock at once and SQLite's write lock once the cut
        # off statement has ended (not the busy timeout of 30 s later).
        with anyio.fail_after(10):
            async with db.write() as conn:
                await conn.execute(text("insert into t values (10)"))
            async with db.write() as conn:
                stored = (await conn.execute(text("select id from t"))).scalars()
                assert list(stored) == [10]
        # Nothing is left waiting for a connection that was stopped.
        with anyio.fail_after(10):
            while left := _others() - before:
                await anyio.sleep(0.05)
        assert not left


async def test_a_batch_that_cannot_finish_fails_and_frees_the_writer(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    url = database_factory.sqlite(tmp_path)
    async with create_database(url, writer_wait_s=0.5) as db:
        event.listen(db.writer.sync_engine, "connect", _add_slow)
        store = SqlRunStore(db)
        record = await started(store)
        async with db.write() as conn:
            await conn.execute(
                text(
                    "create trigger stall after insert on agent_execution_events "
                    f"begin select slow({SLOW_S * 10}); end"
                )
            )
        before = _others()
        started_at = time.monotonic()
        with pytest.raises(TimeoutError):
            # Shielded, as the engine's group commit writes it.
            with anyio.CancelScope(shield=True):
                await store.write(WriteBatch(events=[stored_event(record, 1)]))
        assert time.monotonic() - started_at < SLOW_S * 10
        # The batch was interrupted (nothing of it is stored) and the writer is free.
        with anyio.fail_after(SLOW_S * 10 + 10):
            async with db.write() as conn:
                await conn.execute(text("drop trigger stall"))
            await store.write(WriteBatch(events=[stored_event(record, 1)]))
        assert [e.seq for e in await store.events_after(record.id)] == [1]
        with anyio.fail_after(10):
            while left := _others() - before:
                await anyio.sleep(0.05)
        assert not left
