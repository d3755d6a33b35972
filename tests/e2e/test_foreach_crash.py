"""A server process killed with SIGKILL in the middle of a for-each over a
sub-workflow resumes on restart with the elements that had not finished: no finished
element runs again, and the items come back complete and in order."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import pytest

from agent_orchestrator.core.enums import EventType, ExecutionStatus, StepStatus
from agent_orchestrator.core.ids import new_id
from agent_orchestrator.core.protocols import NewExecution
from agent_orchestrator.store.database import create_database
from agent_orchestrator.store.runs import SqlRunStore
from tests.support.server import ServerProcess

from .test_crash_resume import wait_for

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ELEMENTS = 100


def graph(marks: Path) -> dict[str, object]:
    element = {
        "variables": {
            "path": {"type": "string", "required": True},
            "seconds": {"type": "number", "required": True},
        },
        "steps": [
            {
                "id": "touch",
                "agent": "touch_agent",
                "inputs": {"path": "${vars.path}", "seconds": "${vars.seconds}"},
            }
        ],
        "outputs": {"value": "${steps.touch.value}"},
    }
    return {
        "steps": [
            {
                "id": "src",
                "agent": "echo_agent",
                "inputs": {"value": [0.05] * ELEMENTS},
            },
            {
                "id": "each",
                "for_each": "${steps.src.value}",
                "max_concurrency": 4,
                "workflow": {"graph": element},
                "inputs": {"path": str(marks), "seconds": "${item}"},
            },
        ],
        "outputs": {"values": "${steps.each.items}"},
    }


async def test_killed_mid_for_each_resumes_with_the_other_elements(
    database_url: str, tmp_path: Path
) -> None:
    marks = tmp_path / "runs.txt"
    marks.touch()
    execution_id = new_id()
    env = {
        "DATABASE_URL": database_url,
        "AGENT_LEASE_SECONDS": "1",
        "AGENT_FILES_DIR": str(tmp_path / "files"),
    }
    async with create_database(database_url) as db:
        store = SqlRunStore(db)
        await store.create_execution(
            NewExecution(
                id=execution_id,
                tenant_id="t1",
                graph=graph(marks),
                variables={},
                steps=[("src", "echo_agent"), ("each", "")],
            )
        )

        async def some_done() -> bool:
            record = await store.load_execution(execution_id)
            done = [
                s
                for s in record.steps
                if s.step_id.endswith(".touch") and s.status is StepStatus.SUCCEEDED
            ]
            return len(done) >= 37

        first = ServerProcess(env, tmp_path / "first.log").start()
        try:
            await wait_for(some_done, 60, "37 elements to finish in the first process")
        finally:
            first.kill()
        crashed = await store.load_execution(execution_id)
        assert crashed.status is ExecutionStatus.RUNNING
        done_before = {
            s.step_id
            for s in crashed.steps
            if s.step_id.endswith(".touch") and s.status is StepStatus.SUCCEEDED
        }
        assert 37 <= len(done_before) < ELEMENTS
        # Every element was stored when the for-each started, PENDING if not begun.
        element_rows = [s for s in crashed.steps if s.step_id.startswith("each[")]
        assert len([s for s in element_rows if "." not in s.step_id]) == ELEMENTS

        async def finished() -> bool:
            return (await store.load_execution(execution_id)).status.is_final

        with ServerProcess(env, tmp_path / "second.log") as second:
            await wait_for(finished, 120, "the execution to finish after restart")
            assert "resuming execution" in second.log()

        final = await store.load_execution(execution_id)
        events = await store.events_after(execution_id)

    assert final.status is ExecutionStatus.SUCCEEDED, final.error_message
    assert final.result is not None
    assert final.result["values"] == [
        {"value": f"each[{i}].touch-done"} for i in range(ELEMENTS)
    ]
    runs = Counter(line.split()[1] for line in marks.read_text().splitlines())
    assert set(runs) == {f"each[{i}].touch" for i in range(ELEMENTS)}
    # Finished elements never ran again; only those cut off by the kill (at most
    # max_concurrency of them) ran twice.
    assert all(runs[step] == 1 for step in done_before)
    twice = {step for step, count in runs.items() if count > 1}
    assert len(twice) <= 4 and not twice & done_before
    assert all(count <= 2 for count in runs.values())
    pids = {line.split()[3] for line in marks.read_text().splitlines()}
    assert len(pids) == 2  # two processes did the work
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    kinds = Counter(e.type for e in events)
    assert kinds[EventType.EXECUTION_STARTED] == 1
    assert kinds[EventType.EXECUTION_SUCCEEDED] == 1
    succeeded = Counter(e.step_id for e in events if e.type is EventType.STEP_SUCCEEDED)
    assert all(count == 1 for count in succeeded.values())
    assert succeeded["each"] == 1 and succeeded["each[99]"] == 1
