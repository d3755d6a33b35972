"""One execution driven to its end (DESIGN.md "Engine semantics").

Ready steps run concurrently in the execution's task group. Each state change is
written (with the event that announces it) before anything acts on it; a step's success
is written together with the start of the steps it unblocks, so that a chain costs one
transaction per step. A resumed execution reuses the stored outputs of finished steps
and runs the rest; an interrupted attempt counts as started but not as failed.

Nothing can make an execution run for ever. Outputs and events are cleaned of text the
databases refuse, and one that still cannot be stored (NaN) fails its step at once
(`OutputNotStorable`). A step is started at most ``max_retries + 1`` times, however
its attempts ended: a resume finds one whose last allowed attempt was cut short (the
process stopped, or its end could not be stored) and fails it instead. And an
execution resumed more than ``max_retries + 1`` times in a row without a step ending
in between ends FAILED.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import BaseModel, ValidationError

from ..core.approvals import APPROVAL_AGENT, Decision
from ..core.enums import EventType, ExecutionStatus, StepStatus
from ..core.errors import (
    AgentError,
    AgentTimeout,
    NonRetryableAgentError,
    NotStorable,
    OutputNotStorable,
)
from ..core.graph import Condition, Scope, StepSpec, WorkflowGraph, parse_condition
from ..core.ids import utcnow
from ..core.logcontext import log_fields
from ..core.protocols import (
    Agent,
    AgentCatalogue,
    AgentContext,
    ExecutionEvent,
    ExecutionRecord,
    ExecutionUpdate,
    StepUpdate,
    WriteBatch,
)
from ..core.text import clean_text, storable_json
from .approval import request_approval, requested_event_data
from .expand import Expansion
from .settings import Backoff, EngineSettings

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Mapping

    from anyio.abc import TaskGroup

    from ..core.protocols import ExecutionTrace, RunTracer
    from .writer import BatchWriter

log = logging.getLogger("agent_orchestrator.engine")
_FINALISE_TIMEOUT_S = 30


class ExecutionRun:
    """The in-memory state of one execution this process drives.

    Attributes:
        id: The execution id.
        finished: Set once the final status is stored (or the run was abandoned).
    """

    def __init__(
        self,
        record: ExecutionRecord,
        catalogue: AgentCatalogue,
        writer: BatchWriter,
        settings: EngineSettings,
        *,
        tracer: RunTracer | None = None,
    ) -> None:
        self.id = record.id
        self.record = record
        self.graph = WorkflowGraph.model_validate(record.graph)
        self.catalogue = catalogue
        self.writer = writer
        self.settings = settings
        self.finished = anyio.Event()
        self.seq = record.last_seq
        self.cancel_requested = record.cancel_requested
        self.abandoned = False
        #: Set by `hand_back`: no step starts any more; the run ends when the
        #: attempts under way have ended, leaving the rest to another worker.
        self.handing_back = False
        self._backoffs: set[anyio.CancelScope] = set()
        #: Set when the run ended with the execution parked (WAITING_APPROVAL).
        self.parked = False
        # The step that failed (None: the execution as a whole) and why.
        self.failure: tuple[str | None, str] | None = None
        self.final_status: ExecutionStatus | None = (
            record.status if record.status.is_final else None
        )
        self.started_at = record.started_at
        self._scope: anyio.CancelScope | None = None
        self._tg: TaskGroup | None = None
        self.tracer = tracer
        self._trace: ExecutionTrace | None = None

        self.steps = {step.id: step for step in self.graph.steps}
        self.record_steps = frozenset(self.steps)  # the graph's own, not expanded
        self.status: dict[str, StepStatus] = {s: StepStatus.PENDING for s in self.steps}
        self.attempts = dict.fromkeys(self.steps, 0)
        self.failures = dict.fromkeys(self.steps, 0)
        self.step_started: dict[str, dt.datetime | None] = {}
        outputs: dict[str, Mapping[str, Any] | None] = {}
        # Decisions stored on waiting approval steps, applied when the run starts.
        self.decisions: dict[str, Decision] = {}
        for stored in record.steps:
            if stored.step_id not in self.steps:
                continue
            self.status[stored.step_id] = stored.status
            self.attempts[stored.step_id] = stored.attempts
            self.step_started[stored.step_id] = stored.started_at
            if stored.status is StepStatus.SUCCEEDED:
                outputs[stored.step_id] = stored.output or {}
            elif stored.status is StepStatus.WAITING_APPROVAL and stored.output:
                self.decisions[stored.step_id] = Decision.from_output(stored.output)
            # An attempt cut short by a crash was started but did not fail.
            self.failures[stored.step_id] = (
                stored.attempts
                if stored.status is StepStatus.RETRYING
                else max(stored.attempts - 1, 0)
            )
        # The scope reads the outputs this run keeps adding to as steps succeed.
        self.outputs = outputs
        self.scope = Scope(record.variables, outputs)
        dependencies = self.graph.dependencies()
        self.dependents: dict[str, list[str]] = {s: [] for s in self.steps}
        self.waiting: dict[str, set[str]] = {}
        for step_id, deps in dependencies.items():
            self.waiting[step_id] = {
                d for d in deps if not self.status[d].lets_dependents_run
            }
            for dep in deps:
                self.dependents[dep].append(step_id)
        self._unsettled = [
            s.id for s in reversed(self.graph.steps) if not self.status[s.id].is_final
        ]
        self.conditions: dict[str, Condition] = {
            s.id: parse_condition(s.when) for s in self.graph.steps if s.when
        }
        # For-each elements and sub-workflow steps, added as their steps start.
        self.expansion = Expansion(self, record.steps)

    # --- control from outside ----------------------------------------------------

    def request_cancel(self) -> None:
        """Cancel: running steps stop now, the rest is marked CANCELLED."""
        self.cancel_requested = True
        if self._scope is not None:
            self._scope.cancel()

    def hand_back(self) -> None:
        """Start no more steps (a worker that drains before it stops): attempts under
        way may end and are stored; steps waiting to retry stop waiting here."""
        self.handing_back = True
        for scope in self._backoffs:
            scope.cancel()

    @property
    def handed_back(self) -> bool:
        """The run ended unfinished because of `hand_back` (nothing failed, nothing
        was cancelled): its execution is for another worker to continue."""
        return (
            self.handing_back
            and self.final_status is None
            and self.failure is None
            and not self.cancel_requested
        )

    def abandon(self) -> None:
        """Stop without writing anything (another worker took the lease)."""
        self.abandoned = True
        if self._scope is not None:
            self._scope.cancel()

    # --- the run ---------------------------------------------------------------------

    async def run(self) -> None:
        """Drive the execution until it ends, is cancelled or abandoned."""
        try:
            if self.final_status is None:
                # Every line logged while the execution runs (its steps' tasks
                # inherit the fields) names it.
                with log_fields(tenant_id=self.record.tenant_id, execution_id=self.id):
                    if self.tracer is None:
                        await self._run()
                    else:
                        await self._traced_run(self.tracer)
        finally:
            self.finished.set()

    @property
    def outcome(self) -> str:
        """How this process's part of the run ended: the final status in lower case,
        ``waiting_approval`` (parked), ``handed_back``, ``abandoned``, or ``stopped``
        (it ended otherwise, e.g. the database went away)."""
        if self.final_status is not None:
            return self.final_status.value.lower()
        if self.parked:
            return "waiting_approval"
        if self.abandoned:
            return "abandoned"
        return "handed_back" if self.handed_back else "stopped"

    async def _traced_run(self, tracer: RunTracer) -> None:
        """`_run` inside the execution's span; its attempts' spans are children."""
        with tracer.execution(self.record) as self._trace:
            await self._run()
            self._trace.ended(self.outcome, self.failure[1] if self.failure else None)

    async def _run(self) -> None:
        batch = WriteBatch()
        resumed = self.record.started_at is not None
        if self.record.status is ExecutionStatus.PENDING and resumed:
            # Back from WAITING_APPROVAL: started already, announced already.
            if not self.cancel_requested:
                batch.executions.append(
                    ExecutionUpdate(self.id, {"status": ExecutionStatus.RUNNING})
                )
        elif (
            self.record.status is ExecutionStatus.PENDING and not self.cancel_requested
        ):
            self.started_at = utcnow()
            batch.executions.append(
                ExecutionUpdate(
                    self.id,
                    {"status": ExecutionStatus.RUNNING, "started_at": self.started_at},
                )
            )
            self._event(
                batch,
                EventType.EXECUTION_STARTED,
                data={"template_id": self.record.template_id, "steps": len(self.steps)},
            )
        failed = [s for s, st in self.status.items() if st is StepStatus.FAILED]
        if failed:
            # The process died between a step's failure and the execution's.
            self.failure = (failed[0], f"step '{failed[0]}' failed")
        if self.record.status is ExecutionStatus.RUNNING:
            self._count_resume(batch)
        launch: list[str] = []
        if not self.cancel_requested and self.failure is None:
            self._apply_decisions(batch)
        if not self.cancel_requested and self.failure is None:
            for step_id, status in self.status.items():
                if status is StepStatus.RUNNING and self._used_up(step_id):
                    self._fail_interrupted(step_id, batch)
                    break
                if status in (StepStatus.RUNNING, StepStatus.RETRYING):
                    self.status[step_id] = StepStatus.PENDING
        if not self.cancel_requested and self.failure is None:
            ready = [s for s in self.steps if not self.waiting[s]]
            launch = self._ready(ready, batch)
            if self.failure is None and self._all_final():
                self._complete(batch)
        await self.writer.commit(batch)
        if self.final_status is not None:
            return
        with anyio.CancelScope() as self._scope:
            if self.cancel_requested or self.failure is not None:
                self._scope.cancel()
            async with anyio.create_task_group() as self._tg:
                for step_id in launch:
                    self._tg.start_soon(self._step, step_id)
        if self.final_status is None and not self.abandoned and not self.handed_back:
            with anyio.CancelScope(shield=True), anyio.fail_after(_FINALISE_TIMEOUT_S):
                if self._waits_for_approval():
                    await self._park()
                else:
                    await self._finalise()

    def _count_resume(self, batch: WriteBatch) -> None:
        """Count this resume; fail the execution when it is the one too many in a row
        without a step ending since the one before."""
        ended = self.expansion.progress()  # for-each elements and inner steps too
        resumes = 1 if ended > self.record.resume_progress else self.record.resumes + 1
        batch.executions.append(
            ExecutionUpdate(self.id, {"resumes": resumes, "resume_progress": ended})
        )
        bound = self.settings.max_retries + 1
        if resumes > bound and self.failure is None:
            self.failure = (
                None,
                f"the execution was resumed {resumes} times in a row without any "
                f"step ending in between (at most {bound}: AGENT_MAX_RETRIES + 1); "
                "its steps' work cannot be stored or keeps stopping the worker, so it "
                "is not resumed again. Check the worker's log for the cause",
            )

    def _used_up(self, step_id: str) -> bool:
        """Whether a step found RUNNING at a resume has had all its attempts."""
        step = self.steps[step_id]
        if self.expansion.is_composite(step):
            return False  # it runs no agent; its children count their own attempts
        allowed = Backoff.for_step(step.retry, self.settings).max_retries + 1
        return self.attempts[step_id] >= allowed

    def _fail_interrupted(self, step_id: str, batch: WriteBatch) -> None:
        """Fail a step whose last allowed attempt was cut short (see `_used_up`)."""
        attempts = self.attempts[step_id]
        error = NonRetryableAgentError(
            f"step '{step_id}' was started {attempts} times, as many as it may be "
            "(AGENT_MAX_RETRIES + 1), and its last attempt ended without its result "
            "being stored: the worker stopped or the result could not be stored; it "
            "is not started again"
        )
        self._fail_in(batch, step_id, error, utcnow())

    def _ready(self, candidates: Iterable[str], batch: WriteBatch) -> list[str]:
        """Start or skip every candidate whose dependencies are all done (none while
        the run is being handed back: the next worker starts them)."""
        if self.handing_back:
            return []
        queue = deque(candidates)
        launch: list[str] = []
        now = utcnow()
        while queue:
            step_id = queue.popleft()
            if self.status[step_id] is not StepStatus.PENDING or self.waiting[step_id]:
                continue
            condition = self.conditions.get(step_id)
            scope = self.expansion.scope_of(step_id)
            if condition is not None and not condition.evaluate(scope):
                self.status[step_id] = StepStatus.SKIPPED
                batch.steps.append(
                    StepUpdate(
                        self.id,
                        step_id,
                        {"status": StepStatus.SKIPPED, "completed_at": now},
                    )
                )
                self._event(
                    batch,
                    EventType.STEP_SKIPPED,
                    step_id,
                    data={"when": self.steps[step_id].when},
                )
                self._unblock(step_id, queue)
                self.expansion.settle(step_id, batch, now, queue)
                continue
            if self.expansion.is_composite(self.steps[step_id]):
                self.expansion.start(step_id, batch, now, queue)
                continue
            if self.steps[step_id].agent == APPROVAL_AGENT:
                self._request_approval(step_id, batch, now)
                continue
            self._start_attempt(step_id, batch, now)
            launch.append(step_id)
        return launch

    # --- approvals (see `engine.approval`) ---------------------------------------

    def _request_approval(
        self, step_id: str, batch: WriteBatch, now: dt.datetime
    ) -> None:
        """Let an approval step wait for a decision: no task runs for it."""
        step = self.steps[step_id]
        self.attempts[step_id] += 1
        self.step_started[step_id] = now
        try:
            request = request_approval(
                self.record,
                step_id,
                self.catalogue.get(step.agent or ""),
                self.expansion.scope_of(step_id).resolve(step.inputs),
                now,
            )
        except AgentError as exc:
            started = {"attempts": self.attempts[step_id], "started_at": now}
            batch.steps.append(StepUpdate(self.id, step_id, started))
            self._fail_in(batch, step_id, exc, now)
            return
        self.status[step_id] = StepStatus.WAITING_APPROVAL
        batch.steps.append(
            StepUpdate(
                self.id,
                step_id,
                {
                    "status": StepStatus.WAITING_APPROVAL,
                    "attempts": self.attempts[step_id],
                    "started_at": now,
                    "error": None,
                },
            )
        )
        batch.approvals.append(request)
        self._event(
            batch,
            EventType.APPROVAL_REQUESTED,
            step_id,
            attempt=self.attempts[step_id],
            data=requested_event_data(request),
        )

    def _apply_decisions(self, batch: WriteBatch) -> None:
        """Apply the decisions stored on waiting approval steps: approved, the step
        succeeds with the decision as its output; rejected or expired, it fails
        without retry (and the execution with it)."""
        now = utcnow()
        for step_id, decision in self.decisions.items():
            if self.status[step_id] is not StepStatus.WAITING_APPROVAL:
                continue
            output = decision.as_output()
            self._event(batch, EventType.APPROVAL_DECIDED, step_id, data=dict(output))
            if not decision.approved:
                error = NonRetryableAgentError(decision.refusal())
                self._fail_in(batch, step_id, error, now)
                return
            self._record_success(step_id, dict(output), batch, now)
            for dependent in self.dependents[step_id]:
                self.waiting[dependent].discard(step_id)
        self.decisions.clear()

    def _waits_for_approval(self) -> bool:
        return (
            self.failure is None
            and not self.cancel_requested
            and any(s is StepStatus.WAITING_APPROVAL for s in self.status.values())
        )

    async def _park(self) -> None:
        """Nothing runs and a step waits for a decision: the execution holds no lease,
        task or slot until one comes (the runner reopens it then)."""
        batch = WriteBatch()
        batch.executions.append(
            ExecutionUpdate(self.id, {"status": ExecutionStatus.WAITING_APPROVAL})
        )
        await self.writer.commit(batch)
        self.parked = True

    def _start_attempt(self, step_id: str, batch: WriteBatch, now: dt.datetime) -> None:
        self.status[step_id] = StepStatus.RUNNING
        self.attempts[step_id] += 1
        values: dict[str, Any] = {
            "status": StepStatus.RUNNING,
            "attempts": self.attempts[step_id],
            "error": None,
        }
        if self.step_started.get(step_id) is None:
            self.step_started[step_id] = now
            values["started_at"] = now
        batch.steps.append(StepUpdate(self.id, step_id, values))
        self._event(
            batch, EventType.STEP_STARTED, step_id, attempt=self.attempts[step_id]
        )

    def _unblock(self, step_id: str, queue: deque[str]) -> None:
        for dependent in self.dependents[step_id]:
            waiting = self.waiting[dependent]
            waiting.discard(step_id)
            if not waiting:
                queue.append(dependent)

    def _all_final(self) -> bool:
        # Final states never change back, so a step once seen final is not checked
        # again.
        while self._unsettled:
            if not self.status[self._unsettled[-1]].is_final:
                return False
            self._unsettled.pop()
        return True

    # --- one step ----------------------------------------------------------------

    async def _step(self, step_id: str) -> None:
        # A step that unblocks exactly one other runs it in this same task: a chain
        # then costs no task creation per step.
        next_id: str | None = step_id
        while next_id is not None:
            next_id = await self._run_step(next_id)

    async def _run_step(self, step_id: str) -> str | None:
        step = self.steps[step_id]
        with log_fields(step_id=step_id, agent_id=step.agent):
            return await self._run_step_attempts(step)

    async def _run_step_attempts(self, step: StepSpec) -> str | None:
        step_id = step.id
        agent = self.catalogue.get(step.agent or "")
        backoff = Backoff.for_step(step.retry, self.settings)
        while True:
            with log_fields(attempt=self.attempts[step_id]):
                if self._trace is None:
                    output, error = await self._attempt(step, agent)
                else:
                    output, error = await self._traced_attempt(step, agent, backoff)
            if error is None:
                launch = await self._succeed(step_id, output or {})
                assert self._tg is not None
                for other in launch[1:]:
                    self._tg.start_soon(self._step, other)
                return launch[0] if launch else None
            self.failures[step_id] += 1
            if error.retryable and self.failures[step_id] <= backoff.max_retries:
                delay = backoff.delay(self.failures[step_id])
                batch = WriteBatch()
                self.status[step_id] = StepStatus.RETRYING
                message = clean_text(str(error))
                batch.steps.append(
                    StepUpdate(
                        self.id,
                        step_id,
                        {"status": StepStatus.RETRYING, "error": message},
                    )
                )
                self._event(
                    batch,
                    EventType.STEP_RETRYING,
                    step_id,
                    attempt=self.attempts[step_id],
                    data={
                        "error": message,
                        "error_type": type(error).__name__,
                        "delay_ms": round(delay * 1000),
                        "next_attempt": self.attempts[step_id] + 1,
                    },
                )
                await self.writer.commit(batch)
                with anyio.CancelScope() as waiting:
                    self._backoffs.add(waiting)
                    if self.handing_back:
                        waiting.cancel()
                    await anyio.sleep(delay)
                self._backoffs.discard(waiting)
                if waiting.cancel_called:
                    return None  # handed back: the retry runs on another worker
                batch = WriteBatch()
                self._start_attempt(step_id, batch, utcnow())
                await self.writer.commit(batch)
                continue
            await self._fail(step_id, error)
            return None

    async def _traced_attempt(
        self, step: StepSpec, agent: Agent | None, backoff: Backoff
    ) -> tuple[dict[str, Any] | None, AgentError | None]:
        """`_attempt` inside a span of its own, a child of the execution's."""
        assert self._trace is not None
        with self._trace.attempt(step.id, step.agent, self.attempts[step.id]) as span:
            output, error = await self._attempt(step, agent)
            if error is not None:
                # What `_run_step_attempts` decides next, this failure counted.
                retrying = (
                    error.retryable and self.failures[step.id] < backoff.max_retries
                )
                span.failed(error, retrying=retrying)
        return output, error

    async def _attempt(
        self, step: StepSpec, agent: Agent | None
    ) -> tuple[dict[str, Any] | None, AgentError | None]:
        if agent is None:
            return None, NonRetryableAgentError(
                f"agent '{step.agent}' of step '{step.id}' is not registered here"
            )
        try:
            scope = self.expansion.scope_of(step.id)
            inputs = agent.input_model.model_validate(scope.resolve(step.inputs))
        except ValidationError as exc:
            return None, NonRetryableAgentError(
                f"inputs of step '{step.id}' do not fit agent '{agent.id}': "
                + _summarise(exc)
            )
        ctx = self._context(step, agent)
        timeout_ms = step.timeout_ms or self.settings.timeout_ms
        try:
            with anyio.move_on_after(timeout_ms / 1000) as deadline:
                result = await agent.run(inputs, ctx)
            if deadline.cancelled_caught:
                return None, AgentTimeout(
                    f"step '{step.id}' (agent '{agent.id}') ran over its time limit of "
                    f"{timeout_ms} ms on attempt {ctx.attempt}"
                )
        except AgentError as exc:
            return None, exc
        except Exception as exc:  # an agent's bug or an unexpected library error
            ctx.logger.exception("agent %s failed unexpectedly", agent.id)
            return None, AgentError(f"{type(exc).__name__}: {exc}")
        try:
            if not isinstance(result, BaseModel):
                result = agent.output_model.model_validate(result)
            output: dict[str, Any] = storable_json(result.model_dump(mode="json"))
        except ValidationError as exc:
            return None, NonRetryableAgentError(
                f"agent '{agent.id}' returned output that does not fit its output "
                "model: " + _summarise(exc)
            )
        except NotStorable as exc:
            return None, OutputNotStorable(f"the step's output cannot be stored: {exc}")
        return output, None

    def _context(self, step: StepSpec, agent: Agent) -> AgentContext:
        attempt = self.attempts[step.id]
        # The ids ride along as record attributes too, for lines an agent logs from
        # a thread or task of its own that does not inherit the log fields.
        logger = logging.LoggerAdapter(
            logging.getLogger(f"agent_orchestrator.agents.{agent.id}"),
            {
                "execution_id": self.id,
                "tenant_id": self.record.tenant_id,
                "step_id": step.id,
                "agent_id": agent.id,
                "attempt": attempt,
            },
        )

        async def progress(
            message: str, fraction: float | None, data: Mapping[str, Any] | None
        ) -> None:
            batch = WriteBatch()
            payload: dict[str, Any] = {"message": message}
            if fraction is not None:
                payload["fraction"] = max(0.0, min(1.0, float(fraction)))
            if data:
                payload["data"] = dict(data)
            try:
                payload = storable_json(payload)
            except NotStorable as exc:
                raise OutputNotStorable(
                    f"the step's progress event cannot be stored: {exc}"
                ) from None
            self._event(
                batch, EventType.STEP_PROGRESS, step.id, attempt=attempt, data=payload
            )
            await self.writer.commit(batch)

        return AgentContext(
            tenant_id=self.record.tenant_id,
            execution_id=self.id,
            step_id=step.id,
            agent_id=agent.id,
            attempt=attempt,
            logger=logger,
            progress=progress,
            role=self.record.role,
        )

    def _record_success(
        self,
        step_id: str,
        output: dict[str, Any],
        batch: WriteBatch,
        now: dt.datetime,
    ) -> None:
        """Mark the step SUCCEEDED with `output`: its row and STEP_SUCCEEDED."""
        self.status[step_id] = StepStatus.SUCCEEDED
        self.outputs[step_id] = output
        duration = _ms(self.step_started.get(step_id), now)
        batch.steps.append(
            StepUpdate(
                self.id,
                step_id,
                {
                    "status": StepStatus.SUCCEEDED,
                    "completed_at": now,
                    "duration_ms": duration,
                    "output": output,
                    "error": None,
                },
            )
        )
        self._event(
            batch,
            EventType.STEP_SUCCEEDED,
            step_id,
            attempt=self.attempts[step_id],
            data={"duration_ms": duration},
        )

    async def _succeed(self, step_id: str, output: dict[str, Any]) -> list[str]:
        now = utcnow()
        seq = self.seq
        batch = WriteBatch()
        self._record_success(step_id, output, batch, now)
        queue: deque[str] = deque()
        self._unblock(step_id, queue)
        self.expansion.settle(step_id, batch, now, queue)
        launch = self._ready(queue, batch)
        if self.failure is None and self._all_final():
            self._complete(batch)
        try:
            await self.writer.commit(batch)
        except NotStorable as exc:
            # The database refused what the checks above let through; nothing of the
            # batch is stored, and writing it again would fail again.
            self._forget(step_id, batch, seq)
            await self._fail(
                step_id, OutputNotStorable(f"the step's output cannot be stored: {exc}")
            )
            return []
        if self.failure is not None and self._scope is not None:
            # A step this success started failed at once (a for-each's list, an
            # approval's unusable inputs).
            self._scope.cancel()
            return []
        return launch

    def _forget(self, step_id: str, batch: WriteBatch, seq: int) -> None:
        """Undo in memory what `_succeed` did for a batch that was not stored: the
        step's success and the starts, skips and end that followed from it."""
        self.outputs.pop(step_id, None)
        self.status[step_id] = StepStatus.RUNNING
        self.final_status = None
        for update in batch.steps:
            if update.step_id == step_id:
                continue
            # Only PENDING steps are started or skipped.
            self.status[update.step_id] = StepStatus.PENDING
            if "attempts" in update.values:
                self.attempts[update.step_id] -= 1
            if "started_at" in update.values:
                self.step_started[update.step_id] = None
        if self.seq == seq + len(batch.events):
            self.seq = seq  # no later event took a number meanwhile
        self._unsettled = [
            s.id for s in reversed(self.graph.steps) if not self.status[s.id].is_final
        ]

    async def _fail(self, step_id: str, error: AgentError) -> None:
        batch = WriteBatch()
        self._fail_in(batch, step_id, error, utcnow())
        await self.writer.commit(batch)
        if self._scope is not None:
            self._scope.cancel()

    def _fail_in(
        self, batch: WriteBatch, step_id: str, error: AgentError, now: dt.datetime
    ) -> None:
        """Add a step's failure to `batch`; the execution fails with it."""
        message = clean_text(str(error))
        self.status[step_id] = StepStatus.FAILED
        batch.steps.append(
            StepUpdate(
                self.id,
                step_id,
                {
                    "status": StepStatus.FAILED,
                    "completed_at": now,
                    "duration_ms": _ms(self.step_started.get(step_id), now),
                    "error": message,
                },
            )
        )
        data: dict[str, Any] = {
            "error": message,
            "error_type": type(error).__name__,
            "retryable": error.retryable,
            "attempts": self.attempts[step_id],
        }
        if error.code is not None:
            data["error_code"] = error.code
        self._event(
            batch,
            EventType.STEP_FAILED,
            step_id,
            attempt=self.attempts[step_id],
            data=data,
        )
        self.expansion.fail_parents(step_id, batch, now)
        if self.failure is None:
            self.failure = (step_id, message)

    # --- the end -----------------------------------------------------------------

    def _complete(self, batch: WriteBatch) -> None:
        now = utcnow()
        result = self._result()
        duration = _ms(self.started_at, now)
        self.final_status = ExecutionStatus.SUCCEEDED
        batch.executions.append(
            ExecutionUpdate(
                self.id,
                {
                    "status": ExecutionStatus.SUCCEEDED,
                    "completed_at": now,
                    "duration_ms": duration,
                    "result": result,
                },
            )
        )
        self._event(
            batch, EventType.EXECUTION_SUCCEEDED, data={"duration_ms": duration}
        )

    def _result(self) -> dict[str, Any]:
        if self.graph.outputs:
            return dict(self.scope.resolve(self.graph.outputs))
        # Without declared outputs, the result is what the last steps produced.
        sinks = [s.id for s in self.graph.steps if not self.dependents[s.id]]
        return {s: self.scope.outputs.get(s) for s in sinks}

    async def _finalise(self) -> None:
        now = utcnow()
        batch = WriteBatch()
        cancelled = [s for s, st in self.status.items() if not st.is_final]
        for step_id in cancelled:
            self.status[step_id] = StepStatus.CANCELLED
            batch.steps.append(
                StepUpdate(
                    self.id,
                    step_id,
                    {"status": StepStatus.CANCELLED, "completed_at": now},
                )
            )
        duration = _ms(self.started_at, now)
        if self.failure is not None:
            failed_step, message = self.failure
            status, kind = ExecutionStatus.FAILED, EventType.EXECUTION_FAILED
            error = (
                message
                if failed_step is None
                else f"step '{failed_step}' failed: {message}"
            )
            data: dict[str, Any] = {"step_id": failed_step, "error": message}
        else:
            status, kind = ExecutionStatus.CANCELLED, EventType.EXECUTION_CANCELLED
            error = "cancelled on request"
            data = {}
        # The graph's own steps by id; for-each elements and sub-workflow steps by
        # number (a for-each may have a thousand).
        top = [s for s in cancelled if s in self.record_steps]
        data.update(
            cancelled_steps=top,
            cancelled_step_runs=len(cancelled),
            duration_ms=duration,
        )
        batch.executions.append(
            ExecutionUpdate(
                self.id,
                {
                    "status": status,
                    "completed_at": now,
                    "duration_ms": duration,
                    "error_message": error,
                },
            )
        )
        self._event(batch, kind, data=data)
        self.final_status = status
        await self.writer.commit(batch)

    def _event(
        self,
        batch: WriteBatch,
        kind: EventType,
        step_id: str | None = None,
        *,
        attempt: int | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> ExecutionEvent:
        self.seq += 1
        event = ExecutionEvent(
            execution_id=self.id,
            tenant_id=self.record.tenant_id,
            seq=self.seq,
            type=kind,
            at=utcnow(),
            step_id=step_id,
            agent_id=self.steps[step_id].agent if step_id else None,
            attempt=attempt,
            data=dict(data or {}),
        )
        batch.events.append(event)
        return event


def _ms(start: dt.datetime | None, end: dt.datetime) -> int | None:
    if start is None:
        return None
    return max(0, round((end - start).total_seconds() * 1000))


def _summarise(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False)[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "input"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)
