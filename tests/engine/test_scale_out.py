"""Runners sharing one store: limits per process, tenants in turn, a per-tenant cap,
draining before a stop, and executions of stopped processes taken at once."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from agent_orchestrator.core.enums import EventType, ExecutionStatus
from agent_orchestrator.core.ids import new_id
from agent_orchestrator.core.protocols import NewExecution
from agent_orchestrator.engine.runner import Runner, worker_name
from agent_orchestrator.service.starting import ExecuteRequest, ExecutionStarter
from tests.engine.conftest import FAST

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence
    from pathlib import Path

    from agent_orchestrator.core.protocols import ExecutionEvent, RunStore
    from agent_orchestrator.engine.settings import EngineSettings

    from .conftest import Engine

pytestmark = pytest.mark.anyio


def waiting(seconds: float, steps: int = 1) -> dict[str, object]:
    return {
        "steps": [
            {
                "id": f"s{i}",
                "agent": "wait_agent",
                "inputs": {"seconds": seconds},
                **({"depends_on": [f"s{i - 1}"]} if i else {}),
            }
            for i in range(steps)
        ]
    }


class Running:
    """A runner of its own on the engine's store, with what it counted."""

    def __init__(self, engine: Engine, settings: EngineSettings) -> None:
        self.store = engine.store
        self.active_at_start: list[int] = []
        self.runner = Runner(engine.store, engine.registry, self, settings)
        self.starter = ExecutionStarter(self.runner, engine.registry, {})

    def publish(self, events: Sequence[ExecutionEvent]) -> None:
        for event in events:
            if event.type is EventType.EXECUTION_STARTED:
                self.active_at_start.append(len(self.runner.active))

    async def start(self, tenant: str, graph: dict[str, object]) -> str:
        record, _ = await self.starter.execute(
            ExecuteRequest(tenant_id=tenant, graph=graph)
        )
        return record.id

    async def all_final(self, ids: list[str], timeout: float = 60) -> None:
        with anyio.fail_after(timeout):
            for execution_id in ids:
                final = await self.runner.wait_finished(execution_id)
                assert final.status is ExecutionStatus.SUCCEEDED, final.error_message


def gated(gate: Path) -> dict[str, object]:
    """One step that waits until `gate` exists."""
    return {
        "steps": [{"id": "g", "agent": "gate_agent", "inputs": {"path": str(gate)}}]
    }


async def spans(
    store: RunStore, ids: list[str]
) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    """When each execution started and ended, by its stored events."""
    found = {}
    for execution_id in ids:
        events = await store.events_after(execution_id)
        started = next(e.at for e in events if e.type is EventType.EXECUTION_STARTED)
        ended = next(e.at for e in events if e.type.is_final)
        found[execution_id] = (started, ended)
    return found


def most_at_once(intervals: list[tuple[dt.datetime, dt.datetime]]) -> int:
    points = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    now = top = 0
    for _, step in points:  # at equal times an end (-1) sorts before a start
        now += step
        top = max(top, now)
    return top


@pytest.fixture
def engine_settings() -> EngineSettings:
    # The fixture's own runner runs what it is given and claims nothing: each test
    # makes the runners it looks at.
    return dataclasses.replace(FAST, resume=False)


def settings(**changes: Any) -> EngineSettings:
    # A long lease: no poll comes before the test ends; claims follow announcements
    # and ending runs alone.
    return dataclasses.replace(FAST, lease_s=60, drain_s=10, **changes)


async def test_a_runner_never_runs_more_than_its_limit(
    engine: Engine, tmp_path: Path
) -> None:
    gate = tmp_path / "open"
    here = Running(engine, settings(max_concurrent_executions=2))
    async with here.runner:
        ids = [await here.start("t1", gated(gate)) for _ in range(7)]
        # Above the limit they wait, stored PENDING and held by nobody.
        with anyio.fail_after(30):
            while len(here.active_at_start) < 2:
                await anyio.sleep(0.01)
        records = [await engine.store.load_execution(i) for i in ids]
        assert [r.status for r in records].count(ExecutionStatus.PENDING) == 5
        assert len(here.runner.active) == 2
        gate.touch()
        await here.all_final(ids)
    assert len(here.active_at_start) == 7
    assert max(here.active_at_start) <= 2, here.active_at_start
    assert most_at_once(list((await spans(engine.store, ids)).values())) == 2


