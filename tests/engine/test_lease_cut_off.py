"""Lease renewals cut off by their deadline in the middle of a statement, on SQLite.

On a loaded machine a renewal can outlast its deadline (the lease's length) and be
cancelled while SQLite runs it. That used to leave the cut off connection open in its
transaction, holding SQLite's write lock: every later batch of the runner waited the
busy timeout and failed, executions never ended, and the event loop could not be
closed. Here every renewal outlasts its deadline (a trigger calls a slow SQL function,
registered by the test only): renewals fail, by design, and executions still end, once.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from sqlalchemy import event, text

from agent_orchestrator.core.enums import EventType, ExecutionStatus
from agent_orchestrator.engine.bus import EventBus
from agent_orchestrator.engine.runner import Runner
from agent_orchestrator.engine.settings import EngineSettings
from agent_orchestrator.service.starting import ExecuteRequest, ExecutionStarter
from agent_orchestrator.store.database import create_database
from agent_orchestrator.store.runs import SqlRunStore
from tests.engine.conftest import make_registry

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.anyio

LEASE_S = 0.15
RENEWAL_S = LEASE_S * 2
GRAPH = {
    "steps": [
        {"id": "a", "agent": "wait_agent", "inputs": {"seconds": RENEWAL_S * 3}},
        {
            "id": "b",
            "agent": "wait_agent",
            "inputs": {"seconds": 0},
            "depends_on": ["a"],
        },
    ]
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # aiosqlite is asyncio-only


def _slow(seconds: float) -> int:
    time.sleep(seconds)  # on the connection's own thread, not the event loop
    return 1


def _add_slow(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.create_function("slow", 1, _slow)


async def test_executions_end_once_while_every_lease_renewal_is_cut_off(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    settings = EngineSettings(max_retries=0, timeout_ms=10_000, lease_s=LEASE_S)
    registry = make_registry()
    url = database_factory.sqlite(tmp_path)
    async with create_database(url) as db:
        event.listen(db.writer.sync_engine, "connect", _add_slow)
        async with db.write() as conn:
            # Renewals (and claims) set a new expiry; a final status clears it.
            await conn.execute(
                text(
                    "create trigger slow_lease after update of lease_expires_at "
                    "on agent_workflow_executions "
                    "when new.lease_expires_at is not null "
                    f"begin select slow({RENEWAL_S}); end"
                )
            )
        store = SqlRunStore(db)
        async with Runner(store, registry, EventBus(), settings) as runner:
            service = ExecutionStarter(runner, registry, {})
            ids = []
            for _ in range(3):
                record, _ = await service.execute(
                    ExecuteRequest(tenant_id="t1", graph=GRAPH)
                )
                ids.append(record.id)
            rounds = runner.statistics().lease_rounds
            with anyio.fail_after(30):
                for execution_id in ids:
                    final = await runner.wait_finished(execution_id)
                    assert final.status is ExecutionStatus.SUCCEEDED, final
            # Renewals ran (and were cut off) while the executions ran.
            assert runner.statistics().lease_rounds > rounds
            assert runner.active == []
        for execution_id in ids:
            events = await store.events_after(execution_id)
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            started = [e for e in events if e.type is EventType.STEP_STARTED]
            assert [e.step_id for e in started] == ["a", "b"]
