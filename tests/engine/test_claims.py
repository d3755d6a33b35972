"""A runner's claim loop meets the executions the same runner has just started.

New executions are leased to the runner that creates them, and the claim loop (which
takes back executions of dead workers) also returns leases the runner already holds.
An execution that ends while the loop reads it must not be started a second time from
what the loop read: its steps would run again and its error would be rewritten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import pytest

from agent_orchestrator.core.enums import EventType, ExecutionStatus
from agent_orchestrator.engine.bus import EventBus
from agent_orchestrator.engine.runner import Runner
from agent_orchestrator.engine.settings import EngineSettings
from agent_orchestrator.service.starting import ExecuteRequest, ExecutionStarter

if TYPE_CHECKING:
    import logging

    from .conftest import Engine

pytestmark = pytest.mark.anyio

ROUNDS = 40


@pytest.fixture
def engine_settings() -> EngineSettings:
    # A short lease makes the claim loop look every 50 ms, so it keeps meeting
    # executions that are starting or just ending.
    return EngineSettings(
        max_retries=0,
        timeout_ms=5_000,
        retry_initial_ms=10,
        retry_max_ms=100,
        lease_s=0.15,
        resume=True,
    )


async def lease_rounds(runner: Runner, rounds: int) -> None:
    """Return once the runner has finished `rounds` more rounds of lease upkeep."""
    target = runner.statistics().lease_rounds + rounds
    while runner.statistics().lease_rounds < target:
        await anyio.sleep(0.01)


FAILING = {
    "steps": [
        {
            "id": "x",
            "agent": "flaky_agent",
            "inputs": {"fail_times": 5, "retryable": False, "message": "bad file"},
        },
        {
            "id": "after",
            "agent": "wait_agent",
            "inputs": {"seconds": 0},
            "depends_on": ["x"],
        },
    ]
}


async def test_fast_executions_run_once_while_the_claim_loop_looks(
    engine: Engine,
) -> None:
    async def one(index: int) -> None:
        record, _ = await engine.service.execute(
            ExecuteRequest(tenant_id="t1", graph=FAILING)
        )
        with anyio.fail_after(30):
            final = await engine.runner.wait_finished(record.id)
            # Let the claim loop have two full looks at the finished execution.
            await lease_rounds(engine.runner, 2)
        final = await engine.store.load_execution(record.id)
        assert final.status is ExecutionStatus.FAILED, index
        assert final.error_message is not None
        assert final.error_message.count("failed") == 1, final.error_message
        events = await engine.store.events_after(record.id)
        started = [e for e in events if e.type is EventType.STEP_STARTED]
        assert len(started) == 1, f"round {index}: step started {len(started)} times"
        finals = [e for e in events if e.type.is_final]
        assert len(finals) == 1, f"round {index}: {len(finals)} final events"
        assert [e.seq for e in events] == list(range(1, len(events) + 1))

    async with anyio.create_task_group() as tg:
        for index in range(ROUNDS):
            tg.start_soon(one, index)
            await anyio.sleep(0.01)
    assert engine.runner.active == []


FAN_OUT = {
    "steps": [
        {"id": "start", "agent": "wait_agent", "inputs": {"seconds": 0}},
        *(
            {
                "id": f"p{i}",
                "agent": "wait_agent",
                "inputs": {"seconds": 0},
                "depends_on": ["start"],
            }
            for i in range(100)
        ),
    ]
}


async def test_an_execution_submitted_as_its_runner_starts_runs_once(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    # A runner's first claim runs as it starts, while the first execution is being
    # created: the claim may start that execution and even finish it before the
    # creating call returns, which must then not start it a second time.
    caplog.set_level("WARNING", logger="agent_orchestrator.engine")
    settings = EngineSettings(max_retries=0, timeout_ms=5_000, lease_s=5, resume=True)
    for _ in range(ROUNDS // 2):
        async with Runner(
            engine.store, engine.registry, EventBus(), settings
        ) as runner:
            service = ExecutionStarter(runner, engine.registry, {})
            record, _ = await service.execute(
                ExecuteRequest(tenant_id="t1", graph=FAN_OUT)
            )
            with anyio.fail_after(30):
                final = await runner.wait_finished(record.id)
        assert final.status is ExecutionStatus.SUCCEEDED, final.error_message
        events = await engine.store.events_after(record.id)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        started = [e for e in events if e.type is EventType.EXECUTION_STARTED]
        assert len(started) == 1
    problems: list[logging.LogRecord] = [
        r
        for r in caplog.records
        if r.levelname in ("WARNING", "ERROR") and not _upkeep_overran(r)
    ]
    assert not problems, [r.getMessage() for r in problems]


def _upkeep_overran(record: logging.LogRecord) -> bool:
    """A round of lease upkeep that ran over its deadline (the lease period) on an
    overloaded machine: the runner says so and tries again, which is right, and is not
    the race this test looks for (a second start, a lost lease, a stopped run)."""
    error = record.exc_info[1] if record.exc_info else None
    return record.getMessage().startswith("lease upkeep failed") and isinstance(
        error, TimeoutError
    )
