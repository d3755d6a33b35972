"""The Protocols concrete parts plug into, and the records they pass each other.

The engine is handed an `AgentCatalogue`, a `RunStore` and an `EventSink` (and, when
traces are on, a `RunTracer`); it never learns which database, web framework, agent
implementation or tracing library sits behind them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .approvals import ApprovalRequest
from .enums import EventType, ExecutionStatus, Role, StepStatus

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from pydantic import BaseModel

    from .records import AuditEntry

# --- agents ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocalizedText:
    """A text in Finnish and English (the planner reads the Finnish one first)."""

    fi: str
    en: str

    def get(self, language: str) -> str:
        """The text in `language` (``fi`` or ``en``), Finnish for anything else."""
        return self.en if language.startswith("en") else self.fi


@dataclass(frozen=True, slots=True)
class AgentHealth:
    """What `Agent.health()` found.

    Attributes:
        ok: True when the agent can do its work now.
        detail: One line for people, e.g. "Tesseract 5.3.0 with fin, eng".
        checks: Named sub-checks and whether each passed.
    """

    ok: bool
    detail: str = ""
    checks: Mapping[str, bool] = field(default_factory=dict)


ProgressReporter = Callable[
    [str, "float | None", "Mapping[str, Any] | None"], Awaitable[None]
]


@dataclass(slots=True)
class AgentContext:
    """What an agent knows about the step it runs in.

    Attributes:
        tenant_id: The tenant whose data the agent may touch, and no other.
        execution_id: The execution this step belongs to.
        step_id: The step's id in the graph.
        agent_id: The agent's id.
        attempt: 1 for the first attempt, 2 for the first retry, ...
        logger: A logger bound to the ids above.
        role: The role of the key that started the execution, if known.
    """

    tenant_id: str
    execution_id: str
    step_id: str
    agent_id: str
    attempt: int
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger]
    progress: ProgressReporter
    role: Role | None = None

    @property
    def idempotency_key(self) -> str:
        """A key that is the same on every attempt of this step of this execution.

        Agents with effects outside the database (e-mail, webhooks) send it along so
        that a retried or resumed step does not act twice.
        """
        return f"{self.execution_id}:{self.step_id}"

    async def report_progress(
        self,
        message: str,
        *,
        fraction: float | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """Announce progress as a `STEP_PROGRESS` event (stored, then published)."""
        await self.progress(message, fraction, data)


@runtime_checkable
class Agent(Protocol):
    """A unit of work a workflow step runs.

    Its describing members are read-only properties because nothing outside the agent
    ever sets them: an agent may declare them as class attributes (as `BaseAgent`
    subclasses do), instance attributes or properties, and a narrower model type (say
    ``type[OcrInput]``) still satisfies ``type[BaseModel]``.
    """

    @property
    def id(self) -> str:
        """Stable identifier used in graphs, e.g. ``ocr_agent``."""
        ...

    @property
    def name(self) -> str:
        """Short human name."""
        ...

    @property
    def description(self) -> LocalizedText:
        """What it does, in Finnish and English; the planner reads it."""
        ...

    @property
    def version(self) -> str:
        """The agent's own version."""
        ...

    @property
    def input_model(self) -> type[BaseModel]:
        """Pydantic model of its inputs; its JSON schema is published."""
        ...

    @property
    def output_model(self) -> type[BaseModel]:
        """Pydantic model of its outputs."""
        ...

    @property
    def side_effects(self) -> bool:
        """True when it acts outside the database (mail, webhooks)."""
        ...

    @property
    def min_role(self) -> Role:
        """The lowest role that may use it in a workflow."""
        ...

    # `inputs` is Any, not BaseModel: each agent accepts only its own `input_model`,
    # a relation between two members that a Protocol cannot state; callers validate
    # with `input_model` first, so a narrower parameter in an agent is truthful.
    async def run(self, inputs: Any, ctx: AgentContext) -> BaseModel:
        """Do the work for validated `inputs` (an `input_model` instance).

        Raises:
            AgentError: On failure; `NonRetryableAgentError` when retrying cannot help.
        """
        ...

    async def health(self) -> AgentHealth:
        """Say truthfully whether the agent can work now (tools present, service up)."""
        ...


