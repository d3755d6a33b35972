"""Executions: start (a template, a saved workflow or a graph), cancel, read, list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import NotFound, Problem, ValidationFailed
from ..core.schedules import SCHEDULE_KEY_PREFIX
from ..security.permissions import Permission
from .starting import ExecuteRequest, idempotency_key_problems
from .switch import ensure_enabled

if TYPE_CHECKING:
    import datetime as dt

    from ..core.enums import ExecutionStatus
    from ..core.protocols import ExecutionEvent, ExecutionRecord, StepRecord
    from ..core.records import Page
    from ..engine.runner import Runner
    from .access import Access
    from .caller import Caller
    from .starting import ExecutionStarter
    from .stores import ExecutionLister, ExecutionReader, WorkflowRepository


@dataclass(frozen=True, slots=True)
class StartExecution:
    """What a caller asks to run: exactly one of a shipped template, a saved workflow
    (at its current or a given version) or a graph, with initial variables.

    Attributes:
        template_id: A shipped template's id.
        workflow_id: A saved workflow's id.
        workflow_version: The saved workflow's version (default: current).
        graph: A workflow document.
        variables: Initial variable values (a JSON object).
        idempotency_key: The same key with the same request returns the same execution.
    """

    template_id: str | None = None
    workflow_id: str | None = None
    workflow_version: int | None = None
    graph: Any = None
    variables: Any = None
    idempotency_key: str | None = None

    def problems(self) -> list[Problem]:
        """Everything wrong with the request's shape, every problem at once (the one
        place the "exactly one source" rule is checked)."""
        problems: list[Problem] = []
        given = (self.template_id, self.workflow_id, self.graph)
        if sum(x is not None for x in given) != 1:
            problems.append(
                Problem(
                    "input",
                    "give exactly one of templateId, workflowId or graph",
                    "bad_request",
                )
            )
        if self.variables is not None and not isinstance(self.variables, Mapping):
            problems.append(
                Problem(
                    "input.initialVariables", "must be a JSON object", "bad_request"
                )
            )
        problems.extend(
            idempotency_key_problems(self.idempotency_key, "idempotencyKey")
        )
        if self.idempotency_key is not None and self.idempotency_key.startswith(
            SCHEDULE_KEY_PREFIX
        ):
            # A request must not take a schedule's slot (`core.schedules.slot_key`).
            problems.append(
                Problem(
                    "idempotencyKey",
                    f"keys that start with {SCHEDULE_KEY_PREFIX!r} are the "
                    "schedules'; choose another key",
                    "bad_request",
                )
            )
        return problems


class Executions:
    """The execution use cases.

    Args:
        access: Rights and the audit trail.
        starter: Validates and submits new executions.
        runner: Cancels and waits for executions.
        runs: Reads one execution and its events.
        listing: Reads many executions and their steps.
        workflows: The saved workflows a request may name.
    """

    def __init__(
        self,
        access: Access,
        starter: ExecutionStarter,
        runner: Runner,
        runs: ExecutionReader,
        listing: ExecutionLister,
        workflows: WorkflowRepository,
    ) -> None:
        self.access = access
        self.starter = starter
        self.runner = runner
        self.runs = runs
        self.listing = listing
        self.workflows = workflows

    async def start(
        self, caller: Caller, request: StartExecution
    ) -> tuple[ExecutionRecord, bool]:
        """Validate and start an execution; ``execution.start`` is written with it.

        Returns:
            The execution (PENDING or already RUNNING) and whether it is new (False when
            the idempotency key matched an earlier one).

        Raises:
            Forbidden: The caller may not run workflows.
            ServiceDisabled: The service is switched off.
            ValidationFailed: Every problem of the request, graph and variables.
            NotFound: Unknown template, or a saved workflow the tenant does not have.
            Conflict: The idempotency key was used for another request.
        """
        action = "execution.start"
        await self.access.require(
            caller, Permission.RUN, action, resource_type="execution"
        )
        async with self.access.attempt(caller, action, "execution"):
            problems = request.problems()
            if problems:
                raise ValidationFailed(problems)
            graph: Mapping[str, Any] | None = request.graph
            workflow_id = workflow_version = None
            if request.workflow_id is not None:
                async with self.access.owned(
                    caller, action, "workflow", request.workflow_id
                ):
                    saved = await self.workflows.get(
                        request.workflow_id, caller.tenant_id, request.workflow_version
                    )
                graph, workflow_id = saved.graph, saved.id
                workflow_version = saved.version
            details = {
                "source": request.template_id or workflow_id or "graph",
                "idempotency_key": request.idempotency_key,
            }
            record, created = await self.starter.execute(
                ExecuteRequest(
                    tenant_id=caller.tenant_id,
                    template_id=request.template_id,
                    graph=graph,
                    variables=request.variables or {},
                    idempotency_key=request.idempotency_key,
                    workflow_id=workflow_id,
                    workflow_version=workflow_version,
                    actor=caller.actor,
                    role=self.access.role(caller),
                    metadata={"source": caller.via.value},
                    audit=self.access.entry(
                        caller, action, resource_type="execution", details=details
                    ),
                )
            )
        if not created:
            # The same request again: it started nothing, and says so.
            await self.access.record(
                self.access.entry(
                    caller,
                    action,
                    resource_type="execution",
                    resource_id=record.id,
                    details=details,
                    result="replayed",
                )
            )
        return record, created

    async def cancel(self, caller: Caller, execution_id: str) -> ExecutionRecord:
        """Cancel an execution wherever it runs; ``execution.cancel`` is written with
        the request.

        Returns:
            The execution as it is after the request (steps included).

        Raises:
            Forbidden: The caller may not run (or cancel) workflows.
            ServiceDisabled: The service is switched off (its runner cannot take
                the execution to close it).
            NotFound: The tenant has no such execution.
        """
        action = "execution.cancel"
        async with self.access.guarded(
            caller, Permission.RUN, action, "execution", execution_id
        ):
            ensure_enabled(self.starter.enabled)
            await self.runner.cancel_execution(
                execution_id,
                caller.tenant_id,
                audit=self.access.entry(
                    caller,
                    action,
                    resource_type="execution",
                    resource_id=execution_id,
                ),
            )
        return await self.runs.load_execution(
            execution_id, caller.tenant_id, with_seq=False
        )

    async def get(self, caller: Caller, execution_id: str) -> ExecutionRecord:
        """One execution with its steps.

        Raises:
            NotFound: The tenant has no such execution.
        """
        async with self.access.reading(caller, "execution", execution_id):
            return await self.runs.load_execution(
                execution_id, caller.tenant_id, with_seq=False
            )

    async def page(
        self,
        caller: Caller,
        *,
        first: int = 20,
        after: str | None = None,
        statuses: Sequence[ExecutionStatus] = (),
        template_id: str | None = None,
        workflow_id: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> Page[ExecutionRecord]:
        """The tenant's executions, newest first, filtered (steps load separately
        through `steps_of`)."""
        await self.access.require(
            caller, Permission.READ, "execution.list", resource_type="execution"
        )
        return await self.listing.page(
            caller.tenant_id,
            first=first,
            after=after,
            statuses=statuses,
            template_id=template_id,
            workflow_id=workflow_id,
            since=since,
            until=until,
        )

    async def require_readable(self, caller: Caller, execution_id: str) -> None:
        """Check that the caller may follow this execution (it may read, and its
        tenant has the execution), with the refusals recorded like `get`'s.

        Raises:
            Forbidden: The caller may not read.
            NotFound: The tenant has no such execution.
        """
        async with self.access.reading(caller, "execution", execution_id):
            if not await self.runs.exists(execution_id, caller.tenant_id):
                raise NotFound(f"execution {execution_id} not found")

    async def steps_of(
        self, tenant_id: str, execution_ids: Sequence[str]
    ) -> Mapping[str, list[StepRecord]]:
        """The steps of many executions of one tenant at once (for DataLoaders, whose
        executions were read through a checked use case)."""
        return await self.listing.steps_of(tenant_id, execution_ids)

    async def events_after(
        self, execution_id: str, after_seq: int = 0
    ) -> list[ExecutionEvent]:
        """The stored events after `after_seq` of an execution read through a checked
        use case."""
        return await self.runs.events_after(execution_id, after_seq)

    async def wait_finished(self, caller: Caller, execution_id: str) -> ExecutionRecord:
        """Wait until the execution has ended, wherever it runs, and return it.

        Raises:
            NotFound: The tenant has no such execution.
        """
        await self.get(caller, execution_id)
        return await self.runner.wait_finished(execution_id, caller.tenant_id)

    async def count_by_status(self) -> dict[str, int]:
        """How many executions of all tenants are in each status (the process's
        Prometheus exposition; no caller)."""
        return await self.listing.count_by_status()
