"""Replay-then-live delivery (EventHub.follow and Broadcast): followers joining at any
moment, from any point, get every event once and in order, up to the final one."""

from __future__ import annotations

import random

import anyio
import pytest

from agent_orchestrator.core.protocols import ExecutionEvent
from agent_orchestrator.engine.hub import Broadcast, EventHub
from agent_orchestrator.service.starting import ExecuteRequest

from .conftest import Engine

pytestmark = pytest.mark.anyio

GRAPH = {
    "steps": [
        {
            "id": f"w{i}",
            "agent": "wait_agent",
            "inputs": {"seconds": 0.05, "progress_every_s": 0.01},
            **({"depends_on": [f"w{i - 1}"]} if i else {}),
        }
        for i in range(6)
    ]
}


@pytest.mark.parametrize("seed", [7, 11, 23])
async def test_followers_joining_at_random_moments_see_no_gap(engine: Engine, seed: int) -> None:
    hub = EventHub(engine.store, engine.bus, idle_check_s=0.2)
    rng = random.Random(seed)
    record, _ = await engine.service.execute(ExecuteRequest(tenant_id="t", graph=GRAPH))
    got: dict[str, list[int]] = {}

    async with Broadcast(hub) as broadcast, anyio.create_task_group() as tg:

        async def via_broadcast(name: str, after: int) -> None:
            await anyio.sleep(rng.uniform(0, 0.4))
            seen: list[int] = []

            async def deliver(event: ExecutionEvent) -> None:
                seen.append(event.seq)
                if rng.random() < 0.3:
                    await anyio.sleep(0)  # a follower that yields while receiving

            listener = await broadcast.attach(record.id, after, deliver)
            with anyio.fail_after(10):
                await listener.done.wait()
            got[name] = [after, *seen]

        async def via_follow(name: str, after: int) -> None:
            await anyio.sleep(rng.uniform(0, 0.4))
            seen = [event.seq async for event in hub.follow(record.id, after)]
            got[name] = [after, *seen]

        for n in range(12):
            tg.start_soon(via_broadcast, f"b{n}", rng.choice([0, 0, 2, 5, 40, 500]))
            tg.start_soon(via_follow, f"f{n}", rng.choice([0, 3, 500]))

    final = await engine.runner.wait_finished(record.id)
    last = final.last_seq
    assert last > 20
    for name, (after, *seqs) in got.items():
        assert seqs == list(range(after + 1, last + 1)), name


async def test_a_follower_holding_the_final_event_gets_nothing_more(
    engine: Engine,
) -> None:
    hub = EventHub(engine.store, engine.bus, idle_check_s=0.2)
    record, _ = await engine.service.execute(
        ExecuteRequest(
            tenant_id="t", graph={"steps": [{"id": "a", "agent": "echo_agent"}]}
        )
    )
    final = await engine.runner.wait_finished(record.id)
    async with Broadcast(hub) as broadcast:
        seen: list[int] = []

        async def deliver(event: ExecutionEvent) -> None:
            seen.append(event.seq)

        with anyio.fail_after(5):
            listener = await broadcast.attach(record.id, final.last_seq, deliver)
            await listener.done.wait()
            assert [e.seq async for e in hub.follow(record.id, final.last_seq)] == []
        assert seen == []
        with anyio.fail_after(5):
            replay = await broadcast.attach(record.id, 0, deliver)
            await replay.done.wait()
        assert seen == list(range(1, final.last_seq + 1))
