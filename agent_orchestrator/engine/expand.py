"""Sub-workflows and for-each steps, expanded into step runs of their own while an
execution runs (DESIGN.md "Workflow graph": sub-workflow, for each).

A *composite* step runs no agent itself. When it becomes ready it is expanded:

* a for-each step ``book`` into one element per item of its list, ``book[0]``,
  ``book[1]``, ... (each the same step without `for_each`, with ``${item}`` and
  ``${index}`` bound), at most `max_concurrency` running at a time;
* a sub-workflow step ``each[3]`` into the steps of its graph, ``each[3].ocr``, ...,
  whose ``${vars...}`` are the step's inputs and whose ``${steps...}`` are their
  siblings.

Children are ordinary step runs of the execution: stored (PENDING, in the same
transaction that starts them), retried, timed out, cancelled and announced like any
other step, under their own ids. A composite succeeds when all its children have ended
(its output: ``{"items": [...]}`` in order, or the sub-workflow's `outputs`) and fails
with the first child that fails after its retries.

Durability: the list of a for-each comes from stored outputs and a sub-workflow's graph
is pinned in the execution's graph, so a resume expands every composite again into the
same ids, takes the stored state of each child, and runs only those that had not
ended: a finished element never runs again.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.enums import EventType, StepStatus
from ..core.errors import NonRetryableAgentError, ValidationFailed
from ..core.graph import PrefixedOutputs, Scope, StepSpec, parse_condition
from ..core.protocols import NewStepRun, StepRecord, StepUpdate
from ..core.text import clean_text
from ..core.validation import resolve_variables

if TYPE_CHECKING:
    import datetime as dt

    from ..core.protocols import WriteBatch
    from .run import ExecutionRun


@dataclass(slots=True)
class Composite:
    """The state of one expanded composite step.

    Attributes:
        children: Its children's step ids, in order (elements by index).
        limit: Children running at a time (None: no limit, a sub-workflow's steps).
        backlog: Elements not yet started, in order.
        running: Elements started and not ended.
        open: Children not ended.
        scope: What a sub-workflow's `outputs` resolve against.
        spec: The step.
    """

    spec: StepSpec
    children: list[str]
    limit: int | None
    scope: Scope | None = None
    backlog: deque[str] = field(default_factory=deque)
    running: int = 0
    open: int = 0


class Expansion:
    """The composite steps of one execution run and their children."""

    def __init__(self, run: ExecutionRun, stored: tuple[StepRecord, ...]) -> None:
        self.run = run
        self.stored = {record.step_id: record for record in stored}
        self.composites: dict[str, Composite] = {}
        self.parents: dict[str, str] = {}
        self.scopes: dict[str, Scope] = {}
        self.next_position = len(stored)

    @staticmethod
    def is_composite(step: StepSpec) -> bool:
        """Whether a step runs children rather than an agent."""
        return step.for_each is not None or step.workflow is not None

    def scope_of(self, step_id: str) -> Scope:
        """What a step's references resolve against."""
        return self.scopes.get(step_id, self.run.scope)

    def progress(self) -> int:
        """Steps of every level that had ended when the run began (a resume's
        measure of progress)."""
        return sum(1 for record in self.stored.values() if record.status.is_final)

    # --- starting a composite -------------------------------------------------------

    def start(
        self, step_id: str, batch: WriteBatch, now: dt.datetime, queue: deque[str]
    ) -> None:
        """Start a ready composite: expand it and queue the children that may run."""
        run = self.run
        run.status[step_id] = StepStatus.RUNNING
        if run.step_started.get(step_id) is None:
            run.step_started[step_id] = now
            run.attempts[step_id] = 1
            batch.steps.append(
                StepUpdate(
                    run.id,
                    step_id,
                    {"status": StepStatus.RUNNING, "attempts": 1, "started_at": now},
                )
            )
            run._event(batch, EventType.STEP_STARTED, step_id, attempt=1)
        spec = run.steps[step_id]
        try:
            if spec.for_each is not None:
                composite = self._elements(step_id, spec, batch)
            else:
                composite = self._sub_workflow(step_id, spec, batch)
        except NonRetryableAgentError as exc:
            run._fail_in(batch, step_id, exc, now)
            return
        self.composites[step_id] = composite
        for child in composite.children:
            status = run.status[child]
            if status.is_final:
                if status is StepStatus.FAILED:
                    # Stored failed without its parent (not written so, but safe).
                    run._fail_in(
                        batch,
                        step_id,
                        NonRetryableAgentError(f"step '{child}' failed"),
                        now,
                    )
                    return
                continue
            composite.open += 1
            if status is not StepStatus.PENDING:
                # Cut short by a crash: it runs again, unless that was its last try.
                if run._used_up(child):
                    run._fail_interrupted(child, batch)
                    return
                run.status[child] = StepStatus.PENDING
            if composite.limit is None:
                if not run.waiting[child]:
                    queue.append(child)
            else:
                composite.backlog.append(child)
        self._release(composite, queue)
        if composite.open == 0:
            self._succeed(step_id, batch, now, queue)

    def _elements(self, step_id: str, spec: StepSpec, batch: WriteBatch) -> Composite:
        run = self.run
        scope = self.scope_of(step_id)
        items = (
            scope.resolve(spec.for_each)
            if isinstance(spec.for_each, str)
            else list(spec.for_each or [])
        )
        if items is None:
            items = []  # the list's step was skipped, or gave no list: nothing to do
        if not isinstance(items, list):
            raise NonRetryableAgentError(
                f"for_each of step '{step_id}' gave {type(items).__name__}, not a "
                f"list ({spec.for_each})"
            )
        limit = run.settings.max_foreach_items
        if len(items) > limit:
            raise NonRetryableAgentError(
                f"for_each of step '{step_id}' has {len(items)} elements; at most "
                f"{limit} are allowed (AGENT_MAX_FOREACH_ITEMS): split the list, "
                "e.g. by folder or month"
            )
        self._within_budget(step_id, len(items))
        element = spec.model_copy(update={"for_each": None, "max_concurrency": None})
        children = []
        for index, item in enumerate(items):
            child = f"{step_id}[{index}]"
            self._add(
                child,
                element.model_copy(update={"id": child, "when": None}),
                step_id,
                scope.element(item, index),
                batch,
            )
            run.waiting[child] = set()
            children.append(child)
        return Composite(spec, children, spec.concurrency)

    def _sub_workflow(
        self, step_id: str, spec: StepSpec, batch: WriteBatch
    ) -> Composite:
        run = self.run
        graph = spec.workflow.graph if spec.workflow else None
        if graph is None:
            raise NonRetryableAgentError(
                f"the sub-workflow of step '{step_id}' was not pinned to a graph when "
                "the execution started; start the execution again"
            )
        self._within_budget(step_id, len(graph.steps))
        try:
            values = resolve_variables(
                graph, self.scope_of(step_id).resolve(spec.inputs)
            )
        except ValidationFailed as exc:
            raise NonRetryableAgentError(
                f"the inputs of step '{step_id}' do not fit its sub-workflow: "
                + "; ".join(f"{p.path}: {p.message}" for p in exc.problems)
            ) from None
        prefix = f"{step_id}."
        scope = Scope(values, PrefixedOutputs(run.outputs, prefix))
        children = []
        dependencies = graph.dependencies()
        for inner in graph.steps:
            child = prefix + inner.id
            self._add(
                child, inner.model_copy(update={"id": child}), step_id, scope, batch
            )
            if inner.when:
                run.conditions[child] = parse_condition(inner.when)
            children.append(child)
        for inner in graph.steps:
            child = prefix + inner.id
            deps = [prefix + d for d in dependencies[inner.id]]
            run.waiting[child] = {
                d for d in deps if not run.status[d].lets_dependents_run
            }
            for dep in deps:
                run.dependents[dep].append(child)
        return Composite(spec, children, None, scope)

    def _within_budget(self, step_id: str, more: int) -> None:
        bound = self.run.settings.max_step_runs
        if len(self.run.steps) + more > bound:
            raise NonRetryableAgentError(
                f"step '{step_id}' would bring the execution to "
                f"{len(self.run.steps) + more} step runs; at most {bound} are allowed "
                "(AGENT_MAX_STEPS x AGENT_MAX_FOREACH_ITEMS): nest fewer for-each "
                "steps or split the work"
            )

    def _add(
        self, child: str, spec: StepSpec, parent: str, scope: Scope, batch: WriteBatch
    ) -> None:
        """Register a child, in the state it was stored in (PENDING if new)."""
        run = self.run
        run.steps[child] = spec
        run.dependents[child] = []
        self.parents[child] = parent
        self.scopes[child] = scope
        stored = self.stored.get(child)
        if stored is None:
            batch.new_steps.append(
                NewStepRun(
                    run.id,
                    run.record.tenant_id,
                    child,
                    spec.agent or "",
                    self.next_position,
                )
            )
            self.next_position += 1
            run.status[child] = StepStatus.PENDING
            run.attempts[child] = run.failures[child] = 0
            return
        run.status[child] = stored.status
        run.attempts[child] = stored.attempts
        run.step_started[child] = stored.started_at
        run.failures[child] = (
            stored.attempts
            if stored.status is StepStatus.RETRYING
            else max(stored.attempts - 1, 0)
        )
        if stored.status is StepStatus.SUCCEEDED:
            run.outputs[child] = stored.output or {}

    # --- children ending --------------------------------------------------------

    def settle(
        self, step_id: str, batch: WriteBatch, now: dt.datetime, queue: deque[str]
    ) -> None:
        """A child ended well (succeeded or skipped): start the next element, and
        end its parent when it was the last."""
        parent = self.parents.get(step_id)
        if parent is None:
            return
        composite = self.composites[parent]
        composite.open -= 1
        if composite.limit is not None:
            composite.running -= 1
            self._release(composite, queue)
        if composite.open == 0:
            self._succeed(parent, batch, now, queue)

    def _release(self, composite: Composite, queue: deque[str]) -> None:
        while composite.backlog and (
            composite.limit is None or composite.running < composite.limit
        ):
            composite.running += 1
            queue.append(composite.backlog.popleft())

    def _succeed(
        self, step_id: str, batch: WriteBatch, now: dt.datetime, queue: deque[str]
    ) -> None:
        run = self.run
        composite = self.composites[step_id]
        output = self._output(composite)
        run.status[step_id] = StepStatus.SUCCEEDED
        run.outputs[step_id] = output
        duration = _ms(run.step_started.get(step_id), now)
        batch.steps.append(
            StepUpdate(
                run.id,
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
        run._event(
            batch,
            EventType.STEP_SUCCEEDED,
            step_id,
            attempt=run.attempts[step_id],
            data={"duration_ms": duration, "children": len(composite.children)},
        )
        run._unblock(step_id, queue)
        self.settle(step_id, batch, now, queue)

    def _output(self, composite: Composite) -> dict[str, Any]:
        outputs = self.run.outputs
        if composite.limit is not None:
            return {"items": [outputs.get(child) for child in composite.children]}
        graph = composite.spec.workflow.graph if composite.spec.workflow else None
        assert graph is not None and composite.scope is not None
        if graph.outputs:
            return dict(composite.scope.resolve(graph.outputs))
        used = {d for deps in graph.dependencies().values() for d in deps}
        return {
            s.id: composite.scope.outputs.get(s.id)
            for s in graph.steps
            if s.id not in used
        }

    def fail_parents(self, step_id: str, batch: WriteBatch, now: dt.datetime) -> None:
        """A child failed after its retries: every composite above it fails with it,
        in the same transaction."""
        run = self.run
        child = step_id
        parent = self.parents.get(child)
        while parent is not None:
            if run.status[parent].is_final:
                return
            message = clean_text(f"step '{child}' failed")
            run.status[parent] = StepStatus.FAILED
            batch.steps.append(
                StepUpdate(
                    run.id,
                    parent,
                    {
                        "status": StepStatus.FAILED,
                        "completed_at": now,
                        "duration_ms": _ms(run.step_started.get(parent), now),
                        "error": message,
                    },
                )
            )
            run._event(
                batch,
                EventType.STEP_FAILED,
                parent,
                attempt=run.attempts[parent],
                data={"error": message, "failed_step": step_id, "retryable": False},
            )
            child, parent = parent, self.parents.get(parent)


def _ms(start: dt.datetime | None, end: dt.datetime) -> int | None:
    if start is None:
        return None
    return max(0, round((end - start).total_seconds() * 1000))