async def test_one_tenants_burst_does_not_keep_another_waiting(
    engine: Engine, tmp_path: Path
) -> None:
    gate = tmp_path / "open"
    held = gated(gate)
    here = Running(engine, settings(max_concurrent_executions=2))
    async with here.runner:
        # Two of the burst run (room for two) and wait at the gate; the rest queue.
        burst = [await here.start("busy", held) for _ in range(20)]
        single = await here.start("quiet", waiting(0))
        gate.touch()
        await here.all_final([*burst, single])
    order = sorted(
        (started, execution_id)
        for execution_id, (started, _) in (
            await spans(engine.store, [*burst, single])
        ).items()
    )
    position = [execution_id for _, execution_id in order].index(single)
    # When the two places free, the burst's next and the single one have equal turns
    # (none running, first in their queues): it takes one of those two places, not
    # the place after the whole burst.
    assert position in (2, 3), position


@pytest.mark.parametrize("cap", [1, 2])
async def test_a_tenant_cap_holds_across_the_runners_room(
    engine: Engine, cap: int, tmp_path: Path
) -> None:
    gate = tmp_path / "open"
    here = Running(
        engine, settings(max_concurrent_executions=10, tenant_max_concurrent=cap)
    )
    ids: dict[str, list[str]] = defaultdict(list)
    async with here.runner:
        for tenant in ("a", "a", "a", "a", "b", "b", "b"):
            ids[tenant].append(await here.start(tenant, gated(gate)))
        # Each tenant's first `cap` run and wait at the gate, side by side.
        with anyio.fail_after(30):
            while len(here.active_at_start) < 2 * cap:
                await anyio.sleep(0.01)
        gate.touch()
        await here.all_final([i for found in ids.values() for i in found])
    together = {
        tenant: most_at_once(list((await spans(engine.store, found)).values()))
        for tenant, found in ids.items()
    }
    # Each tenant up to its cap, and the two tenants side by side.
    assert together == {"a": cap, "b": cap}, together
    everyone = [i for found in ids.values() for i in found]
    assert most_at_once(list((await spans(engine.store, everyone)).values())) == 2 * cap


async def test_a_draining_runner_hands_its_executions_back_between_steps(
    engine: Engine,
) -> None:
    stopping = Running(engine, settings(max_concurrent_executions=10))
    async with stopping.runner:
        ids = [await stopping.start("t1", waiting(0.3, steps=3)) for _ in range(3)]
        # Each has its first step under way.
        with anyio.fail_after(30):
            for execution_id in ids:
                while not any(
                    e.type is EventType.STEP_STARTED
                    for e in await engine.store.events_after(execution_id)
                ):
                    await anyio.sleep(0.01)
        handed = await stopping.runner.drain()
        assert sorted(handed) == sorted(ids)
        assert stopping.runner.active == []
    for execution_id in ids:
        record = await engine.store.load_execution(execution_id)
        assert record.status is ExecutionStatus.RUNNING
        # The attempt under way ended and was stored; nothing after it started.
        assert [s.status.value for s in record.steps] == [
            "SUCCEEDED",
            "PENDING",
            "PENDING",
        ]
    other = Running(engine, settings())
    async with other.runner:
        await other.all_final(ids)
    for execution_id in ids:
        events = await engine.store.events_after(execution_id)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        started = [e.step_id for e in events if e.type is EventType.STEP_STARTED]
        assert started == ["s0", "s1", "s2"], started


async def test_leases_of_a_process_that_is_gone_are_taken_at_once(
    engine: Engine,
) -> None:
    # A process of this host that held a lease for ten more minutes, then died.
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        check=True,
        text=True,
    )
    host = worker_name().split(":")[0]
    dead = f"{host}:{child.stdout.strip()}:deadbeef"
    alive = f"{host}:1:cafebabe"  # pid 1 runs as long as the machine does
    taken: dict[str, str] = {}
    for owner in (dead, alive):
        record, _ = await engine.store.create_execution(
            NewExecution(
                id=new_id(),
                tenant_id="t1",
                graph=waiting(0),
                variables={},
                steps=(("s0", "wait_agent"),),
            ),
            lease_owner=owner,
            lease_s=600,
        )
        taken[owner] = record.id
    here = Running(engine, settings())
    async with here.runner:
        await here.all_final([taken[dead]])
        still = await engine.store.load_execution(taken[alive])
        assert still.status is ExecutionStatus.PENDING