class AgentCatalogue(Protocol):
    """Looks agents up by id; the registry implements it."""

    def get(self, agent_id: str) -> Agent | None:
        """The agent with this id, or None."""
        ...

    def __iter__(self) -> Iterator[Agent]:
        """Every registered agent, ordered by id."""
        ...


# --- executions --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExecutionEvent:
    """One stored event of an execution; `seq` runs 1, 2, 3, ... per execution."""

    execution_id: str
    tenant_id: str
    seq: int
    type: EventType
    at: dt.datetime
    step_id: str | None = None
    agent_id: str | None = None
    attempt: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StepRecord:
    """The stored state of one step of an execution."""

    step_id: str
    agent_id: str
    status: StepStatus
    attempts: int = 0
    started_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    duration_ms: int | None = None
    output: Mapping[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    """The stored state of an execution, with its steps when loaded with them."""

    id: str
    tenant_id: str
    status: ExecutionStatus
    graph: Mapping[str, Any]
    variables: Mapping[str, Any]
    created_at: dt.datetime
    template_id: str | None = None
    workflow_id: str | None = None
    workflow_version: int | None = None
    result: Mapping[str, Any] | None = None
    error_message: str | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    created_by: str | None = None
    role: Role | None = None
    started_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    duration_ms: int | None = None
    cancel_requested: bool = False
    last_seq: int = 0
    metadata: Mapping[str, Any] = field(default_factory=dict)
    steps: tuple[StepRecord, ...] = ()
    #: Resumes in a row that found no more steps ended than the one before.
    resumes: int = 0
    #: Steps that had ended at the last resume.
    resume_progress: int = 0


@dataclass(frozen=True, slots=True)
class NewExecution:
    """What `RunStore.create_execution` needs; the graph is already validated."""

    id: str
    tenant_id: str
    graph: Mapping[str, Any]
    variables: Mapping[str, Any]
    steps: Sequence[tuple[str, str]]
    template_id: str | None = None
    workflow_id: str | None = None
    workflow_version: int | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    created_by: str | None = None
    role: Role | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StepUpdate:
    """New values for some columns of one step (keys: status, attempts, started_at,
    completed_at, duration_ms, output, error)."""

    execution_id: str
    step_id: str
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ExecutionUpdate:
    """New values for some columns of one execution (keys: status, started_at,
    completed_at, duration_ms, result, error_message, resumes, resume_progress); a
    final status also ends the lease."""

    execution_id: str
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class NewStepRun:
    """A step run an execution adds while it runs: a for-each's element
    (``book[3]``) or a sub-workflow's step (``each[3].ocr``). Stored PENDING unless it
    exists already (a resume adds the same ones again), before the batch's updates.

    Attributes:
        agent_id: The agent, or ``""`` for a sub-workflow (it runs no agent itself).
        position: Orders the execution's steps (after the graph's own).
    """

    execution_id: str
    tenant_id: str
    step_id: str
    agent_id: str
    position: int


@dataclass(slots=True)
class WriteBatch:
    """State changes and the events announcing them, written in one transaction
    (with the approval requests of steps that start to wait)."""

    steps: list[StepUpdate] = field(default_factory=list)
    executions: list[ExecutionUpdate] = field(default_factory=list)
    events: list[ExecutionEvent] = field(default_factory=list)
    new_steps: list[NewStepRun] = field(default_factory=list)
    approvals: list[ApprovalRequest] = field(default_factory=list)

    def extend(self, other: WriteBatch) -> None:
        """Append another batch's writes, keeping their order."""
        self.new_steps.extend(other.new_steps)
        self.steps.extend(other.steps)
        self.executions.extend(other.executions)
        self.events.extend(other.events)
        self.approvals.extend(other.approvals)

    def __bool__(self) -> bool:
        return bool(
            self.steps
            or self.executions
            or self.events
            or self.new_steps
            or self.approvals
        )


class RunStore(Protocol):
    """Durable state of executions, as the engine needs it."""

    async def create_execution(
        self,
        new: NewExecution,
        *,
        lease_owner: str | None = None,
        lease_s: float | None = None,
        audit: AuditEntry | None = None,
    ) -> tuple[ExecutionRecord, bool]:
        """Store a new PENDING execution with its steps.

        It is leased to `lease_owner` if given, and `audit` is written in the same
        transaction.

        Returns:
            The stored record and True, or, when the tenant already has an execution
            with the same idempotency key and request hash, that one and False.

        Raises:
            Conflict: The idempotency key was used with a different request.
        """
        ...

    async def load_execution(
        self, execution_id: str, tenant_id: str | None = None
    ) -> ExecutionRecord:
        """The execution with its steps (NotFound if absent or another tenant's)."""
        ...

    async def write(self, batch: WriteBatch) -> None:
        """Apply a batch in one transaction: all of it or nothing."""
        ...

    async def claim(
        self,
        owner: str,
        lease_s: float,
        *,
        execution_ids: Sequence[str] | None = None,
        limit: int = 100,
        tenant_cap: int | None = None,
        dead_owners: Sequence[str] = (),
    ) -> list[str]:
        """Take the lease of unfinished executions nobody holds, tenants in turn
        (fewest running first, then each tenant's oldest).

        An execution whose lease ran out, or is held by one of `dead_owners`, counts
        as held by nobody. With `tenant_cap`, no tenant is given more than that many
        running executions.

        Returns:
            The ids now held by `owner`.
        """
        ...

    async def lease_owners(self, prefix: str) -> list[str]:
        """Owners of live leases on unfinished executions whose names start with
        `prefix`."""
        ...

    async def renew(
        self, owner: str, execution_ids: Sequence[str], lease_s: float
    ) -> dict[str, bool]:
        """Extend leases still held by `owner`.

        Returns:
            For each execution still held, whether a cancel was requested.
        """
        ...

    async def release(self, owner: str, execution_ids: Sequence[str]) -> None:
        """Give up leases so that another worker may take the executions."""
        ...

    async def request_cancel(
        self, execution_id: str, tenant_id: str, audit: AuditEntry | None = None
    ) -> ExecutionRecord:
        """Mark an execution for cancellation; its lease holder carries it out.

        `audit` is written in the same transaction.
        """
        ...

    async def events_after(
        self, execution_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[ExecutionEvent]:
        """Stored events with `seq` greater than `after_seq`, in order."""
        ...

    async def reopen_decided(self, execution_id: str) -> bool:
        """Return a ``WAITING_APPROVAL`` execution to ``PENDING`` when one of its
        waiting steps has a decision (one that arrived while it was being parked).

        Returns:
            True when it was reopened (a runner may claim it).
        """
        ...

    async def last_event(self, execution_id: str) -> ExecutionEvent | None:
        """The execution's newest stored event, if any."""
        ...


class EventSink(Protocol):
    """Where the engine announces events once they are stored."""

    def publish(self, events: Sequence[ExecutionEvent]) -> None:
        """Hand stored events to subscribers without waiting for them."""
        ...


# --- traces ------------------------------------------------------------------------


class AttemptTrace(Protocol):
    """The span of one step attempt, open while its agent runs (`RunTracer`)."""

    def failed(self, error: BaseException, *, retrying: bool) -> None:
        """The attempt ended with `error`; `retrying`: another attempt follows."""
        ...


class ExecutionTrace(Protocol):
    """The span of an execution while this process drives it (`RunTracer`)."""

    def attempt(
        self, step_id: str, agent_id: str | None, attempt: int
    ) -> AbstractContextManager[AttemptTrace]:
        """The span of one attempt of a step, a child of the execution's."""
        ...

    def ended(self, outcome: str, error: str | None = None) -> None:
        """How this process's part of the run ended (`ExecutionRun.outcome`), with
        the failure's message when the execution failed."""
        ...


class RunTracer(Protocol):
    """Spans of the executions a runner drives and of their step attempts.

    A runner is handed one only when traces are on; without one it makes no span and
    calls nothing per step.
    """

    def execution(
        self, record: ExecutionRecord
    ) -> AbstractContextManager[ExecutionTrace]:
        """The span of `record`'s run in this process, in the trace that the
        execution's metadata names (`observability.spans`)."""
        ...


class Clock(Protocol):
    """Time as the engine sees it (replaceable in tests)."""

    def now(self) -> dt.datetime:
        """The current time, aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start, never going back."""
        ...
