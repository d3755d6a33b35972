"""Executions, their steps and events as GraphQL types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import strawberry

from ...core.graph import parent_step
from ...core.protocols import ExecutionEvent as Event
from ...core.protocols import ExecutionRecord, StepRecord
from ...service.step_details import StepDetails
from ..context import Info  # noqa: TC001 (Strawberry reads annotations at run time)
from ..enums import EventType, ExecutionStatus, StepStatus
from ..scalars import JSON


@strawberry.type
class StepRun:
    """One step of an execution: a graph's step, a for-each's element (``book[3]``,
    `index` 3) or a step of a sub-workflow (``each[3].ocr``)."""

    step_id: str
    agent_id: str
    status: StepStatus
    attempts: int
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    duration_ms: int | None
    error: str | None
    output: JSON | None
    parent_step_id: str | None = strawberry.field(
        default=None,
        description="The for-each or sub-workflow step this one runs inside.",
    )
    index: int | None = strawberry.field(
        default=None, description="The element's position in its for-each's list."
    )
    children: list[StepRun] = strawberry.field(
        default_factory=list,
        description="Its elements (a for-each) or steps (a sub-workflow), in order.",
    )
    _details: strawberry.Private[StepDetails | None] = None

    # Strawberry types its decorators called with arguments as returning Any (one
    # overload also serves `x: int = strawberry.field(...)`), hence these ignores.
    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The graph's steps it waits for: its `depends_on` and every step "
        "its inputs, `for_each` or `when` refer to (none for an element or a "
        "sub-workflow's step)."
    )
    def depends_on(self) -> list[str]:
        return self._details.depends_on(self.step_id) if self._details else []

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The inputs it ran with, resolved from the graph as the engine "
        "resolves them (before the agent's defaults), at every level (a for-each's "
        "elements, a sub-workflow's steps); null before it started and for a "
        "for-each step itself."
    )
    def inputs(self) -> JSON | None:
        found = self._details.inputs(self.step_id) if self._details else None
        return JSON(found) if found is not None else None

    @classmethod
    def of(cls, step: StepRecord, details: StepDetails | None = None) -> StepRun:
        """The GraphQL view of a step (with `details`, its dependencies and inputs
        can be told)."""
        parent, index = parent_step(step.step_id)
        return cls(
            _details=details,
            parent_step_id=parent,
            index=index,
            step_id=step.step_id,
            agent_id=step.agent_id,
            status=step.status,
            attempts=step.attempts,
            started_at=step.started_at,
            completed_at=step.completed_at,
            duration_ms=step.duration_ms,
            error=step.error,
            output=JSON(dict(step.output)) if step.output is not None else None,
        )


@strawberry.type
class ExecutionEvent:
    """A numbered event of an execution."""

    seq: int
    type: EventType
    execution_id: strawberry.ID
    step_id: str | None
    agent_id: str | None
    attempt: int | None
    at: dt.datetime
    data: JSON

    @classmethod
    def of(cls, event: Event) -> ExecutionEvent:
        """The GraphQL view of an event."""
        return cls(
            seq=event.seq,
            type=event.type,
            execution_id=strawberry.ID(event.execution_id),
            step_id=event.step_id,
            agent_id=event.agent_id,
            attempt=event.attempt,
            at=event.at,
            data=JSON(dict(event.data)),
        )


@strawberry.type(description="The copilot command an execution was planned from.")
class ExecutionCopilot:
    """What an execution keeps of the copilot request that started it (its
    ``metadata.copilot``, written by `service.copilot`)."""

    command: str = strawberry.field(description="The command as the person wrote it.")
    explanation: str = strawberry.field(
        description="What the plan does, in the command's language."
    )
    planner: str | None = strawberry.field(description="openai or offline.")
    language: str | None = strawberry.field(description="fi, en or sv.")
    warnings: list[str]
    reference_date: dt.date | None = strawberry.field(
        description="'Today' for the command's period words."
    )

    @classmethod
    def of(cls, metadata: Mapping[str, Any]) -> ExecutionCopilot | None:
        """The copilot part of an execution's metadata; None when it has none."""
        kept = metadata.get("copilot")
        if not isinstance(kept, Mapping) or not isinstance(kept.get("command"), str):
            return None
        day = kept.get("reference_date")
        try:
            reference = dt.date.fromisoformat(day) if isinstance(day, str) else None
        except ValueError:
            reference = None
        text = _text_or_none
        return cls(
            command=kept["command"],
            explanation=text(kept.get("explanation")) or "",
            planner=text(kept.get("planner")),
            language=text(kept.get("language")),
            warnings=[w for w in kept.get("warnings") or () if isinstance(w, str)],
            reference_date=reference,
        )


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _mapping(value: JSON) -> Mapping[str, Any]:
    """A JSON object field of `Execution` (always an object) as a mapping."""
    return value if isinstance(value, Mapping) else {}


