"""What an execution's graph says about each of its step runs: the steps it waits for
and the inputs it ran with, for pages and clients that show an execution
(``StepRun.dependsOn`` and ``StepRun.inputs``).

Inputs are not stored with the step runs: they are resolved here from the stored graph,
variables and finished steps' outputs with the engine's own `core.graph.Scope`, as the
engine resolved them before its agent validated them (defaults the agent's input model
adds are not shown), at every level: a for-each's element against its item and index, a
sub-workflow's step against the sub-workflow's variables (its step's inputs) and its
sibling steps' outputs, however deep they nest.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from ..core.enums import StepStatus
from ..core.errors import ValidationFailed
from ..core.graph import PrefixedOutputs, Scope, StepSpec, parent_step, parse_graph
from ..core.validation import resolve_variables

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ..core.graph import WorkflowGraph
    from ..core.protocols import StepRecord

__all__ = ["StepDetails"]


class StepDetails:
    """The graph's view of an execution's step runs, worked out once when first asked.

    Args:
        graph: The execution's stored graph document.
        variables: Its resolved variables.
        steps: Its step runs.
    """

    def __init__(
        self,
        graph: Mapping[str, Any],
        variables: Mapping[str, Any],
        steps: Sequence[StepRecord],
    ) -> None:
        self._document = graph
        self._variables = variables
        self._steps = {s.step_id: s for s in steps}
        self._specs: dict[str, StepSpec | None] = {}
        self._scopes: dict[str, Scope | None] = {}

    @functools.cached_property
    def _graph(self) -> WorkflowGraph | None:
        try:
            return parse_graph(self._document)
        except ValidationFailed:
            return None  # stored before a change of the format: nothing to tell

    @functools.cached_property
    def _outputs(self) -> dict[str, Mapping[str, Any] | None]:
        """Every finished step's output, at every level, as the engine keeps them."""
        return {
            step_id: step.output or {}
            for step_id, step in self._steps.items()
            if step.status is StepStatus.SUCCEEDED
        }

    def _spec(self, step_id: str) -> StepSpec | None:
        """The spec a step run runs: the graph's step, a for-each's element (the
        for-each's spec without its list) or a sub-workflow's step."""
        if step_id not in self._specs:
            self._specs[step_id] = self._find_spec(step_id)
        return self._specs[step_id]

    def _find_spec(self, step_id: str) -> StepSpec | None:
        if self._graph is None:
            return None
        parent, index = parent_step(step_id)
        if parent is None:
            try:
                return self._graph.step(step_id)
            except KeyError:
                return None
        outer = self._spec(parent)
        if outer is None:
            return None
        if index is not None:
            if outer.for_each is None:
                return None
            return outer.model_copy(update={"id": step_id, "for_each": None})
        inner = outer.workflow.graph if outer.workflow is not None else None
        if inner is None:
            return None
        try:
            return inner.step(step_id[len(parent) + 1 :])
        except KeyError:
            return None

    def _scope(self, step_id: str) -> Scope | None:
        """What a step run's references resolve against, as the engine builds it."""
        if step_id not in self._scopes:
            self._scopes[step_id] = self._find_scope(step_id)
        return self._scopes[step_id]

    def _find_scope(self, step_id: str) -> Scope | None:
        parent, index = parent_step(step_id)
        if parent is None:
            return Scope(self._variables, self._outputs)
        outer, scope = self._spec(parent), self._scope(parent)
        if outer is None or scope is None:
            return None
        if index is not None:
            if outer.for_each is None:
                return None
            items = (
                scope.resolve(outer.for_each)
                if isinstance(outer.for_each, str)
                else outer.for_each
            )
            if not isinstance(items, list) or index >= len(items):
                return None
            return scope.element(items[index], index)
        inner = outer.workflow.graph if outer.workflow is not None else None
        if inner is None:
            return None
        try:
            values = resolve_variables(inner, scope.resolve(outer.inputs))
        except ValidationFailed:
            return None  # the sub-workflow did not start: its inputs did not fit
        return Scope(values, PrefixedOutputs(self._outputs, f"{parent}."))

    def depends_on(self, step_id: str) -> list[str]:
        """The graph's steps that `step_id` waits for (its ``depends_on`` and every
        step its inputs, ``for_each`` or ``when`` refer to), in graph order; none for
        a for-each's element or a sub-workflow's step."""
        if parent_step(step_id)[0] is not None or self._spec(step_id) is None:
            return []
        assert self._graph is not None  # a step was found in it
        waits = self._graph.dependencies()[step_id]
        return [s.id for s in self._graph.steps if s.id in waits]

    def inputs(self, step_id: str) -> dict[str, Any] | None:
        """The inputs `step_id` ran (or runs) with; None before it started, for a step
        that did not run and for a for-each step itself (its elements have theirs)."""
        step = self._steps.get(step_id)
        if step is None or step.attempts == 0 or step.status is StepStatus.SKIPPED:
            return None
        spec, scope = self._spec(step_id), self._scope(step_id)
        if spec is None or scope is None or spec.for_each is not None:
            return None
        return _as_object(scope.resolve(spec.inputs))


def _as_object(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, dict) else None
