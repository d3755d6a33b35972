"""Following one execution's events: stored ones after a point, then live ones, with no
gap and no duplicate, until the final event (DESIGN.md "Engine semantics").

Live events come from the process's bus. Events written by another process arrive as
notifications (PostgreSQL LISTEN/NOTIFY): the hub then reads them from the store once
and publishes them on the local bus for every local follower. A follower that lagged,
saw a gap or heard nothing for a while reads the store itself, so nothing is lost even
if a notification is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from ..core.protocols import ExecutionEvent

if TYPE_CHECKING:
    from anyio.abc import TaskGroup, TaskStatus

    from ..core.protocols import RunStore
    from .bus import EventBus

IDLE_CHECK_S = 5.0


class EventHub:
    """Replay-then-live event streams over a store and a bus."""

    def __init__(
        self, store: RunStore, bus: EventBus, idle_check_s: float = IDLE_CHECK_S
    ):
        self.store = store
        self.bus = bus
        self.idle_check_s = idle_check_s
        self._fetching: set[str] = set()

    async def follow(
        self,
        execution_id: str,
        after_seq: int = 0,
        *,
        heartbeat: Callable[[], Awaitable[None]] | None = None,
        heartbeat_s: float = 30.0,
    ) -> AsyncIterator[ExecutionEvent]:
        """Events with `seq` > `after_seq`, stored then live, ending after the final one.

        The caller must already know the execution exists and is theirs. `heartbeat`,
        if given, is awaited at least every `heartbeat_s` (plus the idle check); an
        exception from it ends the stream (e.g. the caller's key was revoked).
        """
        last = max(after_seq, 0)
        beat = anyio.current_time()
        with self.bus.subscribe(execution_id) as live:
            # Subscribed before reading the store: nothing can fall between the two.
            replayed = await self.store.events_after(execution_id, last)
            for event in replayed:
                yield event
                last = event.seq
                if event.type.is_final:
                    return
            if not replayed and last > 0 and await self.ended_by(execution_id, last):
                return
            while True:
                if heartbeat is not None and anyio.current_time() - beat >= heartbeat_s:
                    await heartbeat()
                    beat = anyio.current_time()
                event = None
                wait = self.idle_check_s
                if heartbeat is not None:
                    wait = min(
                        wait, max(heartbeat_s - (anyio.current_time() - beat), 0.01)
                    )
                with anyio.move_on_after(wait):
                    event = await live.receive.receive()
                if event is not None and event.seq <= last:
                    if event.type.is_final:  # the caller claimed more than there is
                        return
                    continue
                if event is None or live.lagged or event.seq > last + 1:
                    live.lagged = False
                    missed = await self.store.events_after(execution_id, last)
                    if not missed and await self.ended_by(execution_id, last):
                        return
                    for stored in missed:
                        yield stored
                        last = stored.seq
                        if stored.type.is_final:
                            return
                    continue
                yield event
                last = event.seq
                if event.type.is_final:
                    return

    async def ended_by(self, execution_id: str, seq: int) -> bool:
        """Whether the execution's final event is stored with a seq of at most `seq`
        (a caller who claims to hold that much has nothing more to get)."""
        newest = await self.store.last_event(execution_id)
        return newest is not None and newest.type.is_final and newest.seq <= seq

    async def remote_event(self, execution_id: str, seq: int) -> None:
        """Another process stored events of `execution_id` up to `seq`: if anyone here
        follows it, read them once and publish them locally."""
        if not self.bus.has_subscribers(execution_id) or execution_id in self._fetching:
            return
        self._fetching.add(execution_id)
        try:
            after = max(seq - 1000, 0)
            events = await self.store.events_after(execution_id, after)
            self.bus.publish(events)
        finally:
            self._fetching.discard(execution_id)


Deliver = Callable[[ExecutionEvent], Awaitable[None]]


@dataclass(eq=False)
class Listener:
    """One follower attached to a `Broadcast`.

    Attributes:
        last: The last seq delivered to it.
        done: Set when its stream ended (final event, error, or detached).
        error: Why delivery failed, if it did.
    """

    deliver: Deliver
    last: int
    done: anyio.Event = field(default_factory=anyio.Event)
    error: BaseException | None = None


@dataclass(eq=False)
class _Channel:
    execution_id: str
    listeners: list[Listener] = field(default_factory=list)
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    seen: int = 0
    closed: bool = False
    finished: bool = False


class Broadcast:
    """Many followers of one execution served by one task: each event is taken from
    the bus once and handed to every follower in turn, with no task switch, timer or
    queue per follower. Followers join with a replay from the store, under the same
    lock, so that none sees a gap or a duplicate.

    An async context manager: it owns the task group the per-execution tasks run in.
    """

    def __init__(self, hub: EventHub) -> None:
        self.hub = hub
        self._channels: dict[str, _Channel] = {}
        self._tg: TaskGroup | None = None

    async def __aenter__(self) -> Broadcast:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        assert self._tg is not None
        self._tg.cancel_scope.cancel()
        return await self._tg.__aexit__(*exc)

    async def attach(
        self, execution_id: str, after_seq: int, deliver: Deliver
    ) -> Listener:
        """Deliver the stored events after `after_seq`, then the live ones, to
        `deliver`; the listener's `done` is set after the final event."""
        listener = Listener(deliver, max(after_seq, 0))
        while True:
            channel = self._channels.get(execution_id)
            if channel is None or channel.closed:
                channel = _Channel(execution_id)
                self._channels[execution_id] = channel
                assert self._tg is not None, "use the broadcast inside `async with`"
                await self._tg.start(self._run, channel)
            async with channel.lock:
                if channel.closed and not channel.finished:
                    continue  # it ran out of listeners while we waited: start anew
                await self._join(channel, listener)
                return listener

    async def _join(self, channel: _Channel, listener: Listener) -> None:
        """Replay stored events to `listener`, then add it to the channel (under the
        channel's lock)."""
        store = self.hub.store
        stored = await store.events_after(channel.execution_id, listener.last)
        if not stored and listener.last > 0:
            if await self.hub.ended_by(channel.execution_id, listener.last):
                listener.done.set()
                return
        for event in stored:
            if not await self._hand(listener, event):
                return
        if channel.finished:
            listener.done.set()
            return
        if stored and not channel.listeners:
            # Nobody else waits for what the channel has not handed out yet, so it may
            # start after what the store has shown (never after what a client claims).
            channel.seen = max(channel.seen, stored[-1].seq)
        channel.listeners.append(listener)

    def detach(self, execution_id: str, listener: Listener) -> None:
        """Stop delivering to `listener` (its client went away)."""
        channel = self._channels.get(execution_id)
        if channel is not None and listener in channel.listeners:
            channel.listeners.remove(listener)
        listener.done.set()

    async def _hand(self, listener: Listener, event: ExecutionEvent) -> bool:
        """Deliver one event; False once the listener's stream has ended."""
        if event.seq <= listener.last:
            return not listener.done.is_set()
        try:
            await listener.deliver(event)
        except Exception as exc:
            listener.error = exc
            listener.done.set()
            return False
        listener.last = event.seq
        if event.type.is_final:
            listener.done.set()
            return False
        return True

    async def _run(
        self,
        channel: _Channel,
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        store = self.hub.store
        try:
            with self.hub.bus.subscribe(channel.execution_id) as live:
                task_status.started()
                while True:
                    event = None
                    try:
                        event = live.receive.receive_nowait()
                    except anyio.WouldBlock:
                        with anyio.move_on_after(self.hub.idle_check_s):
                            event = await live.receive.receive()
                    async with channel.lock:
                        if event is not None and event.seq <= channel.seen:
                            continue
                        if event is None or live.lagged or event.seq > channel.seen + 1:
                            live.lagged = False
                            batch = await store.events_after(
                                channel.execution_id, channel.seen
                            )
                        else:
                            batch = [event]
                        final = False
                        for item in batch:
                            for listener in list(channel.listeners):
                                if not await self._hand(listener, item):
                                    channel.listeners.remove(listener)
                            channel.seen = item.seq
                            final = final or item.type.is_final
                        if final or not channel.listeners:
                            channel.finished = final
                            channel.closed = True
                            for listener in channel.listeners:
                                listener.done.set()
                            return
        finally:
            channel.closed = True
            if self._channels.get(channel.execution_id) is channel:
                del self._channels[channel.execution_id]
