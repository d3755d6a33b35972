"""The in-process event bus: stored events fan out to live subscribers.

Publishing never waits: a subscriber that falls more than its buffer behind is marked
`lagged` and misses events, which it then reads back from the store (events are
numbered, so a gap is visible). Followers of an execution do not subscribe here
themselves: `engine.hub.EventHub` holds one subscription per followed execution.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from typing import TYPE_CHECKING

import anyio

from ..core.protocols import EventSink as EventSinkLike
from ..core.protocols import ExecutionEvent

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

ALL = "*"


class Subscription:
    """A live feed of events for one execution (or all of them).

    Attributes:
        lagged: True once the subscriber missed events because its buffer was full.
    """

    def __init__(self, key: str, buffer: int) -> None:
        self.key = key
        self.lagged = False
        send, receive = anyio.create_memory_object_stream[ExecutionEvent](buffer)
        self._send: MemoryObjectSendStream[ExecutionEvent] = send
        self.receive: MemoryObjectReceiveStream[ExecutionEvent] = receive

    def offer(self, event: ExecutionEvent) -> None:
        """Hand over an event without waiting; mark the subscription lagged if full."""
        try:
            self._send.send_nowait(event)
        except anyio.WouldBlock:
            self.lagged = True
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass

    def close(self) -> None:
        """Stop the feed; the receiver sees the end of the stream."""
        self._send.close()
        self.receive.close()


class EventBus:
    """Fans published events out to subscriptions (implements `core.EventSink`)."""

    def __init__(self, buffer: int = 10_000) -> None:
        self._buffer = buffer
        self._subscriptions: dict[str, set[Subscription]] = defaultdict(set)

    def publish(self, events: Sequence[ExecutionEvent]) -> None:
        """Hand stored events to their execution's subscribers and to global ones."""
        everyone = self._subscriptions.get(ALL)
        for event in events:
            for subscription in self._subscriptions.get(event.execution_id, ()):
                subscription.offer(event)
            if everyone:
                for subscription in everyone:
                    subscription.offer(event)

    @contextmanager
    def subscribe(self, execution_id: str | None = None) -> Iterator[Subscription]:
        """Receive live events of one execution (or of all, with None) in the block."""
        key = execution_id or ALL
        subscription = Subscription(key, self._buffer)
        self._subscriptions[key].add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscriptions.get(key)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscriptions[key]
            subscription.close()

    @property
    def subscriber_count(self) -> int:
        """How many subscriptions are open."""
        return sum(len(s) for s in self._subscriptions.values())


class Fanout:
    """An `EventSink` that hands events to several sinks (the bus, metrics, ...)."""

    def __init__(self, *sinks: EventSinkLike) -> None:
        self.sinks = sinks

    def publish(self, events: Sequence[ExecutionEvent]) -> None:
        """Publish to every sink in order."""
        for sink in self.sinks:
            sink.publish(events)
