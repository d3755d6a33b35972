"""The engine's batches on SQLite and PostgreSQL: one transaction each, folded per row,
written by the database's own writer connection, announced on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from typing import TYPE_CHECKING, Any, cast

import anyio
import pytest
from sqlalchemy import select

from agent_orchestrator.core.enums import EventType, ExecutionStatus, StepStatus
from agent_orchestrator.core.ids import new_id, utcnow
from agent_orchestrator.core.protocols import (
    ExecutionEvent,
    ExecutionUpdate,
    NewExecution,
    StepUpdate,
    WriteBatch,
)
from agent_orchestrator.store.batches import EVENT_COLUMNS, STEP_COLUMNS
from agent_orchestrator.store.database import create_database
from agent_orchestrator.store.models import ExecutionRow, table_of
from agent_orchestrator.store.notify import listen_for_events
from agent_orchestrator.store.runs import SqlRunStore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from sqlalchemy.pool import QueuePool

    from agent_orchestrator.core.protocols import ExecutionRecord
    from agent_orchestrator.store.database import Database
    from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.anyio
executions = table_of(ExecutionRow)
OWNER = "worker-1"


async def started(store: SqlRunStore, steps: int = 3) -> ExecutionRecord:
    record, _ = await store.create_execution(
        NewExecution(
            id=new_id(),
            tenant_id="t1",
            graph={"steps": [{"id": f"s{i}", "agent": "a"} for i in range(steps)]},
            variables={},
            steps=[(f"s{i}", "a") for i in range(steps)],
        ),
        lease_owner=OWNER,
        lease_s=60,
    )
    return record


def event(record: ExecutionRecord, seq: int, step_id: str | None = None) -> Any:
    return ExecutionEvent(
        execution_id=record.id,
        tenant_id=record.tenant_id,
        seq=seq,
        type=EventType.STEP_STARTED if step_id else EventType.EXECUTION_STARTED,
        at=utcnow(),
        step_id=step_id,
        agent_id="a" if step_id else None,
        attempt=1 if step_id else None,
        data={"n": seq, "text": "ääkköset"},
    )


async def lease_of(database: Database, execution_id: str) -> tuple[Any, Any]:
    async with database.read() as conn:
        row = (
            await conn.execute(
                select(executions.c.lease_owner, executions.c.lease_expires_at).where(
                    executions.c.id == execution_id
                )
            )
        ).one()
    return row.lease_owner, row.lease_expires_at


def test_the_batch_columns_come_from_the_models() -> None:
    assert [c.key for c in STEP_COLUMNS] == [
        "status",
        "attempts",
        "started_at",
        "completed_at",
        "duration_ms",
        "output",
        "error",
    ]
    assert "id" not in [c.key for c in EVENT_COLUMNS]


async def test_a_batch_is_stored_with_its_types(database: Database) -> None:
    store = SqlRunStore(database)
    record = await started(store)
    at = dt.datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=dt.UTC)
    batch = WriteBatch(
        steps=[
            StepUpdate(
                record.id,
                "s0",
                {
                    "status": StepStatus.SUCCEEDED,
                    "attempts": 2,
                    "started_at": at,
                    "completed_at": at + dt.timedelta(seconds=1),
                    "duration_ms": 1000,
                    "output": {"total": "12.50", "rows": [1, 2]},
                    "error": None,
                },
            )
        ],
        executions=[
            ExecutionUpdate(
                record.id, {"status": ExecutionStatus.RUNNING, "started_at": at}
            )
        ],
        events=[event(record, 1), event(record, 2, "s0")],
    )
    await store.write(batch)
    loaded = await store.load_execution(record.id)
    assert loaded.status is ExecutionStatus.RUNNING
    assert loaded.started_at == at
    assert loaded.last_seq == 2
    step = loaded.steps[0]
    assert step.status is StepStatus.SUCCEEDED
    assert (step.attempts, step.duration_ms, step.error) == (2, 1000, None)
    assert step.started_at == at
    assert step.completed_at == at + dt.timedelta(seconds=1)
    assert step.output == {"total": "12.50", "rows": [1, 2]}
    assert [s.status for s in loaded.steps[1:]] == [StepStatus.PENDING] * 2
    stored = await store.events_after(record.id)
    assert [(e.seq, e.type, e.step_id) for e in stored] == [
        (1, EventType.EXECUTION_STARTED, None),
        (2, EventType.STEP_STARTED, "s0"),
    ]
    assert stored[1].data == {"n": 2, "text": "ääkköset"}
    assert stored[1].attempt == 1


async def test_updates_of_one_row_in_a_batch_keep_the_last_values(
    database: Database,
) -> None:
    store = SqlRunStore(database)
    record = await started(store)
    now = utcnow()
    await store.write(
        WriteBatch(
            steps=[
                StepUpdate(
                    record.id,
                    "s1",
                    {"status": StepStatus.RUNNING, "attempts": 1, "started_at": now},
                ),
                StepUpdate(
                    record.id, "s1", {"status": StepStatus.RETRYING, "error": "boom"}
                ),
                StepUpdate(record.id, "s2", {"status": StepStatus.SKIPPED}),
                StepUpdate(
                    record.id,
                    "s1",
                    {"status": StepStatus.RUNNING, "attempts": 2, "error": None},
                ),
            ],
            executions=[
                ExecutionUpdate(record.id, {"status": ExecutionStatus.RUNNING}),
                ExecutionUpdate(record.id, {"error_message": "not yet"}),
            ],
        )
    )
    loaded = await store.load_execution(record.id)
    s0, s1, s2 = loaded.steps
    assert s0.status is StepStatus.PENDING
    assert (s1.status, s1.attempts, s1.error) == (StepStatus.RUNNING, 2, None)
    assert s1.started_at == now  # kept from the first update of the row
    assert s2.status is StepStatus.SKIPPED
    assert (loaded.status, loaded.error_message) == (
        ExecutionStatus.RUNNING,
        "not yet",
    )


async def test_one_failing_row_rolls_the_whole_batch_back(database: Database) -> None:
    store = SqlRunStore(database)
    record = await started(store)
    await store.write(WriteBatch(events=[event(record, 1)]))
    batch = WriteBatch(
        steps=[StepUpdate(record.id, "s0", {"status": StepStatus.RUNNING})],
        executions=[ExecutionUpdate(record.id, {"status": ExecutionStatus.SUCCEEDED})],
        # seq 1 is taken: the insert of this row breaks the unique (execution, seq).
        events=[event(record, 2, "s0"), event(record, 1, "s0")],
    )
    with pytest.raises(Exception, match="(?i)unique"):
        await store.write(batch)
    loaded = await store.load_execution(record.id)
    assert loaded.status is ExecutionStatus.PENDING
    assert loaded.steps[0].status is StepStatus.PENDING
    assert [e.seq for e in await store.events_after(record.id)] == [1]
    assert await lease_of(database, record.id) != (None, None)
    # The writer is usable again at once.
    await store.write(WriteBatch(events=[event(record, 2)]))
    assert (await store.load_execution(record.id)).last_seq == 2


async def test_an_unknown_column_is_refused_before_anything_is_written(
    database: Database,
) -> None:
    store = SqlRunStore(database)
    record = await started(store)
    with pytest.raises(ValueError, match="lease_owner"):
        await store.write(
            WriteBatch(
                steps=[StepUpdate(record.id, "s0", {"status": StepStatus.RUNNING})],
                executions=[ExecutionUpdate(record.id, {"lease_owner": "someone"})],
                events=[event(record, 1)],
            )
        )
    loaded = await store.load_execution(record.id)
    assert (loaded.steps[0].status, loaded.last_seq) == (StepStatus.PENDING, 0)


async def test_a_final_status_ends_the_lease(database: Database) -> None:
    store = SqlRunStore(database)
    running, done = await started(store), await started(store)
    await store.write(
        WriteBatch(
            executions=[
                ExecutionUpdate(running.id, {"status": ExecutionStatus.RUNNING}),
                ExecutionUpdate(done.id, {"status": ExecutionStatus.RUNNING}),
                ExecutionUpdate(done.id, {"status": ExecutionStatus.FAILED}),
            ]
        )
    )
    owner, expires = await lease_of(database, running.id)
    assert owner == OWNER
    assert expires is not None
    assert await lease_of(database, done.id) == (None, None)
    assert await store.claim("worker-2", 60) == [], "a running lease is not taken"


@pytest.fixture
async def postgres_database(
    database_factory: DatabaseFactory,
) -> AsyncIterator[Database]:
    url = database_factory.postgres()
    try:
        async with create_database(url) as db:
            yield db
    finally:
        database_factory.drop(url)


@pytest.fixture
async def sqlite_database(
    database_factory: DatabaseFactory, tmp_path: Path
) -> AsyncIterator[Database]:
    async with create_database(database_factory.sqlite(tmp_path)) as db:
        yield db


async def test_postgresql_announces_stored_events(postgres_database: Database) -> None:
    database = postgres_database
    store = SqlRunStore(database)
    record = await started(store)
    heard = anyio.Event()
    announced: list[tuple[str, int]] = []

    async def on_event(execution_id: str, last_seq: int) -> None:
        announced.append((execution_id, last_seq))
        heard.set()

    async with anyio.create_task_group() as tg:
        await tg.start(listen_for_events, database, on_event)
        await store.write(WriteBatch(events=[event(record, 1), event(record, 2, "s0")]))
        with anyio.fail_after(30):
            await heard.wait()
        tg.cancel_scope.cancel()
    assert announced == [(record.id, 2)]


# --- SQLite: one writer, and nothing blocking the event loop -----------------------


def _open_descriptors(path: str) -> int:
    """How many file descriptors of this process are open on `path`."""
    target = os.path.realpath(path)
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                count += 1
        except OSError:
            continue  # closed while listing
    return count


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
async def test_sqlite_batches_open_no_connection_of_their_own(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    # Every SQLite connection holds the database file open: the file's descriptors
    # must be exactly the connections the two engines' pools hold.
    url = database_factory.sqlite(tmp_path)
    path = url.removeprefix("sqlite+aiosqlite:///")
    async with create_database(url) as db:
        store = SqlRunStore(db)
        for _ in range(3):
            record = await started(store)
            await store.write(WriteBatch(events=[event(record, 1)]))
            await store.write(
                WriteBatch(
                    steps=[StepUpdate(record.id, "s0", {"status": StepStatus.RUNNING})],
                    events=[event(record, 2, "s0")],
                )
            )
            assert (await store.load_execution(record.id)).last_seq == 2
        writer, reader = (
            cast("QueuePool", e.sync_engine.pool) for e in (db.writer, db.reader)
        )
        assert writer.checkedin() + writer.checkedout() == 1
        held = sum(p.checkedin() + p.checkedout() for p in (writer, reader))
        assert _open_descriptors(path) == held
    assert _open_descriptors(path) == 0


async def test_sqlite_writes_wait_for_the_one_writer_connection(
    sqlite_database: Database,
) -> None:
    database = sqlite_database
    store = SqlRunStore(database)
    record = await started(store)
    async with anyio.create_task_group() as tg:
        async with database.write():
            # The writer is lent to this block: a batch queues until the block ends.
            tg.start_soon(store.write, WriteBatch(events=[event(record, 1)]))
            await anyio.wait_all_tasks_blocked()
            assert (await store.load_execution(record.id)).last_seq == 0
    assert (await store.load_execution(record.id)).last_seq == 1


async def test_a_broken_sqlite_writer_connection_is_replaced(
    sqlite_database: Database,
) -> None:
    database = sqlite_database
    store = SqlRunStore(database)
    record = await started(store)
    await store.write(WriteBatch(events=[event(record, 1)]))
    with pytest.raises(Exception):  # noqa: B017 - whichever error the dead link gives
        async with database.write() as conn:
            await conn.invalidate()  # as when the driver reports the link dead
    # The next writes, batches included, get a working connection at once.
    with anyio.fail_after(10):
        await store.write(WriteBatch(events=[event(record, 2)]))
        async with database.write() as conn:
            await conn.execute(
                executions.update()
                .where(executions.c.id == record.id)
                .values(cancel_requested=True)
            )
    loaded = await store.load_execution(record.id)
    assert (loaded.last_seq, loaded.cancel_requested) == (2, True)


async def test_switching_a_locked_file_to_wal_leaves_the_event_loop_free(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    url = database_factory.sqlite(tmp_path)
    path = url.removeprefix("sqlite+aiosqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # the switch to WAL has to wait for this
    try:
        async with anyio.create_task_group() as tg:
            database = create_database(url)
            tg.start_soon(database.open)
            # Returns only once the opening task waits without holding the loop.
            await anyio.wait_all_tasks_blocked()
            holder.execute("COMMIT")
        async with database:
            store = SqlRunStore(database)
            record = await started(store)
            await store.write(WriteBatch(events=[event(record, 1)]))
    finally:
        holder.close()
    with sqlite3.connect(path) as after:
        assert after.execute("PRAGMA journal_mode").fetchone() == ("wal",)