@strawberry.type
class Execution:
    """One run of a workflow."""

    id: strawberry.ID
    status: ExecutionStatus
    template_id: str | None
    workflow_id: str | None
    workflow_version: int | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    duration_ms: int | None
    error_message: str | None
    variables: JSON
    result: JSON | None
    graph: JSON
    metadata: JSON
    _steps: strawberry.Private[tuple[StepRecord, ...] | None] = None

    # Strawberry types its decorators called with arguments as returning Any (one
    # overload also serves `x: int = strawberry.field(...)`), hence these ignores.
    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The graph's steps in graph order, each for-each's elements and "
        "each sub-workflow's steps grouped under it (`children`); with `flat: true`, "
        "every step run in one list."
    )
    async def steps(self, info: Info, flat: bool = False) -> list[StepRun]:
        records = self._steps
        if records is None:
            records = tuple(await info.context.loaders.steps.load(str(self.id)))
        details = StepDetails(_mapping(self.graph), _mapping(self.variables), records)
        runs = [StepRun.of(s, details) for s in records]
        if flat:
            return runs
        by_id = {run.step_id: run for run in runs}
        top = []
        for run in runs:
            parent = by_id.get(run.parent_step_id or "")
            if parent is None:
                top.append(run)
            else:
                parent.children.append(run)
        return top

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The copilot command and its explanation, when the execution was "
        "started from a copilot plan (copilotExecute, the REST route or the CLI) or "
        "fired by a schedule the copilot made from a command."
    )
    def copilot(self) -> ExecutionCopilot | None:
        return ExecutionCopilot.of(_mapping(self.metadata))

    @strawberry.field(description="Stored events after `afterSeq`, in order.")  # type: ignore[untyped-decorator]
    async def events(self, info: Info, after_seq: int = 0) -> list[ExecutionEvent]:
        executions = info.context.services.executions
        stored = await executions.events_after(str(self.id), after_seq)
        return [ExecutionEvent.of(e) for e in stored]

    @classmethod
    def of(cls, record: ExecutionRecord, *, with_steps: bool = False) -> Execution:
        """The GraphQL view of an execution (steps load lazily unless given)."""
        return cls(
            id=strawberry.ID(record.id),
            status=record.status,
            template_id=record.template_id,
            workflow_id=record.workflow_id,
            workflow_version=record.workflow_version,
            created_at=record.created_at,
            started_at=record.started_at,
            completed_at=record.completed_at,
            duration_ms=record.duration_ms,
            error_message=record.error_message,
            variables=JSON(dict(record.variables)),
            result=JSON(dict(record.result)) if record.result is not None else None,
            graph=JSON(dict(record.graph)),
            metadata=JSON(dict(record.metadata)),
            _steps=record.steps if with_steps else None,
        )


@strawberry.input
class ExecuteWorkflowInput:
    """What to run: exactly one of templateId, workflowId or graph."""

    template_id: str | None = None
    workflow_id: strawberry.ID | None = None
    workflow_version: int | None = None
    graph: JSON | None = None
    initial_variables: JSON | None = None
    idempotency_key: str | None = None


@strawberry.input
class ExecutionFilter:
    """Which executions to list."""

    status: list[ExecutionStatus] | None = None
    template_id: str | None = None
    workflow_id: strawberry.ID | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
