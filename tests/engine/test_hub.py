"""Replay-then-live delivery (`EventHub`): followers joining at any moment, from any
point, get every event once and in order, up to the final one; one feed serves every
follower of an execution; events stored by another process arrive through
`remote_event` or the silent recheck; a slow follower catches up from the store
without holding up the others; a revoked caller's delivery ends."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from agent_orchestrator.core.errors import Unauthenticated
from agent_orchestrator.engine.bus import EventBus
from agent_orchestrator.engine.hub import EventHub, HubClosed
from agent_orchestrator.service.starting import ExecuteRequest

if TYPE_CHECKING:
    from agent_orchestrator.core.protocols import ExecutionEvent

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
#: The same for a second: a follower that joins as it starts is there while it runs,
#: however busy the machine.
SLOWER = {
    "steps": [
        {**step, "inputs": {"seconds": 0.2, "progress_every_s": 0.01}}
        for step in GRAPH["steps"]
    ]
}
#: Runs until the test cancels it.
HELD = {"steps": [{"id": "hold", "agent": "wait_agent", "inputs": {"seconds": 600}}]}


async def follow_to_end(
    hub: EventHub, execution_id: str, after_seq: int = 0
) -> list[ExecutionEvent]:
    """Every event after `after_seq`, up to the final one."""
    async with hub.follow(execution_id, after_seq) as events:
        return [event async for event in events]


async def start(engine: Engine, graph: dict[str, Any] = GRAPH) -> str:
    record, _ = await engine.service.execute(ExecuteRequest(tenant_id="t", graph=graph))
    return record.id


async def until(condition: Any, timeout: float = 10) -> None:
    """Poll `condition()` until it holds (the hub's state is in memory)."""
    with anyio.fail_after(timeout):
        while not condition():
            await anyio.sleep(0.005)


async def cancel(engine: Engine, execution_id: str) -> int:
    await engine.runner.cancel_execution(execution_id, "t")
    return (await engine.runner.wait_finished(execution_id)).last_seq


@pytest.mark.parametrize("seed", [7, 11, 23])
async def test_followers_joining_at_random_moments_see_no_gap(
    engine: Engine, seed: int
) -> None:
    rng = random.Random(seed)
    execution_id = await start(engine)
    got: dict[str, list[int]] = {}

    async with EventHub(engine.store, engine.bus) as hub:

        async def follower(name: str, after: int) -> None:
            await anyio.sleep(rng.uniform(0, 0.4))
            seen: list[int] = []
            async with hub.follow(execution_id, after) as events:
                async for event in events:
                    seen.append(event.seq)
                    if rng.random() < 0.3:
                        await anyio.sleep(0)  # a follower that yields while reading
            got[name] = [after, *seen]

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for n in range(24):
                    tg.start_soon(follower, f"f{n}", rng.choice([0, 0, 2, 5, 40, 500]))

    last = (await engine.runner.wait_finished(execution_id)).last_seq
    assert last > 20
    for name, (after, *seqs) in got.items():
        assert seqs == list(range(after + 1, last + 1)), name


async def test_one_feed_serves_every_follower_of_an_execution(engine: Engine) -> None:
    execution_id = await start(engine, HELD)
    results: list[list[int]] = []
    async with EventHub(engine.store, engine.bus) as hub:

        async def follower() -> None:
            results.append([e.seq for e in await follow_to_end(hub, execution_id)])

        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(follower)
            await until(lambda: hub.statistics().followers == 50)
            # One feed, one bus subscription, however many follow.
            assert hub.statistics().feeds == 1
            assert engine.bus.subscriber_count == 1
            last = await cancel(engine, execution_id)
        assert hub.statistics().feeds == 0
        await until(lambda: engine.bus.subscriber_count == 0)  # its task has ended
    assert results == [list(range(1, last + 1))] * 50


async def test_a_follower_holding_the_final_event_gets_nothing_more(
    engine: Engine,
) -> None:
    execution_id = await start(engine, {"steps": [{"id": "a", "agent": "echo_agent"}]})
    last = (await engine.runner.wait_finished(execution_id)).last_seq
    async with EventHub(engine.store, engine.bus) as hub:
        with anyio.fail_after(10):
            assert await follow_to_end(hub, execution_id, last) == []
            assert await follow_to_end(hub, execution_id, last + 100) == []
            replay = await follow_to_end(hub, execution_id)
        assert [e.seq for e in replay] == list(range(1, last + 1))
        assert hub.statistics().feeds == 0


async def test_a_reader_a_buffer_behind_catches_up_from_the_store(
    engine: Engine,
) -> None:
    async with EventHub(engine.store, engine.bus, deliver_wait_s=0.01) as hub:
        execution_id = await start(engine, SLOWER)
        async with hub.follow(execution_id, buffer=2) as events:
            with anyio.fail_after(20):
                first = await events.receive()
                joined = hub.statistics().read_backs  # the backlog read on joining
                # It reads nothing while the run (a second of progress events) goes
                # on: its buffer fills.
                last = (await engine.runner.wait_finished(execution_id)).last_seq
                rest = [event async for event in events]
        assert [first.seq, *(e.seq for e in rest)] == list(range(1, last + 1))
        assert hub.statistics().read_backs > joined  # its catch-ups


async def test_a_slow_follower_does_not_hold_up_the_others(engine: Engine) -> None:
    execution_id = await start(engine)
    released = anyio.Event()
    slow: list[int] = []

    async def deliver_slowly(event: ExecutionEvent) -> None:
        await released.wait()  # a client that stopped reading
        slow.append(event.seq)

    async with EventHub(engine.store, engine.bus, deliver_wait_s=0.05) as hub:
        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                tg.start_soon(hub.push, execution_id, 0, deliver_slowly)
                fast = await follow_to_end(hub, execution_id)
                released.set()
    last = (await engine.runner.wait_finished(execution_id)).last_seq
    assert [e.seq for e in fast] == list(range(1, last + 1))
    assert slow == list(range(1, last + 1))


async def test_a_follower_stalling_as_it_joins_does_not_hold_up_the_feed(
    engine: Engine,
) -> None:
    """A follower whose client stops reading just as it joins the feed, on events the
    feed handed out while it replayed the backlog: the others still get every event."""
    execution_id = await start(engine, SLOWER)
    released = anyio.Event()
    fast: list[int] = []
    slow: list[int] = []
    stall_after: list[int] = []  # the last seq stored when it replayed its first

    async def deliver_stalling(event: ExecutionEvent) -> None:
        if not stall_after:
            last = await engine.store.last_event(execution_id)
            assert last is not None and not last.type.is_final
            stall_after.append(last.seq)
            # Its backlog (up to there) goes on only once the feed is past it ...
            await until(lambda: bool(fast) and fast[-1] > stall_after[0])
        elif event.seq > stall_after[0]:
            await released.wait()  # ... and it stops reading at what the feed added
        slow.append(event.seq)

    async def follow_fast() -> None:
        async with hub.follow(execution_id) as events:
            async for event in events:
                fast.append(event.seq)
        released.set()

    async with EventHub(engine.store, engine.bus, deliver_wait_s=0.05) as hub:
        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                tg.start_soon(follow_fast)
                await until(lambda: len(fast) >= 2)
                tg.start_soon(hub.push, execution_id, 0, deliver_stalling)
    last = (await engine.runner.wait_finished(execution_id)).last_seq
    assert fast == list(range(1, last + 1))
    assert slow == list(range(1, last + 1))


async def test_events_stored_elsewhere_arrive_by_notification(engine: Engine) -> None:
    """A hub on another bus sees none of the runner's announcements, as a hub in
    another process would: a notification (`remote_event`) brings the events."""
    elsewhere = EventBus()
    # The execution runs "here" as far as the hub knows: it never rechecks by itself.
    async with EventHub(
        engine.store, elsewhere, runs_here=lambda _: True, recheck_s=0.01
    ) as hub:
        execution_id = await start(engine)
        got: list[ExecutionEvent] = []

        async def follower() -> None:
            got.extend(await follow_to_end(hub, execution_id))

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                tg.start_soon(follower)
                await until(lambda: hub.statistics().followers == 1)
                last = (await engine.runner.wait_finished(execution_id)).last_seq
                # Nothing was read back while the execution ran "here": only the join.
                assert hub.statistics().read_backs == 1
                await hub.remote_event(execution_id, last)
        assert [e.seq for e in got] == list(range(1, last + 1))


async def test_a_silent_execution_run_elsewhere_is_read_back(engine: Engine) -> None:
    """No notification at all (one was lost): the feed reads the store when the
    execution, driven by no runner here, has been silent for `recheck_s`."""
    async with EventHub(engine.store, EventBus(), recheck_s=0.05) as hub:
        execution_id = await start(engine)
        with anyio.fail_after(20):
            events = await follow_to_end(hub, execution_id)
    last = (await engine.runner.wait_finished(execution_id)).last_seq
    assert [e.seq for e in events] == list(range(1, last + 1))


async def test_a_failing_heartbeat_ends_the_delivery(engine: Engine) -> None:
    execution_id = await start(engine, HELD)
    beats = 0
    seen: list[ExecutionEvent] = []

    async def heartbeat() -> None:
        nonlocal beats
        beats += 1
        if beats == 3:
            raise Unauthenticated("this API key was revoked")

    async def deliver(event: ExecutionEvent) -> None:
        seen.append(event)

    async with EventHub(engine.store, engine.bus) as hub:
        with anyio.fail_after(10), pytest.raises(Unauthenticated):
            await hub.push(
                execution_id, 0, deliver, heartbeat=heartbeat, heartbeat_s=0.01
            )
        assert hub.statistics().followers == 0
    await cancel(engine, execution_id)
    assert beats == 3 and not any(e.type.is_final for e in seen)


async def test_closing_the_hub_ends_its_deliveries(engine: Engine) -> None:
    execution_id = await start(engine, HELD)
    streamed: list[ExecutionEvent] = []
    pushed: list[ExecutionEvent] = []
    outcome: list[BaseException] = []

    async def stream(hub: EventHub) -> None:
        async with hub.follow(execution_id) as events:
            async for event in events:
                streamed.append(event)

    async def push(hub: EventHub) -> None:
        async def deliver(event: ExecutionEvent) -> None:
            pushed.append(event)

        try:
            await hub.push(execution_id, 0, deliver)
        except HubClosed as exc:
            outcome.append(exc)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            async with EventHub(engine.store, engine.bus) as hub:
                tg.start_soon(stream, hub)
                tg.start_soon(push, hub)
                await until(lambda: bool(streamed) and bool(pushed))
    await cancel(engine, execution_id)
    assert len(outcome) == 1  # the stream just ended; `push` said why
    assert not any(e.type.is_final for e in [*streamed, *pushed])
