"""Schedules: create, list, pause, resume and delete (DESIGN.md "Engine semantics",
Schedules). Making, pausing, resuming and deleting need the right to run workflows
(OPERATOR and up); reading needs READ. Another tenant's schedule is NOT_FOUND."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..core.errors import Problem, ValidationFailed
from ..core.ids import new_id
from ..core.schedules import DEFAULT_TIMEZONE, ScheduleRecord
from ..security.permissions import Permission
from .cron import cron_problems, cron_table
from .period_variables import period_problems, resolve_periods
from .starting import ExecuteRequest
from .switch import ensure_enabled

if TYPE_CHECKING:
    import datetime as dt

    from ..core.clocks import SchedulerClock
    from ..core.records import AuditEntry
    from .access import Access
    from .caller import Caller
    from .scheduling import Scheduler
    from .starting import ExecutionStarter
    from .stores import WorkflowRepository

MAX_NAME = 200


class ScheduleRepository(Protocol):
    """Stored schedules (the store's `ScheduleStore`)."""

    async def create(
        self, record: ScheduleRecord, audit: AuditEntry | None = None
    ) -> ScheduleRecord:
        """Store a new schedule with its audit entry."""
        ...

    async def get(self, schedule_id: str, tenant_id: str) -> ScheduleRecord:
        """The tenant's schedule (NotFound for another tenant's)."""
        ...

    async def list(self, tenant_id: str) -> list[ScheduleRecord]:
        """The tenant's schedules, oldest first."""
        ...

    async def set_enabled(
        self,
        schedule_id: str,
        tenant_id: str,
        *,
        enabled: bool,
        next_run_at: dt.datetime | None,
        audit: AuditEntry | None = None,
    ) -> ScheduleRecord:
        """Pause or resume (NotFound for another tenant's)."""
        ...

    async def delete(
        self, schedule_id: str, tenant_id: str, audit: AuditEntry | None = None
    ) -> None:
        """Delete (NotFound for another tenant's)."""
        ...


@dataclass(frozen=True, slots=True)
class NewSchedule:
    """A schedule to make: exactly one of a template, a saved workflow or a graph,
    fired on `cron` in `timezone`.

    Attributes:
        name: A name to tell it apart.
        cron: Five cron fields, read in `timezone`.
        timezone: An IANA zone (default Europe/Helsinki).
        template_id: A shipped template's id.
        workflow_id: A saved workflow's id (each slot runs its current version).
        graph: A workflow document.
        variables: The executions' variables; may use ``${period.<name>.start}``
            and ``${period.<name>.end}``.
        origin: What makes it, for its executions' metadata (the copilot's command
            and plan); set by the product, never by an API's input.
    """

    name: str
    cron: str
    timezone: str | None = None
    template_id: str | None = None
    workflow_id: str | None = None
    graph: Any = None
    variables: Any = None
    origin: Mapping[str, Any] | None = None

    def problems(self) -> list[Problem]:
        """Everything wrong with the request's shape, every problem at once."""
        problems: list[Problem] = []
        if not self.name.strip() or len(self.name) > MAX_NAME:
            problems.append(
                Problem("input.name", f"give a name of 1 to {MAX_NAME} characters")
            )
        given = (self.template_id, self.workflow_id, self.graph)
        if sum(x is not None for x in given) != 1:
            problems.append(
                Problem(
                    "input",
                    "give exactly one of templateId, workflowId or graph",
                    "bad_request",
                )
            )
        if self.graph is not None and not isinstance(self.graph, Mapping):
            problems.append(Problem("input.graph", "must be a JSON object"))
        if self.variables is not None and not isinstance(self.variables, Mapping):
            problems.append(
                Problem("input.variables", "must be a JSON object", "bad_request")
            )
        elif self.variables:
            problems.extend(period_problems(self.variables, "input.variables"))
        problems.extend(cron_problems(self.cron, self.timezone or DEFAULT_TIMEZONE))
        return problems


class Schedules:
    """The schedule use cases.

    Args:
        access: Rights and the audit trail.
        store: The stored schedules.
        starter: Validates graphs and variables as ``executeWorkflow`` does.
        workflows: Saved workflows a schedule may name.
        clock: The time slots are counted from (the scheduler's).
        scheduler: This process's scheduler, woken when a schedule changes (None
            in processes that do not run workflows).
    """

    def __init__(
        self,
        access: Access,
        store: ScheduleRepository,
        starter: ExecutionStarter,
        workflows: WorkflowRepository,
        clock: SchedulerClock,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.access = access
        self.store = store
        self.starter = starter
        self.workflows = workflows
        self.clock = clock
        self.scheduler = scheduler

    async def create(self, caller: Caller, request: NewSchedule) -> ScheduleRecord:
        """Validate and store a schedule; its first slot is the next one from now.

        The graph and the variables (with its period references resolved as of
        today) are validated as ``executeWorkflow`` validates them, with the
        caller's role; each slot later runs with that role, in the caller's name.

        Raises:
            Forbidden: The caller may not run workflows.
            ServiceDisabled: The service is switched off.
            ValidationFailed: Every problem of the request, cron, zone, graph and
                variables.
            NotFound: Unknown template, or a saved workflow the tenant lacks.
        """
        action = "schedule.create"
        await self.access.require(
            caller, Permission.RUN, action, resource_type="schedule"
        )
        ensure_enabled(self.starter.enabled)
        async with self.access.attempt(caller, action, "schedule"):
            problems = request.problems()
            if problems:
                raise ValidationFailed(problems)
            timezone = request.timezone or DEFAULT_TIMEZONE
            table = cron_table(request.cron, timezone)
            now = self.clock.now()
            graph: Mapping[str, Any] | None = request.graph
            if request.workflow_id is not None:
                async with self.access.owned(
                    caller, action, "workflow", request.workflow_id
                ):
                    saved = await self.workflows.get(
                        request.workflow_id, caller.tenant_id
                    )
                graph = saved.graph
            variables = dict(request.variables or {})
            role = self.access.role(caller)
            # Validated as a slot would run today (period references resolved).
            await self.starter.validate_request(
                ExecuteRequest(
                    tenant_id=caller.tenant_id,
                    template_id=request.template_id,
                    graph=graph,
                    variables=resolve_periods(
                        variables, now.astimezone(table.zone).date()
                    ),
                    role=role,
                )
            )
            record = ScheduleRecord(
                id=new_id(),
                tenant_id=caller.tenant_id,
                name=request.name.strip(),
                cron=table.expression,
                timezone=timezone,
                enabled=True,
                role=role,
                created_at=now,
                updated_at=now,
                template_id=request.template_id,
                workflow_id=request.workflow_id,
                graph=request.graph,
                variables=variables,
                next_run_at=table.next_after(now),
                created_by=caller.actor,
                origin=request.origin,
            )
            await self.store.create(
                record,
                self.access.entry(
                    caller,
                    action,
                    resource_type="schedule",
                    resource_id=record.id,
                    details={
                        "name": record.name,
                        "cron": record.cron,
                        "timezone": timezone,
                        "source": request.template_id or request.workflow_id or "graph",
                    },
                ),
            )
        self._wake()
        return record

    async def list(self, caller: Caller) -> list[ScheduleRecord]:
        """The tenant's schedules, oldest first."""
        await self.access.require(
            caller, Permission.READ, "schedule.list", resource_type="schedule"
        )
        return await self.store.list(caller.tenant_id)

    async def get(self, caller: Caller, schedule_id: str) -> ScheduleRecord:
        """One of the tenant's schedules.

        Raises:
            NotFound: The tenant has no such schedule.
        """
        async with self.access.reading(caller, "schedule", schedule_id):
            return await self.store.get(schedule_id, caller.tenant_id)

    async def pause(self, caller: Caller, schedule_id: str) -> ScheduleRecord:
        """Pause a schedule: it fires nothing until resumed.

        Raises:
            Forbidden: The caller may not run workflows.
            NotFound: The tenant has no such schedule.
        """
        return await self._set_enabled(caller, schedule_id, enabled=False)

    async def resume(self, caller: Caller, schedule_id: str) -> ScheduleRecord:
        """Resume a schedule from its next slot after now (slots missed while it was
        paused do not fire).

        Raises:
            Forbidden: The caller may not run workflows.
            NotFound: The tenant has no such schedule.
        """
        record = await self._set_enabled(caller, schedule_id, enabled=True)
        self._wake()
        return record

    async def delete(self, caller: Caller, schedule_id: str) -> None:
        """Delete a schedule (the executions it started stay).

        Raises:
            Forbidden: The caller may not run workflows.
            NotFound: The tenant has no such schedule.
        """
        action = "schedule.delete"
        async with self.access.guarded(
            caller, Permission.RUN, action, "schedule", schedule_id
        ):
            await self.store.delete(
                schedule_id,
                caller.tenant_id,
                self.access.entry(
                    caller, action, resource_type="schedule", resource_id=schedule_id
                ),
            )

    async def _set_enabled(
        self, caller: Caller, schedule_id: str, *, enabled: bool
    ) -> ScheduleRecord:
        action = "schedule.resume" if enabled else "schedule.pause"
        await self.access.require(
            caller,
            Permission.RUN,
            action,
            resource_type="schedule",
            resource_id=schedule_id,
        )
        async with self.access.owned(caller, action, "schedule", schedule_id):
            current = await self.store.get(schedule_id, caller.tenant_id)
            next_run_at = None
            if enabled:
                next_run_at = (
                    current.next_run_at
                    if current.enabled
                    else cron_table(current.cron, current.timezone).next_after(
                        self.clock.now()
                    )
                )
            return await self.store.set_enabled(
                schedule_id,
                caller.tenant_id,
                enabled=enabled,
                next_run_at=next_run_at,
                audit=self.access.entry(
                    caller, action, resource_type="schedule", resource_id=schedule_id
                ),
            )

    def _wake(self) -> None:
        if self.scheduler is not None:
            self.scheduler.wake()
