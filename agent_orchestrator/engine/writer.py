"""Group commit: concurrent steps' writes go to the database together.

Each caller of `commit` waits until its batch is durable; meanwhile the writer gathers
whatever else arrived and writes it all in one transaction, then publishes the events.
A failed merged write is retried batch by batch so that one bad batch fails alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import anyio

from ..core.protocols import EventSink, RunStore, WriteBatch

log = logging.getLogger("agent_orchestrator.engine")


@dataclass(slots=True)
class _Pending:
    batch: WriteBatch
    # Shared by the batches written together: one event per transaction, not per step.
    done: anyio.Event
    error: BaseException | None = None


class BatchWriter:
    """Writes batches through a `RunStore`, merging concurrent ones, then publishes.

    Group commit with a leader: the first caller to find the writer idle writes its own
    batch and then everything that queued up meanwhile; later callers wait for it. No
    extra task, so a lone batch (a chain) costs no task switch.
    """

    def __init__(self, store: RunStore, sink: EventSink) -> None:
        self._store = store
        self._sink = sink
        self._queue: list[_Pending] = []
        self._writing = False
        self.transactions = 0

    async def commit(self, batch: WriteBatch) -> None:
        """Return once `batch` is stored (after every batch committed before it).

        Raises:
            Exception: Whatever the store raised for this batch.
        """
        if not batch:
            return
        done = self._queue[0].done if self._queue else anyio.Event()
        pending = _Pending(batch, done)
        self._queue.append(pending)
        if self._writing:
            await done.wait()
        else:
            self._writing = True
            try:
                # Shielded: batches of other callers ride on this write, and a half-done
                # write must not be abandoned.
                with anyio.CancelScope(shield=True):
                    # Let every task that is ready reach its commit first, so that
                    # concurrent steps share this transaction.
                    await anyio.lowlevel.cancel_shielded_checkpoint()
                    while self._queue:
                        taken, self._queue = self._queue, []
                        try:
                            await self._write(taken)
                        finally:
                            taken[0].done.set()
            finally:
                self._writing = False
        if pending.error is not None:
            raise pending.error

    async def _write(self, taken: list[_Pending]) -> None:
        merged = WriteBatch()
        for pending in taken:
            merged.extend(pending.batch)
        try:
            await self._store.write(merged)
            self.transactions += 1
        except Exception as exc:
            if len(taken) == 1:
                taken[0].error = exc
                return
            for pending in taken:
                await self._write([pending])
            return
        try:
            self._sink.publish(merged.events)
        except Exception:
            # The events are stored; subscribers that missed them read them back.
            log.exception("publishing stored events failed")
