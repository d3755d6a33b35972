"""Following executions: the stored events after a point, then the live ones, with no
gap and no duplicate, ending after the final event (DESIGN.md "Engine semantics").

However many follow one execution, it has one *feed*: a task that takes the
execution's events from the bus once and hands each to every follower in turn, by
awaiting the follower's `deliver` (no task, timer or queue per follower and event). The
feed reads the store back, once for all its followers, when it sees a gap in the
numbering, when the bus says it dropped events, when another process announces stored
events (`remote_event`, PostgreSQL LISTEN/NOTIFY), and when the execution has been
silent for `recheck_s` while no runner of this process drives it (a notification may
have been lost; the events of an execution run here all pass through the bus, which
flags any loss).

A follower first reads the stored events after its point and delivers them at its own
pace, then joins the feed under the feed's lock, taking what was stored meanwhile, so
nothing falls between its replay and the live events. One that holds up the handing
of an event past `deliver_wait_s` (a client that stopped reading) leaves the feed and
catches up from the store the same way, so it does not hold up the others for long.

    async with EventHub(store, bus) as hub:
        await hub.push(execution_id, 12, deliver)        # returns after the final event
        async with hub.follow(execution_id) as events:   # the same, as a stream
            async for event in events: ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from ..core.protocols import ExecutionEvent

if TYPE_CHECKING:
    from anyio.abc import TaskGroup, TaskStatus
    from anyio.streams.memory import MemoryObjectReceiveStream

    from ..core.protocols import RunStore
    from .bus import EventBus, Subscription

#: Seconds an execution that no runner here drives may be silent before its feed
#: reads the store (a lost notification costs at most this long).
RECHECK_S = 5.0
#: Seconds the handing of one event to all of a feed's followers may take; the
#: follower it then waits on leaves the feed and catches up on its own.
DELIVER_WAIT_S = 0.25

Deliver = Callable[[ExecutionEvent], Awaitable[None]]
Heartbeat = Callable[[], Awaitable[None]]


class HubClosed(Exception):
    """The hub closed (the process is stopping) before the final event."""


@dataclass(frozen=True)
class HubStatistics:
    """What an `EventHub` holds now and has done so far.

    Attributes:
        feeds: Executions followed now.
        followers: Followers in feeds now.
        read_backs: Store reads (replays, catch-ups and gap fills).
    """

    feeds: int
    followers: int
    read_backs: int


class _Follower:
    """One follower: where it is, and why it left its feed, if it did."""

    __slots__ = ("deliver", "ended", "error", "last", "left")

    def __init__(self, deliver: Deliver, after_seq: int) -> None:
        self.deliver = deliver
        #: The last seq it has (or claims to have).
        self.last = after_seq
        self.ended = False
        self.error: BaseException | None = None
        #: Set when it leaves its feed (ended, failed, or too slow for it).
        self.left = anyio.Event()

    async def take(self, event: ExecutionEvent) -> None:
        """Deliver `event` unless it has it (at its own pace: replays)."""
        if event.seq <= self.last:
            self.ended = self.ended or event.type.is_final  # it claimed the end
            return
        await self.deliver(event)
        self.last = event.seq
        self.ended = event.type.is_final


class _Feed:
    """One followed execution: its followers and how far they all are."""

    def __init__(self, execution_id: str) -> None:
        self.execution_id = execution_id
        self.followers: list[_Follower] = []
        self.lock = anyio.Lock()
        self.scope = anyio.CancelScope()
        #: Every follower in the feed has every event up to here.
        self.seen = 0
        self.joining = 0
        self.closed = False
        #: Set once its task is on the bus.
        self.ready = anyio.Event()


class EventHub:
    """Replay-then-live event delivery over a store and a bus (see the module).

    An async context manager: it owns the feeds' tasks.

    Args:
        store: Where events are stored.
        bus: Where this process announces stored events.
        runs_here: Whether a runner of this process drives an execution now (its
            events then all pass through the bus); None: assume none does.
        recheck_s: How long an execution nobody here drives may be silent before its
            feed reads the store.
        deliver_wait_s: How long handing one event to all the followers may take;
            the follower it then waits on leaves the feed and catches up on its own.
    """

    def __init__(
        self,
        store: RunStore,
        bus: EventBus,
        *,
        runs_here: Callable[[str], bool] | None = None,
        recheck_s: float = RECHECK_S,
        deliver_wait_s: float = DELIVER_WAIT_S,
    ) -> None:
        self.store = store
        self.bus = bus
        self.runs_here = runs_here or (lambda _: False)
        self.recheck_s = recheck_s
        self.deliver_wait_s = deliver_wait_s
        self._feeds: dict[str, _Feed] = {}
        self._tg: TaskGroup | None = None
        self._read_backs = 0

    async def __aenter__(self) -> EventHub:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        assert self._tg is not None
        self._tg.cancel_scope.cancel()
        try:
            return await self._tg.__aexit__(*exc)
        finally:
            self._tg = None

    def statistics(self) -> HubStatistics:
        """Feeds, followers and store reads (for metrics and tests)."""
        return HubStatistics(
            feeds=len(self._feeds),
            followers=sum(len(f.followers) for f in self._feeds.values()),
            read_backs=self._read_backs,
        )

    async def push(
        self,
        execution_id: str,
        after_seq: int,
        deliver: Deliver,
        *,
        heartbeat: Heartbeat | None = None,
        heartbeat_s: float = 30.0,
    ) -> None:
        """Deliver the events with `seq` > `after_seq`, stored then live, each once and
        in order; return after the final one.

        The caller must already know the execution exists and is theirs. `deliver`
        must be cancel-safe (cancelled, it has delivered nothing); an exception from it
        ends the delivery and is raised here. `heartbeat`, if given, is awaited every
        `heartbeat_s`; an exception from it ends the delivery the same way (e.g. the
        caller's key was revoked).

        Raises:
            HubClosed: The hub closed first.
            Exception: Whatever `deliver` or `heartbeat` raised.
        """
        follower = _Follower(deliver, max(after_seq, 0))
        beat = anyio.current_time()
        while not follower.ended:
            feed = await self._catch_up(execution_id, follower)
            try:
                while feed is not None and not follower.left.is_set():
                    wait_s = None
                    if heartbeat is not None:
                        if anyio.current_time() - beat >= heartbeat_s:
                            await heartbeat()
                            beat = anyio.current_time()
                        wait_s = beat + heartbeat_s - anyio.current_time()
                    with anyio.move_on_after(wait_s):
                        await follower.left.wait()
            finally:
                if feed is not None:
                    self._leave(feed, follower)
            if follower.error is not None:
                raise follower.error
            # Else it ended, or was too slow for the feed: it catches up again.

    @asynccontextmanager
    async def follow(
        self, execution_id: str, after_seq: int = 0, *, buffer: int = 100
    ) -> AsyncIterator[MemoryObjectReceiveStream[ExecutionEvent]]:
        """`push` as a stream of events that ends after the final one (or when the
        hub closes).

        A reader slower than the events fills its `buffer`, then catches up from the
        store (it never holds up other followers). Leaving the block stops delivery.
        """
        send, receive = anyio.create_memory_object_stream[ExecutionEvent](buffer)

        async def pump() -> None:
            async with send:
                try:
                    await self.push(execution_id, after_seq, send.send)
                except HubClosed:
                    pass  # the stream just ends

        async with anyio.create_task_group() as tg, receive:
            tg.start_soon(pump)
            try:
                yield receive
            finally:
                tg.cancel_scope.cancel()

    async def remote_event(self, execution_id: str, seq: int) -> None:
        """Another process stored events of `execution_id` up to `seq`: if anyone here
        follows it, read them once for all its followers."""
        feed = self._feeds.get(execution_id)
        if feed is None or seq <= feed.seen:
            return
        async with feed.lock:
            if not feed.closed and seq > feed.seen:
                await self._read_back(feed)

    # --- joining and leaving ---------------------------------------------------------

    async def _catch_up(self, execution_id: str, follower: _Follower) -> _Feed | None:
        """Deliver the stored events `follower` lacks, then add it to the feed; None
        when the stored events ended its stream."""
        while True:
            feed = await self._feed(execution_id)
            feed.joining += 1
            try:
                # The backlog, at the follower's own pace; the feed (already on the
                # bus) keeps everything stored from now on.
                self._read_backs += 1
                stored = await self.store.events_after(execution_id, follower.last)
                for event in stored:
                    await follower.take(event)
                    if follower.ended:
                        return None
                async with feed.lock:
                    if feed.closed:
                        continue  # it ended meanwhile: a new one
                    newest = stored[-1].seq if stored else feed.seen
                    if follower.last < feed.seen:
                        # The feed handed out events after the backlog was read. They
                        # are given under the lock, which holds up the feed: a
                        # follower that takes longer than the feed would wait for it
                        # reads them outside the lock instead (round again).
                        self._read_backs += 1
                        missed = await self.store.events_after(
                            execution_id, follower.last
                        )
                        with anyio.move_on_after(self.deliver_wait_s) as bounded:
                            for event in missed:
                                await follower.take(event)
                                if follower.ended:
                                    return None
                        if bounded.cancelled_caught:
                            continue
                        newest = max(newest, follower.last)
                    elif not stored and follower.last > feed.seen:
                        # A claim past what the feed has seen: is it past the end?
                        last = await self.store.last_event(execution_id)
                        if last and last.type.is_final and last.seq <= follower.last:
                            follower.ended = True
                            return None
                        newest = last.seq if last else 0
                    follower.left = anyio.Event()
                    feed.followers.append(follower)
                    # Every follower has every event up to the slowest one's last,
                    # and never past what is stored (a follower may claim more).
                    slowest = min(f.last for f in feed.followers)
                    feed.seen = max(feed.seen, min(slowest, newest))
                    return feed
            finally:
                feed.joining -= 1
                self._release(feed)

    async def _feed(self, execution_id: str) -> _Feed:
        """The execution's feed, on the bus; started if there was none."""
        feed = self._feeds.get(execution_id)
        if feed is None:
            if self._tg is None:
                raise HubClosed("the event hub is not open (use it in `async with`)")
            feed = self._feeds[execution_id] = _Feed(execution_id)
            try:
                await self._tg.start(self._run, feed)
            except BaseException:
                self._close(feed)  # whoever waits for it starts another
                raise
            finally:
                feed.ready.set()
        else:
            await feed.ready.wait()
        return feed

    def _leave(self, feed: _Feed, follower: _Follower) -> None:
        if follower in feed.followers:
            feed.followers.remove(follower)
        self._release(feed)

    def _release(self, feed: _Feed) -> None:
        """Close a feed nobody follows or is joining (its task ends at once)."""
        if not (feed.followers or feed.joining or feed.closed):
            self._close(feed)

    def _close(self, feed: _Feed) -> None:
        feed.closed = True
        if self._feeds.get(feed.execution_id) is feed:
            del self._feeds[feed.execution_id]
        feed.scope.cancel()

    # --- the feed's task -------------------------------------------------------------

    async def _run(
        self, feed: _Feed, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Bus events to followers, reading back what is missing."""
        try:
            with feed.scope, self.bus.subscribe(feed.execution_id) as live:
                task_status.started()
                while True:
                    first = await self._next(feed, live)
                    async with feed.lock:
                        if feed.closed:
                            return
                        # With what else is waiting: a follower then takes them in a
                        # row (one wake-up of its client instead of several).
                        events = self._waiting(feed, live, first)
                        if events is None or live.lagged:
                            live.lagged = False
                            await self._read_back(feed)
                        elif events:
                            await self._hand(feed, events)
        finally:
            if not feed.closed:
                self._close(feed)
            for follower in feed.followers:
                follower.error = follower.error or HubClosed(
                    f"stopped following execution {feed.execution_id}"
                )
                follower.left.set()

    async def _next(self, feed: _Feed, live: Subscription) -> ExecutionEvent | None:
        """The next bus event; None when the feed should read the store instead (the
        execution, driven elsewhere, was silent for `recheck_s`)."""
        try:
            return live.receive.receive_nowait()
        except anyio.WouldBlock:
            pass
        while True:
            with anyio.move_on_after(self.recheck_s):
                return await live.receive.receive()
            if not self.runs_here(feed.execution_id):
                return None

    def _waiting(
        self, feed: _Feed, live: Subscription, first: ExecutionEvent | None
    ) -> list[ExecutionEvent] | None:
        """`first` and the bus events already waiting, after `seen`; None when there
        is a gap (or no event: the store must be read)."""
        if first is None:
            return None
        events = [first]
        while True:
            try:
                events.append(live.receive.receive_nowait())
            except anyio.WouldBlock:
                break
        fresh = [e for e in events if e.seq > feed.seen]
        if any(e.seq != feed.seen + n for n, e in enumerate(fresh, 1)):
            return None
        return fresh

    async def _read_back(self, feed: _Feed) -> None:
        """Under the feed's lock: hand out the stored events after `seen`."""
        self._read_backs += 1
        events = await self.store.events_after(feed.execution_id, feed.seen)
        await self._hand(feed, events)

    async def _hand(self, feed: _Feed, events: list[ExecutionEvent]) -> None:
        """Under the feed's lock: give `events` (in order, from `seen` + 1 on) to every
        follower; after the final one the feed closes."""
        events = [e for e in events if e.seq > feed.seen]
        if not events:
            return
        for follower in await self._give(feed.followers, events):
            feed.followers.remove(follower)
            follower.left.set()
        feed.seen = events[-1].seq
        if events[-1].type.is_final:
            self._close(feed)

    async def _give(
        self, followers: list[_Follower], events: list[ExecutionEvent]
    ) -> list[_Follower]:
        """Live events to each follower in turn; those that leave the feed (ended,
        failed, or holding the others up: they catch up on their own)."""
        leaving: list[_Follower] = []
        pending = iter(list(followers))
        current = None
        while True:
            # One deadline for the whole round, not one per follower: moving a timer
            # for each delivery cost more than the delivery (22 µs a message).
            with anyio.move_on_after(self.deliver_wait_s):
                for current in pending:
                    try:
                        for event in events:
                            await current.take(event)
                    except Exception as exc:
                        current.error = exc
                    if current.error is not None or current.ended:
                        leaving.append(current)
                return leaving
            # The round ran out of time while `current` took an event: most likely a
            # client that stopped reading. The rest get a new round.
            assert current is not None
            leaving.append(current)
