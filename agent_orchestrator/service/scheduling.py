"""The scheduler: fires due schedules in every process that runs workflows.

Each slot fires once however many processes look at it. The process that fires a slot
starts its execution with the idempotency key ``schedule:<id>:<slot>`` (a second
process that fires the same slot gets the same execution back, not a new one) and then
moves the schedule on to its next slot with a conditional update (only one process
moves it; only that one writes the audit entry of a slot that could not start). After
downtime only the latest missed slot fires. Between rounds the loop waits until the
earliest next slot, or until a schedule of this process changes (`wake`), and at most
`rescan_s` so that schedules made by other processes are seen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import anyio

from ..core.clocks import SchedulerClock, SystemClock
from ..core.errors import Conflict, NotFound, ValidationFailed
from ..core.records import AuditEntry
from ..core.schedules import ScheduleRecord, SlotOutcome, slot_key
from ..observability.sentry import report_problem
from .cron import cron_table
from .period_variables import resolve_periods
from .starting import ExecuteRequest

if TYPE_CHECKING:
    import datetime as dt

    from anyio.abc import TaskStatus

    from .starting import ExecutionStarter
    from .stores import WorkflowRepository

log = logging.getLogger("agent_orchestrator.schedules")
#: Longest wait between looks at the schedules, for those other processes made.
RESCAN_S = 30.0
#: Wait before trying again a slot that could not be moved on.
RETRY_S = 1.0
#: Slots one process fires at once.
FIRE_CONCURRENCY = 8


class ScheduleSource(Protocol):
    """What the scheduler needs of the schedule store."""

    async def due(self, now: dt.datetime) -> list[ScheduleRecord]:
        """Enabled schedules whose next slot is at or before `now`."""
        ...

    async def next_due_at(self) -> dt.datetime | None:
        """The earliest next slot of any enabled schedule."""
        ...

    async def advance(
        self,
        schedule_id: str,
        expected_next: dt.datetime,
        outcome: SlotOutcome,
        audit: AuditEntry | None = None,
    ) -> bool:
        """Move a schedule on from `expected_next` if no one has (True if moved)."""
        ...


@dataclass(frozen=True, slots=True)
class SchedulerStatistics:
    """What the scheduler of this process has done.

    Attributes:
        rounds: Looks at the due schedules.
        fired: Slots this process moved on with an execution started.
        failed: Slots this process moved on that could not start.
    """

    rounds: int
    fired: int
    failed: int


class Scheduler:
    """Fires due schedules; `run` is its loop (start it in a task group).

    Args:
        schedules: The schedule store.
        starter: Validates and starts executions (the same checks as
            ``executeWorkflow``).
        workflows: Saved workflows a schedule may run.
        clock: The time (`SystemClock` unless a test gives another).
        rescan_s: Longest wait between looks.
        audit_enabled: ``AGENT_AUDIT_ENABLED``.
    """

    def __init__(
        self,
        schedules: ScheduleSource,
        starter: ExecutionStarter,
        workflows: WorkflowRepository,
        *,
        clock: SchedulerClock | None = None,
        rescan_s: float = RESCAN_S,
        audit_enabled: bool = True,
    ) -> None:
        self.schedules = schedules
        self.starter = starter
        self.workflows = workflows
        self.clock: SchedulerClock = clock or SystemClock()
        self.rescan_s = rescan_s
        self.audit_enabled = audit_enabled
        self._wake = anyio.Event()
        self._limit = anyio.CapacityLimiter(FIRE_CONCURRENCY)
        self._rounds = 0
        self._fired = 0
        self._failed = 0

    def wake(self) -> None:
        """Look at the schedules now (one was made, resumed or changed here)."""
        self._wake.set()

    def statistics(self) -> SchedulerStatistics:
        """Counts of what this process's scheduler has done."""
        return SchedulerStatistics(self._rounds, self._fired, self._failed)

    async def run(
        self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Fire due schedules until cancelled, waiting between rounds for the next
        slot or a `wake`."""
        task_status.started()
        while True:
            self._wake = anyio.Event()
            wait = self.rescan_s
            try:
                await self.fire_due()
                upcoming = await self.schedules.next_due_at()
                if upcoming is not None:
                    # A slot still due after a round could not be moved on (its
                    # store write failed): try it again shortly, not in a spin.
                    wait = min(wait, max(self.clock.seconds_until(upcoming), 0.0))
                    if upcoming <= self.clock.now():
                        wait = min(self.rescan_s, RETRY_S)
            except Exception:
                log.warning(
                    "could not look at the schedules; trying again", exc_info=True
                )
            with anyio.move_on_after(wait):
                await self._wake.wait()

    async def fire_due(self) -> int:
        """Fire every schedule due now (its latest missed slot); returns how many
        slots this process moved on."""
        moved = 0
        try:
            while True:
                now = self.clock.now()
                due = await self.schedules.due(now)
                if not due:
                    return moved
                progressed = 0

                async def one(schedule: ScheduleRecord, now: dt.datetime) -> None:
                    nonlocal progressed
                    async with self._limit:
                        try:
                            if await self.fire(schedule, now):
                                progressed += 1
                        except Exception:
                            log.exception("schedule %s could not fire", schedule.id)

                # Many schedules share a slot (08:00 on the 1st): a few at a time.
                async with anyio.create_task_group() as tg:
                    for schedule in due:
                        tg.start_soon(one, schedule, now)
                moved += progressed
                if progressed == 0:
                    # Others moved them, or they keep failing to be stored: look
                    # again on the next round rather than spin.
                    return moved
        finally:
            self._rounds += 1

    async def fire(self, schedule: ScheduleRecord, now: dt.datetime) -> bool:
        """Fire the latest slot of `schedule` at or before `now` and move it on to
        the next one; False if another process moved it first."""
        expected = schedule.next_run_at
        assert expected is not None, "due schedules have a next slot"
        table = cron_table(schedule.cron, schedule.timezone)
        slot = max(table.latest_at_or_before(now), expected)
        outcome_next = table.next_after(max(now, slot))
        reference = slot.astimezone(table.zone).date()
        audit: AuditEntry | None = None
        try:
            record, _ = await self.starter.execute(
                await self._request(schedule, slot, reference)
            )
        except Conflict as exc:
            # The slot's key is taken by another request: the slot fired already
            # (the saved workflow changed between two processes' looks).
            log.info("schedule %s slot %s fired already: %s", schedule.id, slot, exc)
            outcome = SlotOutcome(slot, outcome_next, error=None)
        except (ValidationFailed, NotFound) as exc:
            # What the slot would run does not validate (an agent removed, a saved
            # workflow deleted): the slot fails and the schedule moves on. Anything
            # else (the database away) leaves the slot due, to be tried again.
            problems = (
                [p.as_dict() for p in exc.problems]
                if isinstance(exc, ValidationFailed)
                else []
            )
            outcome = SlotOutcome(slot, outcome_next, error=_describe(exc))
            audit = self._entry(
                schedule,
                slot,
                result="failed",
                details={"reason": _describe(exc), "problems": problems},
            )
        else:
            outcome = SlotOutcome(slot, outcome_next, execution_id=record.id)
        moved = await self.schedules.advance(schedule.id, expected, outcome, audit)
        if not moved:
            return False
        if outcome.error is None:
            self._fired += 1
            log.info(
                "schedule %s fired slot %s: execution %s; next %s",
                schedule.id,
                slot.isoformat(),
                outcome.execution_id,
                outcome_next.isoformat(),
            )
        else:
            self._failed += 1
            log.warning(
                "schedule %s could not fire slot %s: %s; next slot %s",
                schedule.id,
                slot.isoformat(),
                outcome.error,
                outcome_next.isoformat(),
            )
            report_problem(
                f"schedule {schedule.id} could not fire: {outcome.error}",
                tags={"schedule_id": schedule.id, "tenant_id": schedule.tenant_id},
            )
        return True

    async def _request(
        self, schedule: ScheduleRecord, slot: dt.datetime, reference: dt.date
    ) -> ExecuteRequest:
        graph = schedule.graph
        workflow_version = None
        if schedule.workflow_id is not None:
            saved = await self.workflows.get(schedule.workflow_id, schedule.tenant_id)
            graph, workflow_version = saved.graph, saved.version
        return ExecuteRequest(
            tenant_id=schedule.tenant_id,
            template_id=schedule.template_id,
            graph=graph,
            variables=resolve_periods(dict(schedule.variables), reference),
            idempotency_key=slot_key(schedule.id, slot),
            workflow_id=schedule.workflow_id,
            workflow_version=workflow_version,
            actor=schedule.created_by,
            role=schedule.role,
            metadata={
                # The copilot's command and plan, when the copilot made the schedule.
                **(schedule.origin or {}),
                "source": "schedule",
                "schedule_id": schedule.id,
                "slot": slot.isoformat(),
            },
            audit=self._entry(schedule, slot, resource_type="execution"),
        )

    def _entry(
        self,
        schedule: ScheduleRecord,
        slot: dt.datetime,
        *,
        result: str = "success",
        resource_type: str = "schedule",
        details: dict[str, object] | None = None,
    ) -> AuditEntry | None:
        if not self.audit_enabled:
            return None
        return AuditEntry(
            tenant_id=schedule.tenant_id,
            action="schedule.fire",
            user_id=schedule.created_by,
            resource_type=resource_type,
            resource_id=schedule.id if resource_type == "schedule" else None,
            details={
                "schedule_id": schedule.id,
                "slot": slot.isoformat(),
                "via": "schedule",
                **(details or {}),
            },
            result=result,
        )


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationFailed):
        return "; ".join(str(p) for p in exc.problems) or str(exc)
    return str(exc)
