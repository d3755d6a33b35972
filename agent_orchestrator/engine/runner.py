"""The runner: owns the task group every execution of this process runs in.

It leases executions so that several workers can share one PostgreSQL database: new
executions are leased to the runner that creates them; a lease is renewed while the
execution runs; when a process dies its leases run out and another runner (or the same
one restarted) claims the executions and resumes them from their stored state.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from ..core.errors import NotFound
from ..core.ids import new_id
from .run import ExecutionRun
from .writer import BatchWriter

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from anyio.abc import TaskGroup

    from ..core.protocols import (
        AgentCatalogue,
        EventSink,
        ExecutionRecord,
        NewExecution,
        RunStore,
    )
    from ..core.records import AuditEntry
    from .settings import EngineSettings

log = logging.getLogger("agent_orchestrator.engine")
_POLL_S = 0.1


@dataclass(frozen=True, slots=True)
class RunnerStatistics:
    """What a runner has done so far.

    Attributes:
        active: Executions it drives now.
        lease_rounds: Rounds of lease upkeep (renewal, then claims) it has finished.
        transactions: Transactions its batch writer committed.
    """

    active: int
    lease_rounds: int
    transactions: int


def worker_name() -> str:
    """A lease owner name that says which process holds an execution."""
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()[:8]}"


class Runner:
    """Runs executions in one task group; an async context manager.

    Example::

        async with Runner(store, registry, bus, EngineSettings()) as runner:
            record, _ = await runner.submit(new_execution)
            final = await runner.wait_finished(record.id)
    """

    def __init__(
        self,
        store: RunStore,
        catalogue: AgentCatalogue,
        sink: EventSink,
        settings: EngineSettings,
        *,
        owner: str | None = None,
        on_finished: Callable[[ExecutionRun], None] | None = None,
    ) -> None:
        self.store = store
        self.catalogue = catalogue
        self.settings = settings
        self.owner = owner or worker_name()
        self.writer = BatchWriter(store, sink)
        self._active: dict[str, ExecutionRun] = {}
        self._tg: TaskGroup | None = None
        self._on_finished = on_finished
        self._claimed_once = anyio.Event()
        self._lease_rounds = 0

    # --- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> Runner:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self._lease_loop)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._tg is not None
        held = list(self._active)
        self._tg.cancel_scope.cancel()
        try:
            return await self._tg.__aexit__(exc_type, exc, tb)
        finally:
            self._tg = None
            # Hand unfinished executions back at once rather than when the lease ends.
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                try:
                    await self.store.release(self.owner, held)
                except Exception:
                    log.warning("could not release leases on shutdown", exc_info=True)

    # --- what callers use ------------------------------------------------------------

    @property
    def active(self) -> list[str]:
        """Ids of the executions this runner drives now."""
        return list(self._active)

    def statistics(self) -> RunnerStatistics:
        """Counts of what the runner has done, for monitoring and tests."""
        return RunnerStatistics(
            active=len(self._active),
            lease_rounds=self._lease_rounds,
            transactions=self.writer.transactions,
        )

    async def wait_claimed_once(self) -> None:
        """Wait until the first look for unfinished executions is over (start-up)."""
        await self._claimed_once.wait()

    async def submit(
        self, new: NewExecution, *, audit: AuditEntry | None = None
    ) -> tuple[ExecutionRecord, bool]:
        """Store a new execution leased to this runner and start it.

        Returns:
            The record and True, or an earlier execution with the same idempotency key
            and False (not started again).
        """
        record, created = await self.store.create_execution(
            new, lease_owner=self.owner, lease_s=self.settings.lease_s, audit=audit
        )
        if created:
            self._launch(record)
        return record, created

    def cancel(self, execution_id: str) -> bool:
        """Cancel an execution this runner drives; False if it drives no such one."""
        run = self._active.get(execution_id)
        if run is None:
            return False
        run.request_cancel()
        return True

    async def cancel_execution(
        self, execution_id: str, tenant_id: str, *, audit: AuditEntry | None = None
    ) -> ExecutionRecord:
        """Cancel an execution wherever it runs.

        Here it stops at once; on another worker, at that worker's next lease renewal;
        an execution nobody drives is taken and closed as CANCELLED right away.

        Raises:
            NotFound: No such execution for this tenant.
        """
        record = await self.store.request_cancel(execution_id, tenant_id, audit)
        if record.status.is_final:
            return record
        if not self.cancel(execution_id):
            claimed = await self.store.claim(
                self.owner, self.settings.lease_s, execution_ids=[execution_id]
            )
            if execution_id in claimed and execution_id not in self._active:
                self._launch(await self.store.load_execution(execution_id))
        return record

    async def wait_finished(
        self, execution_id: str, tenant_id: str | None = None
    ) -> ExecutionRecord:
        """Wait until the execution has ended (wherever it runs) and return it."""
        while True:
            run = self._active.get(execution_id)
            if run is not None:
                await run.finished.wait()
            record = await self.store.load_execution(execution_id, tenant_id)
            if record.status.is_final:
                return record
            if run is not None and run.abandoned:
                raise NotFound(f"execution {execution_id} moved to another worker")
            await anyio.sleep(_POLL_S)

    async def take(self, execution_id: str) -> bool:
        """Claim an execution nobody holds and drive it here at once (one a decision
        brought back from ``WAITING_APPROVAL``); False when it is held elsewhere, this
        runner is full or not started (the lease loop of some runner takes it then).
        """
        if self._tg is None or execution_id in self._active:
            return execution_id in self._active
        if len(self._active) >= self.settings.max_concurrent_executions:
            return False
        claimed = await self.store.claim(
            self.owner, self.settings.lease_s, execution_ids=[execution_id]
        )
        if execution_id not in claimed:
            return False
        if execution_id not in self._active and self._tg is not None:
            self._launch(await self.store.load_execution(execution_id))
        return True

    # --- inside ----------------------------------------------------------------------

    def _launch(self, record: ExecutionRecord) -> None:
        if record.id in self._active or record.status.is_final:
            return
        assert self._tg is not None, "use the runner inside `async with`"
        run = ExecutionRun(record, self.catalogue, self.writer, self.settings)
        self._active[record.id] = run
        self._tg.start_soon(self._drive, run, name=f"execution {record.id}")

    async def _drive(self, run: ExecutionRun) -> None:
        try:
            await run.run()
        except Exception:
            # Most likely the database went away. The lease stays ours until it runs
            # out; the lease loop then claims the execution again and resumes it.
            log.exception(
                "execution %s stopped; it resumes from its stored state", run.id
            )
        finally:
            self._active.pop(run.id, None)
            if self._on_finished is not None:
                self._on_finished(run)
        if run.parked:
            # A decision that came while the run was parking found the execution
            # still running and left it to this check.
            try:
                if await self.store.reopen_decided(run.id):
                    await self.take(run.id)
            except Exception:
                log.warning(
                    "could not look for a decision on execution %s; it is picked "
                    "up at the next lease round if one came",
                    run.id,
                    exc_info=True,
                )

    async def _lease_loop(self) -> None:
        interval = max(self.settings.lease_s / 3, 0.05)
        while True:
            try:
                # Shielded: a query cut off by shutdown would leave its connection
                # half-closed; shutdown waits for the query instead.
                with (
                    anyio.CancelScope(shield=True),
                    anyio.fail_after(self.settings.lease_s),
                ):
                    await self._renew()
                    if self.settings.resume:
                        await self._claim()
            except Exception:
                log.warning("lease upkeep failed; trying again", exc_info=True)
            finally:
                self._lease_rounds += 1
                self._claimed_once.set()
            await anyio.sleep(interval)

    async def _renew(self) -> None:
        ids = list(self._active)
        if not ids:
            return
        held = await self.store.renew(self.owner, ids, self.settings.lease_s)
        for execution_id in ids:
            run = self._active.get(execution_id)
            if run is None:
                continue
            if execution_id not in held:
                # A run whose end is being stored gave its lease up with that write.
                if not run.finished.is_set() and run.final_status is None:
                    log.warning("lost the lease of execution %s", execution_id)
                    run.abandon()
            elif held[execution_id] and not run.cancel_requested:
                run.request_cancel()

    async def _claim(self) -> None:
        room = self.settings.max_concurrent_executions - len(self._active)
        if room <= 0:
            return
        for execution_id in await self.store.claim(
            self.owner, self.settings.lease_s, limit=room
        ):
            # The claim takes no live lease of this runner's own (see
            # `RunStore.claim`); one that ran out while its run is still here is kept.
            if execution_id in self._active:
                continue
            record = await self.store.load_execution(execution_id)
            if record.last_seq or record.started_at:
                log.info("resuming execution %s", execution_id)
            self._launch(record)
