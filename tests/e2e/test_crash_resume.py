"""A real server process killed with SIGKILL mid-run resumes on restart: finished steps
are not run again and the events stay numbered 1..n without a gap."""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING

import anyio
import pytest

from agent_orchestrator.core.enums import EventType, ExecutionStatus, StepStatus
from agent_orchestrator.core.graph import parse_graph
from agent_orchestrator.core.ids import new_id
from agent_orchestrator.core.protocols import NewExecution
from agent_orchestrator.store.database import create_database
from agent_orchestrator.store.runs import SqlRunStore
from tests.support.server import ServerProcess

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def graph(marks: Path) -> dict[str, object]:
    touch = {"path": str(marks)}
    return {
        "steps": [
            {"id": "a", "agent": "touch_agent", "inputs": touch},
            {"id": "side", "agent": "touch_agent", "inputs": touch},
            {
                "id": "b",
                "agent": "touch_agent",
                "inputs": {**touch, "seconds": 4},
                "depends_on": ["a"],
            },
            {
                "id": "c",
                "agent": "touch_agent",
                "inputs": touch,
                "depends_on": ["b", "side"],
            },
        ],
        "outputs": {"c": "${steps.c.value}"},
    }


async def wait_for(
    predicate: Callable[[], Awaitable[bool]], timeout: float, what: str
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await anyio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_killed_server_resumes_without_rerunning_finished_steps(
    database_url: str, tmp_path: Path
) -> None:
    marks = tmp_path / "runs.txt"
    marks.touch()
    document = graph(marks)
    execution_id = new_id()
    env = {
        "DATABASE_URL": database_url,
        "AGENT_LEASE_SECONDS": "1",
        "AGENT_FILES_DIR": str(tmp_path / "files"),
    }
    async with create_database(database_url) as db:
        store = SqlRunStore(db)
        # Queued without an owner, as an API process with the worker off would leave it.
        await store.create_execution(
            NewExecution(
                id=execution_id,
                tenant_id="t1",
                graph=document,
                variables={},
                steps=[(s.id, s.agent or "") for s in parse_graph(document).steps],
            )
        )

        async def b_running() -> bool:
            record = await store.load_execution(execution_id)
            return {s.step_id: s.status for s in record.steps}[
                "b"
            ] is StepStatus.RUNNING

        first = ServerProcess(env, tmp_path / "first.log").start()
        try:
            await wait_for(b_running, 30, "step b to start in the first process")
        finally:
            first.kill()
        crashed = await store.load_execution(execution_id)
        assert crashed.status is ExecutionStatus.RUNNING
        done_before = {
            s.step_id for s in crashed.steps if s.status is StepStatus.SUCCEEDED
        }
        assert done_before == {"a", "side"}

        async def finished() -> bool:
            return (await store.load_execution(execution_id)).status.is_final

        with ServerProcess(env, tmp_path / "second.log") as second:
            await wait_for(finished, 60, "the execution to finish after restart")
            assert "resuming execution" in second.log()

        final = await store.load_execution(execution_id)
        events = await store.events_after(execution_id)

    assert final.status is ExecutionStatus.SUCCEEDED, final.error_message
    assert final.result == {"c": "c-done"}
    runs = Counter(line.split()[1] for line in marks.read_text().splitlines())
    # Finished steps ran once; b, cut off by the kill, ran again; c ran once.
    assert runs == {"a": 1, "side": 1, "b": 2, "c": 1}
    pids = {line.split()[1]: line.split()[3] for line in marks.read_text().splitlines()}
    assert pids["a"] != pids["c"]  # two different processes did the work
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    kinds = Counter(e.type for e in events)
    assert kinds[EventType.EXECUTION_STARTED] == 1
    assert kinds[EventType.EXECUTION_SUCCEEDED] == 1
    b_starts = [
        e.attempt
        for e in events
        if e.type is EventType.STEP_STARTED and e.step_id == "b"
    ]
    assert b_starts == [1, 2]
    assert {s.step_id: s.attempts for s in final.steps} == {
        "a": 1,
        "side": 1,
        "b": 2,
        "c": 1,
    }
