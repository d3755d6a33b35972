"""What an execution's graph says about each of its step runs: the steps it waits for
and the inputs it ran with, for pages and clients that show an execution
(``StepRun.dependsOn`` and ``StepRun.inputs``).

Inputs are not stored with the step runs: they are resolved here from the stored graph,
variables and finished steps' outputs with the engine's own `core.graph.Scope`, as the
engine resolved them before its agent validated them (defaults the agent's input model
adds are not shown).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from ..core.enums import StepStatus
from ..core.errors import ValidationFailed
from ..core.graph import Scope, StepSpec, parent_step, parse_graph

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

    @functools.cached_property
    def _graph(self) -> WorkflowGraph | None:
        try:
            return parse_graph(self._document)
        except ValidationFailed:
            return None  # stored before a change of the format: nothing to tell

    @functools.cached_property
    def _scope(self) -> Scope:
        outputs = {
            step_id: step.output or {}
            for step_id, step in self._steps.items()
            if step.status is StepStatus.SUCCEEDED and parent_step(step_id)[0] is None
        }
        return Scope(self._variables, outputs)

    def _spec(self, step_id: str) -> StepSpec | None:
        if self._graph is None:
            return None
        try:
            return self._graph.step(step_id)
        except KeyError:
            return None

    def depends_on(self, step_id: str) -> list[str]:
        """The graph's steps that `step_id` waits for (its ``depends_on`` and every
        step its inputs, ``for_each`` or ``when`` refer to), in graph order; none for
        a for-each's element or a sub-workflow's step."""
        spec = self._spec(step_id)
        if spec is None or self._graph is None:
            return []
        waits = self._graph.dependencies()[step_id]
        return [s.id for s in self._graph.steps if s.id in waits]

    def inputs(self, step_id: str) -> dict[str, Any] | None:
        """The inputs `step_id` ran (or runs) with; None before it started, for a step
        that did not run, for a for-each step itself (its elements have theirs) and
        inside a sub-workflow."""
        step = self._steps.get(step_id)
        if step is None or step.attempts == 0 or step.status is StepStatus.SKIPPED:
            return None
        parent, index = parent_step(step_id)
        if parent is None:
            spec = self._spec(step_id)
            if spec is None or spec.for_each is not None:
                return None
            return _as_object(self._scope.resolve(spec.inputs))
        spec = self._spec(parent)
        if index is None or spec is None or spec.for_each is None:
            return None
        items = (
            self._scope.resolve(spec.for_each)
            if isinstance(spec.for_each, str)
            else spec.for_each
        )
        if not isinstance(items, list) or index >= len(items):
            return None
        return _as_object(self._scope.element(items[index], index).resolve(spec.inputs))


def _as_object(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, dict) else None
