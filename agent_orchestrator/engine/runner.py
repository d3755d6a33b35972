"""The runner: owns the task group every execution of this process runs in.

It leases executions so that several processes can share one PostgreSQL database:

* A new execution is leased to the runner that creates it when that runner runs
  workflows and has room; otherwise it is stored PENDING without an owner and announced
  (``NOTIFY``), and a runner with room claims it at once (polling is the fallback).
* Claims take tenants in turn (`RunStore.claim`), never more than
  `EngineSettings.max_concurrent_executions` here, nor more than the per-tenant cap.
* A lease is renewed while the execution runs. On shutdown the runner drains: it starts
  no more steps, lets the attempts under way end (until `EngineSettings.drain_s`), then
  hands the executions back, announced, so another process continues at once.
* When a process dies its leases run out and another runner claims the executions and
  resumes them from their stored state; leases of a process of this host that is gone
  (its pid no longer runs) are taken at once, so a restarted process does not wait out
  the leases it held itself.
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
        RunTracer,
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
    """A lease owner name that says which process holds an execution:
    ``<host>:<pid>:<random>``."""
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()[:8]}"


#: Owner names of the runners open in this process (a process may open several).
_OPEN_HERE: set[str] = set()


def gone(owner: str) -> bool:
    """Whether `owner` (a `worker_name` of this host) names a process that no longer
    runs: its pid is not alive (or a zombie), or it is this process's pid under a name
    no runner here has (an earlier process, e.g. a container restarted with the same
    pid)."""
    _, _, rest = owner.rpartition(":")
    pid_text = owner[: -len(rest) - 1].rpartition(":")[2]
    if owner in _OPEN_HERE or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


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
        tracer: RunTracer | None = None,
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
        self._wake = anyio.Event()
        self._claiming = anyio.Lock()
        # Whether executions may be waiting for room (the last claim filled it, or
        # work was announced while there was none): a run that ends then claims.
        self._more_waiting = False
        self._draining = False
        self._host_prefix = f"{socket.gethostname()}:"
        #: Spans of the executions and attempts run here (None: traces are off).
        self.tracer = tracer

    # --- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> Runner:
        _OPEN_HERE.add(self.owner)
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self._lease_loop)
        if self.settings.resume:
            self._tg.start_soon(self._claim_loop)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._tg is not None
        if exc_type is None:
            with anyio.CancelScope(shield=True):
                await self.drain()
        held = list(self._active)
        self._tg.cancel_scope.cancel()
        try:
            return await self._tg.__aexit__(exc_type, exc, tb)
        finally:
            self._tg = None
            _OPEN_HERE.discard(self.owner)
            # Hand unfinished executions back at once rather than when the lease ends.
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                try:
                    await self.store.release(self.owner, held)
                except Exception:
                    log.warning("could not release leases on shutdown", exc_info=True)

    async def drain(self, deadline_s: float | None = None) -> list[str]:
        """Stop taking work and hand back what runs here: no step starts any more,
        attempts under way may end until the deadline (`EngineSettings.drain_s`), then
        the rest are cut off; the leases are released and announced.

        Returns:
            The executions handed back unfinished.
        """
        self._draining = True
        async with self._claiming:
            pass  # a claim under way launches what it took first
        deadline = self.settings.drain_s if deadline_s is None else deadline_s
        back: list[str] = []
        seen: set[str] = set()
        # Again while runs appear (one a decision or a start launched meanwhile).
        while runs := [r for r in self._active.values() if r.id not in seen]:
            seen.update(r.id for r in runs)
            for run in runs:
                run.hand_back()
            async with anyio.create_task_group() as tg:
                for run in runs:
                    tg.start_soon(self._hand_back, run, deadline, back)
        if back:
            log.info("handed back %d unfinished executions", len(back))
        return back

    async def _hand_back(
        self, run: ExecutionRun, deadline: float, back: list[str]
    ) -> None:
        """Release one execution as soon as its run has stopped, so another process
        continues it while this one waits for the others."""
        with anyio.move_on_after(deadline):
            await run.finished.wait()
        if not run.finished.is_set():
            log.warning(
                "execution %s: an attempt ran past the %g s drain; it is cut off and "
                "runs again on another worker",
                run.id,
                deadline,
            )
            run.abandon()
            with anyio.move_on_after(5):
                await run.finished.wait()
        if run.final_status is not None or run.parked:
            return
        back.append(run.id)
        with anyio.move_on_after(5):
            try:
                await self.store.release(self.owner, [run.id])
            except Exception:
                log.warning("could not hand back execution %s", run.id, exc_info=True)

    def wake(self) -> None:
        """There may be work to claim (another process announced it): claim now
        rather than at the next poll."""
        self._more_waiting = True
        self._wake.set()

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
        here = self._takes_new()
        record, created = await self.store.create_execution(
            new,
            lease_owner=self.owner if here else None,
            lease_s=self.settings.lease_s,
            audit=audit,
        )
        if created:
            if here:
                self._launch(record)
            else:
                self.wake()
        return record, created

    def _takes_new(self) -> bool:
        """Whether a new execution is leased to this runner as it is stored: only when
        it runs workflows, has room, and nothing may be waiting before it (then the
        claim decides, tenants in turn)."""
        return (
            self._tg is not None
            and not self._draining
            and self.settings.run_submitted
            and self.settings.tenant_max_concurrent is None
            and not (self.settings.resume and self._more_waiting)
            and len(self._active) < self.settings.max_concurrent_executions
        )

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
        if (
            self._draining
            or not self.settings.run_submitted
            or len(self._active) >= self.settings.max_concurrent_executions
        ):
            return False
        claimed = await self.store.claim(
            self.owner,
            self.settings.lease_s,
            execution_ids=[execution_id],
            tenant_cap=self.settings.tenant_max_concurrent,
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
        run = ExecutionRun(
            record, self.catalogue, self.writer, self.settings, tracer=self.tracer
        )
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
            if self._more_waiting and not self._draining:
                self._wake.set()  # room for what waits
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
        """Renew the leases held here; look for executions of processes that are gone;
        claim what waits (the fallback when no announcement came)."""
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
                    if self.settings.resume and not self._draining:
                        await self._claim(await self._gone_owners())
            except Exception:
                log.warning("lease upkeep failed; trying again", exc_info=True)
            finally:
                self._lease_rounds += 1
                self._claimed_once.set()
            await anyio.sleep(interval)

    async def _claim_loop(self) -> None:
        """Claim as soon as work is announced or room appears."""
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()
            if self._draining:
                continue
            try:
                with (
                    anyio.CancelScope(shield=True),
                    anyio.fail_after(self.settings.lease_s),
                ):
                    await self._claim()
            except Exception:
                log.warning("could not claim announced work", exc_info=True)

    async def _gone_owners(self) -> list[str]:
        """Lease owners of this host whose process no longer runs."""
        owners = await self.store.lease_owners(self._host_prefix)
        found = [o for o in owners if gone(o)]
        if found:
            log.info("taking over the executions of stopped processes %s", found)
        return found

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

    async def _claim(self, gone_owners: list[str] | None = None) -> None:
        async with self._claiming:
            room = self.settings.max_concurrent_executions - len(self._active)
            if room <= 0 or self._tg is None:
                self._more_waiting = True
                return
            claimed = await self.store.claim(
                self.owner,
                self.settings.lease_s,
                limit=room,
                tenant_cap=self.settings.tenant_max_concurrent,
                dead_owners=gone_owners or (),
            )
            # Room filled: more may wait. A per-tenant cap may hold work back that
            # any ending run (anywhere) frees, so keep looking then too.
            self._more_waiting = (
                len(claimed) >= room or self.settings.tenant_max_concurrent is not None
            )
            for execution_id in claimed:
                # The claim takes no live lease of this runner's own (see
                # `RunStore.claim`); one that ran out while its run is still here is
                # kept.
                if execution_id in self._active:
                    continue
                record = await self.store.load_execution(execution_id)
                if record.last_seq or record.started_at:
                    log.info("resuming execution %s", execution_id)
                self._launch(record)
