"""The one validator every workflow goes through: templates, saved workflows, ad-hoc
graphs and planner output alike (DESIGN.md "Workflow graph").

It reports **all** problems, each with a precise path: unknown agents, duplicate ids,
cycles, references to unknown steps, variables or output fields, inputs that do not fit
the agent's input schema (types checked through references), missing required
variables, and agents the caller's role may not use. Its problem list is also what the
planner's repair loop hands back to the model.

A graph with more steps than ``AGENT_MAX_STEPS`` is refused before anything else is
checked: every step costs work in the validator, the store and the engine, so one
request must not be able to ask for thousands.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, cast

from pydantic import BaseModel, TypeAdapter, ValidationError

from .approvals import APPROVAL_AGENT, approval_gaps
from .errors import Problem, ValidationFailed
from .graph import (
    ConditionSyntaxError,
    Reference,
    ReferenceSyntaxError,
    StepSpec,
    VariableSpec,
    WorkflowGraph,
    WorkflowRef,
    iter_references,
    parse_condition,
    parse_graph,
)

if TYPE_CHECKING:
    from typing_extensions import TypeForm

    from .enums import Role
    from .protocols import Agent, AgentCatalogue

JsonSchema = Mapping[str, Any]
#: The default of ``AGENT_MAX_STEPS``: steps one graph may have.
MAX_STEPS = 200
#: The default of ``AGENT_MAX_FOREACH_ITEMS``: elements one for-each may run.
MAX_FOREACH_ITEMS = 1000
#: How deep sub-workflows may nest (a top-level graph is depth 0).
MAX_DEPTH = 3
#: The longest step id a step run may have (the stored column's width).
MAX_STEP_RUN_ID = 64
#: Gives a template's or saved workflow's graph, or a message saying why it cannot.
SubworkflowResolver = Callable[[WorkflowRef], "WorkflowGraph | str"]
_ANY: frozenset[str] | None = None  # "could be anything": fits everywhere

_VARIABLE_JSON_TYPES: dict[str, frozenset[str]] = {
    "string": frozenset({"string"}),
    "date": frozenset({"string"}),
    "number": frozenset({"number", "integer"}),
    "integer": frozenset({"integer"}),
    "boolean": frozenset({"boolean"}),
    "array": frozenset({"array"}),
    "object": frozenset({"object"}),
}


def validate_workflow(
    document: WorkflowGraph | Mapping[str, Any],
    catalogue: AgentCatalogue,
    *,
    role: Role | None = None,
    variables: Mapping[str, Any] | None = None,
    max_steps: int = MAX_STEPS,
    resolve: SubworkflowResolver | None = None,
    origin: str | None = None,
    max_foreach_items: int = MAX_FOREACH_ITEMS,
    require_approval_for: Collection[str] = (),
) -> WorkflowGraph:
    """Check a workflow before anything runs.

    Args:
        document: The workflow, parsed or as JSON.
        catalogue: The agents that exist.
        role: The caller's role; agents that need a higher one are refused.
        variables: When given, the values an execution starts with: required ones must
            be present and every value must fit its declared type.
        max_steps: ``AGENT_MAX_STEPS``; a graph with more steps is refused with that
            one problem. Steps of sub-workflows count too, once per place they are
            used (a for-each's elements are bounded by `max_foreach_items` instead).
        resolve: Gives the graph of a template or saved workflow a sub-workflow step
            names (or a message saying why not); without it only inline graphs can be
            checked.
        origin: The `WorkflowRef.key` of the workflow being checked (a saved
            workflow's own id when it is saved): including it is refused.
        max_foreach_items: ``AGENT_MAX_FOREACH_ITEMS``; bounds the index digits of
            element step ids.
        require_approval_for: ``AGENT_REQUIRE_APPROVAL_FOR``: agents that must have
            an ``approval_agent`` step before them on every path from the start (in
            the graph's own steps).

    Returns:
        The parsed graph.

    Raises:
        ValidationFailed: With every problem found.
    """
    graph = parse_graph(document)
    if len(graph.steps) > max_steps:
        raise ValidationFailed(
            [
                Problem(
                    "steps",
                    f"the graph has {len(graph.steps)} steps; at most {max_steps} are "
                    "allowed (AGENT_MAX_STEPS); split the work into several workflows",
                    "too_many_steps",
                )
            ]
        )
    checker = _GraphChecker(
        graph,
        catalogue,
        role,
        _Nesting(resolve, max_steps, max_foreach_items),
        stack=(origin,) if origin else (),
    )
    problems = list(checker.problems())
    problems.extend(_approval_problems(checker, require_approval_for))
    if variables is not None:
        try:
            resolve_variables(graph, variables)
        except ValidationFailed as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationFailed(problems)
    return graph


def resolve_variables(
    graph: WorkflowGraph, provided: Mapping[str, Any]
) -> dict[str, Any]:
    """The values an execution runs with: provided ones checked, defaults filled in.

    Dates are normalised to ISO ``YYYY-MM-DD`` text.

    Raises:
        ValidationFailed: Missing required, unknown or ill-typed variables.
    """
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for name in provided:
        if name not in graph.variables:
            known = ", ".join(sorted(graph.variables)) or "none"
            problems.append(
                Problem(
                    f"variables.{name}",
                    f"unknown variable '{name}'; "
                    f"this workflow's variables are: {known}",
                    "unknown_variable",
                )
            )
    for name, spec in graph.variables.items():
        if name in provided and provided[name] is not None:
            ok, value = _coerce_variable(spec, provided[name])
            if not ok:
                problems.append(
                    Problem(
                        f"variables.{name}",
                        f"'{name}' must be {_describe_type(spec.type)}, got "
                        f"{provided[name]!r}",
                        "type_mismatch",
                    )
                )
                continue
            values[name] = value
        elif spec.default is not None:
            values[name] = spec.default
        elif spec.required:
            problems.append(
                Problem(
                    f"variables.{name}",
                    f"required variable '{name}' is missing"
                    + (f" ({spec.description})" if spec.description else ""),
                    "missing_variable",
                )
            )
        else:
            values[name] = None
    if problems:
        raise ValidationFailed(problems)
    return values


def _describe_type(kind: str) -> str:
    return {
        "date": "an ISO date YYYY-MM-DD",
        "integer": "an integer",
        "number": "a number",
        "boolean": "true or false",
        "array": "a list",
        "object": "an object",
    }.get(kind, "a string")


def _coerce_variable(spec: VariableSpec, value: Any) -> tuple[bool, Any]:
    kind = spec.type
    if kind == "date":
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return True, value.isoformat()
        if isinstance(value, str):
            try:
                return True, dt.date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                return False, value
        return False, value
    if kind == "string":
        return isinstance(value, str), value
    if kind == "boolean":
        return isinstance(value, bool), value
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok and isinstance(value, float) and value.is_integer():
            return True, int(value)
        return ok, value
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool), value
    if kind == "array":
        return isinstance(value, list), value
    return isinstance(value, dict), value


@dataclass
class _Nesting:
    """What all the graphs of one validation share: the resolver and the budget."""

    resolve: SubworkflowResolver | None
    max_steps: int
    max_items: int
    steps: int = 0  # counted so far, over every graph
    over: bool = False  # the step budget's problem was reported


def _guarded_agent(
    checker: _GraphChecker, i: int, guarded: Collection[str]
) -> str | None:
    """The first `guarded` agent that step `i` runs, inside its sub-workflows too."""
    step = checker.graph.steps[i]
    if step.agent in guarded:
        return step.agent
    sub = checker.sub_graphs.get(i)
    if sub is None:
        return None
    for j in range(len(sub.graph.steps)):
        found = _guarded_agent(sub, j, guarded)
        if found is not None:
            return found
    return None


def _approval_problems(
    checker: _GraphChecker, guarded: Collection[str]
) -> list[Problem]:
    """A problem for each step that runs a `guarded` agent without an approval
    before it on every path (DESIGN.md "Engine semantics", Approval). A step that runs
    a sub-workflow runs what the sub-workflow runs: a guarded agent inside it needs
    the approval before the step (approvals inside sub-workflows are refused)."""
    if not guarded:
        return []
    graph = checker.graph
    dependencies = checker.dependencies
    index = {step.id: i for i, step in enumerate(graph.steps)}
    steps = {
        step.id: (
            _guarded_agent(checker, i, guarded) or step.agent or "",
            dependencies[step.id],
            bool(step.when),
        )
        for i, step in enumerate(graph.steps)
    }
    return [
        Problem(
            f"steps[{index[step_id]}]",
            f"step '{step_id}' runs agent '{agent}', which AGENT_REQUIRE_APPROVAL_FOR "
            f"lists: put an '{APPROVAL_AGENT}' step before it on every path from the "
            f"start (make '{step_id}' depend on it, and the approval on what it "
            "approves; an approval with a `when` condition does not count)",
            "approval_required",
        )
        for step_id, agent in approval_gaps(steps, guarded)
    ]


class _GraphChecker:
    def __init__(
        self,
        graph: WorkflowGraph,
        catalogue: AgentCatalogue,
        role: Role | None,
        nesting: _Nesting,
        *,
        depth: int = 0,
        stack: tuple[str, ...] = (),
        id_room: int = MAX_STEP_RUN_ID,
    ):
        self.graph = graph
        self.catalogue = catalogue
        self.role = role
        self.nesting = nesting
        self.depth = depth
        self.stack = stack
        self.id_room = id_room  # characters left for this graph's step run ids
        self.index = {step.id: i for i, step in enumerate(graph.steps)}
        #: What each step waits for (read by several checks; computed once).
        self.dependencies = graph.dependencies()
        self.agents: dict[str, Agent] = {}  # by step id, first step with the id
        self.step_agents: list[Agent | None] = [None] * len(graph.steps)
        # by step id: the schema of the step's output (None: unknown, anything)
        self.outputs: dict[str, JsonSchema | None] = {}
        self.sub_graphs: dict[int, _GraphChecker] = {}
        self.items: dict[int, JsonSchema | None] = {}  # for-each element schemas

    def problems(self) -> Iterable[Problem]:
        yield from self._variables()
        self.nesting.steps += len(self.graph.steps)
        if self.nesting.steps > self.nesting.max_steps and not self.nesting.over:
            self.nesting.over = True
            yield Problem(
                "steps",
                f"the graph and its sub-workflows have {self.nesting.steps} steps or "
                f"more; at most {self.nesting.max_steps} are allowed (AGENT_MAX_STEPS);"
                " split the work into several workflows",
                "too_many_steps",
            )
        seen: dict[str, int] = {}
        for i, step in enumerate(self.graph.steps):
            if step.id in seen:
                yield Problem(
                    f"steps[{i}].id",
                    f"duplicate step id '{step.id}' (also steps[{seen[step.id]}]); "
                    "give every step its own id",
                    "duplicate_step",
                )
            else:
                seen[step.id] = i
            yield from self._id_length(i, step)
            if step.workflow is not None:
                yield from self._sub_workflow(i, step, step.workflow)
                continue
            if step.agent == APPROVAL_AGENT and (self.depth or step.for_each):
                # A decision reopens the execution at its own steps; elements and
                # sub-workflows are made as they run.
                yield Problem(
                    f"steps[{i}].agent",
                    f"step '{step.id}' asks for an approval inside "
                    + ("a sub-workflow" if self.depth else "a for-each")
                    + f"; put the '{APPROVAL_AGENT}' step in the top-level graph, "
                    "before the step that runs the sub-workflow or for-each",
                    "approval_not_top_level",
                )
            agent = self.catalogue.get(step.agent or "")
            if agent is None:
                known = ", ".join(a.id for a in self.catalogue)
                yield Problem(
                    f"steps[{i}].agent",
                    f"unknown agent '{step.agent}' in step '{step.id}'; known agents: "
                    f"{known}",
                    "unknown_agent",
                )
            else:
                self.agents.setdefault(step.id, agent)
                self.step_agents[i] = agent
                self.outputs.setdefault(step.id, _inlined(agent.output_model))
                if self.role is not None and not self.role.includes(agent.min_role):
                    yield Problem(
                        f"steps[{i}].agent",
                        f"agent '{agent.id}' in step '{step.id}' needs role "
                        f"{agent.min_role.value}; the caller has {self.role.value}",
                        "forbidden_agent",
                    )
        # Element types come from the steps the lists come from, so for-each steps
        # are typed in order of their dependencies.
        for i in self._dependency_order():
            step = self.graph.steps[i]
            if step.for_each is not None:
                yield from self._for_each(i, step)
        for i, step in enumerate(self.graph.steps):
            yield from self._step(i, step)
        yield from self._cycles()
        for name, value in self.graph.outputs.items():
            yield from self._references(f"outputs.{name}", value, None)

    def output_schema(self) -> JsonSchema:
        """The schema of what this graph gives as a sub-workflow: its `outputs`, or
        without them the outputs of its last steps by step id."""
        properties: dict[str, Any] = {}
        if self.graph.outputs:
            for name, value in self.graph.outputs.items():
                properties[name] = self._value_schema(value) or {}
        else:
            deps = self.dependencies
            used = {d for edges in deps.values() for d in edges}
            for step in self.graph.steps:
                if step.id not in used:
                    properties[step.id] = self.outputs.get(step.id) or {}
        return {"type": "object", "properties": properties}

    def _value_schema(self, value: Any) -> JsonSchema | None:
        if not isinstance(value, str):
            return None
        try:
            refs = list(iter_references(value))
        except ReferenceSyntaxError:
            return None
        if len(refs) != 1 or refs[0][1] != "whole":
            return {"type": "string"} if refs else None
        problems = self._reference("", refs[0][2], None)
        try:
            while True:
                next(problems)
        except StopIteration as done:
            return cast("JsonSchema | None", done.value)

    def _dependency_order(self) -> list[int]:
        deps = self.dependencies
        order: list[int] = []
        state: dict[str, int] = {}
        for start in self.graph.steps:
            work = [(start.id, False)]
            while work:
                node, leaving = work.pop()
                if leaving:
                    state[node] = 2
                    order.append(self.index[node])
                    continue
                if state.get(node) is not None or node not in self.index:
                    continue
                state[node] = 1
                work.append((node, True))
                work.extend((d, False) for d in sorted(deps.get(node, ())))
        return order

    def _id_length(self, i: int, step: StepSpec) -> Iterable[Problem]:
        longest = len(step.id) + (
            len(str(max(self.nesting.max_items - 1, 0))) + 2 if step.for_each else 0
        )
        if longest > self.id_room:
            used = MAX_STEP_RUN_ID - self.id_room
            yield Problem(
                f"steps[{i}].id",
                f"step '{step.id}' would run as ids of up to {longest + used} "
                f"characters inside its sub-workflows and for-each elements (like "
                f"'each[3].ocr'); at most {MAX_STEP_RUN_ID} fit: shorten the ids",
                "id_too_long",
            )

    def _sub_workflow(
        self, i: int, step: StepSpec, ref: WorkflowRef
    ) -> Iterable[Problem]:
        path = f"steps[{i}].workflow"
        self.outputs[step.id] = None
        if ref.key is not None and ref.key in self.stack:
            chain = " -> ".join((*self.stack[self.stack.index(ref.key) :], ref.key))
            yield Problem(
                path,
                f"step '{step.id}' runs {ref.describe()}, which includes itself "
                f"({chain}); a workflow cannot run itself as a sub-workflow",
                "self_inclusion",
            )
            return
        if self.depth + 1 > MAX_DEPTH:
            yield Problem(
                path,
                f"step '{step.id}' nests sub-workflows {self.depth + 1} deep; at most "
                f"{MAX_DEPTH} levels are allowed: flatten the inner workflows",
                "too_deep",
            )
            return
        # A template or saved workflow is checked as it is now (a `graph` stored
        # beside its name is the pinned copy an execution keeps); an inline graph as
        # given.
        graph: WorkflowGraph | str
        inner = path
        if ref.key is not None and self.nesting.resolve is not None:
            graph = self.nesting.resolve(ref)
        elif ref.graph is not None:
            graph = ref.graph
            inner = path if ref.key is not None else f"{path}.graph"
        else:
            graph = f"{ref.describe()} cannot be looked up here"
        if isinstance(graph, str):
            yield Problem(path, f"step '{step.id}': {graph}", "unknown_workflow")
            return
        stack = (*self.stack, ref.key) if ref.key else self.stack
        width = len(str(max(self.nesting.max_items - 1, 0))) + 2
        room = self.id_room - len(step.id) - 1 - (width if step.for_each else 0)
        sub = _GraphChecker(
            graph,
            self.catalogue,
            self.role,
            self.nesting,
            depth=self.depth + 1,
            stack=stack,
            id_room=room,
        )
        where = "" if ref.key is None else f"in {ref.describe()}: "
        for problem in sub.problems():
            if problem.code == "too_many_steps":
                yield problem
                continue
            yield Problem(
                f"{inner}.{problem.path}" if problem.path else inner,
                where + problem.message,
                problem.code,
            )
        self.sub_graphs[i] = sub
        self.outputs[step.id] = sub.output_schema()

    def _for_each(self, i: int, step: StepSpec) -> Iterable[Problem]:
        path = f"steps[{i}].for_each"
        value = step.for_each
        item: JsonSchema | None = None
        if isinstance(value, list):
            kinds = {_json_type(v) for v in value}
            # Scalars are typed; objects' fields are checked when the element runs.
            if len(kinds) == 1 and not kinds & {"object", "array", "null"}:
                item = {"type": kinds.pop()}
        else:
            assert isinstance(value, str)
            try:
                refs = list(iter_references(value))
            except ReferenceSyntaxError as exc:
                yield Problem(path, str(exc), "bad_reference")
                refs = []
            if len(refs) != 1 or refs[0][1] != "whole":
                yield Problem(
                    path,
                    f"for_each of step '{step.id}' must be one reference to a list, "
                    "e.g. ${steps.files.files}, or a JSON list",
                    "bad_for_each",
                )
            else:
                ref = refs[0][2]
                if ref.root in ("item", "index"):
                    yield Problem(
                        path,
                        f"{ref.text} is the element of the for-each itself; name the "
                        "list with ${steps.<id>.<field>} or ${vars.<name>}",
                        "bad_for_each",
                    )
                else:
                    source = yield from self._reference(path, ref, step)
                    given = _types(source)
                    if given is not None and not given & {"array"}:
                        yield Problem(
                            path,
                            f"{ref.text} gives {_describe_schema(source or {})}; "
                            f"for_each of step '{step.id}' needs a list",
                            "type_mismatch",
                        )
                    item = _element_schema(source)
        self.items[i] = item
        element = self.outputs.get(step.id)
        self.outputs[step.id] = {
            "type": "object",
            "properties": {"items": {"type": "array", "items": element or {}}},
        }

    def _variables(self) -> Iterable[Problem]:
        for name, spec in self.graph.variables.items():
            if spec.default is not None and not _coerce_variable(spec, spec.default)[0]:
                yield Problem(
                    f"variables.{name}.default",
                    f"default of '{name}' must be {_describe_type(spec.type)}",
                    "type_mismatch",
                )

    def _step(self, i: int, step: StepSpec) -> Iterable[Problem]:
        for j, dep in enumerate(step.depends_on):
            if dep not in self.index:
                yield Problem(
                    f"steps[{i}].depends_on[{j}]",
                    f"step '{step.id}' depends on unknown step '{dep}'",
                    "unknown_step",
                )
        if step.when is not None:
            try:
                condition = parse_condition(step.when)
            except (ConditionSyntaxError, ReferenceSyntaxError) as exc:
                yield Problem(f"steps[{i}].when", str(exc), "bad_condition")
            else:
                for ref in condition.references():
                    if ref.root in ("item", "index"):
                        yield Problem(
                            f"steps[{i}].when",
                            f"{ref.text} cannot be used in `when`: the condition "
                            "decides for the whole step, before its elements run",
                            "bad_reference",
                        )
                        continue
                    yield from self._reference(f"steps[{i}].when", ref, step)
        if step.workflow is not None:
            yield from self._sub_inputs(i, step)
            return
        agent = self.step_agents[i]
        fields = agent.input_model.model_fields if agent else {}
        schema = _schema(agent.input_model) if agent else {}
        for name, value in step.inputs.items():
            path = f"steps[{i}].inputs.{name}"
            if agent is not None and name not in fields:
                known = ", ".join(fields) or "none"
                yield Problem(
                    path,
                    f"agent '{agent.id}' has no input '{name}'; "
                    f"its inputs are: {known}",
                    "unknown_input",
                )
                continue
            target = _property_schema(schema, name) if agent else None
            yield from self._references(path, value, step, target, agent)
            if agent is not None and not _contains_reference(value):
                yield from _check_literal(path, agent.input_model, name, value)
        if agent is not None:
            for name, info in fields.items():
                if info.is_required() and name not in step.inputs:
                    yield Problem(
                        f"steps[{i}].inputs.{name}",
                        f"step '{step.id}' lacks required input '{name}' of agent "
                        f"'{agent.id}'",
                        "missing_input",
                    )

    def _sub_inputs(self, i: int, step: StepSpec) -> Iterable[Problem]:
        """A sub-workflow step's inputs are the sub-workflow's variables."""
        sub = self.sub_graphs.get(i)
        for name, value in step.inputs.items():
            path = f"steps[{i}].inputs.{name}"
            spec = sub.graph.variables.get(name) if sub else None
            if sub is not None and spec is None:
                known = ", ".join(sorted(sub.graph.variables)) or "none"
                yield Problem(
                    path,
                    f"the sub-workflow of step '{step.id}' has no variable '{name}'; "
                    f"its variables are: {known}",
                    "unknown_input",
                )
                continue
            target = _variable_schema(spec) if spec else None
            yield from self._references(
                path, value, step, target, None, f"the sub-workflow of '{step.id}'"
            )
            if spec is not None and not _contains_reference(value):
                if value is not None and not _coerce_variable(spec, value)[0]:
                    yield Problem(
                        path,
                        f"variable '{name}' of the sub-workflow of step '{step.id}' "
                        f"must be {_describe_type(spec.type)}, got {value!r}",
                        "invalid_input",
                    )
        if sub is not None:
            for name, spec in sub.graph.variables.items():
                if spec.required and spec.default is None and name not in step.inputs:
                    yield Problem(
                        f"steps[{i}].inputs.{name}",
                        f"step '{step.id}' lacks required variable '{name}' of its "
                        "sub-workflow"
                        + (f" ({spec.description})" if spec.description else ""),
                        "missing_input",
                    )

    def _references(
        self,
        path: str,
        value: Any,
        step: StepSpec | None,
        target: JsonSchema | None = None,
        agent: Agent | None = None,
        receiver: str | None = None,
    ) -> Iterable[Problem]:
        try:
            refs = list(iter_references(value))
        except ReferenceSyntaxError as exc:
            yield Problem(path, str(exc), "bad_reference")
            return
        for sub, how, ref in refs:
            where = f"{path}.{sub}" if sub and not sub.startswith("[") else path + sub
            source = yield from self._reference(where, ref, step)
            if (
                how == "whole"
                and target is not None
                and sub == ""
                and source is not None
            ):
                if not _fits(source, target):
                    who = receiver or f"agent '{agent.id if agent else '?'}'"
                    yield Problem(
                        where,
                        f"{ref.text} gives {_describe_schema(source)} but input "
                        f"'{path.rsplit('.', 1)[-1]}' of {who} needs "
                        f"{_describe_schema(target)}",
                        "type_mismatch",
                    )

    def _reference(
        self, path: str, ref: Reference, step: StepSpec | None
    ) -> Any:  # a generator that yields problems and returns the source schema
        if ref.root in ("item", "index"):
            if step is None or step.for_each is None:
                where = f"step '{step.id}'" if step else "the workflow's outputs"
                yield Problem(
                    path,
                    f"{ref.text} is only defined in a step with for_each; "
                    f"{where} has none",
                    "unknown_variable",
                )
                return None
            if ref.root == "index":
                return {"type": "integer"}
            return (
                yield from self._walk(
                    path, ref, self.items.get(self.index[step.id]), "the element"
                )
            )
        if ref.root == "vars":
            spec = self.graph.variables.get(ref.name)
            if spec is None:
                known = ", ".join(sorted(self.graph.variables)) or "none"
                yield Problem(
                    path,
                    f"{ref.text} names unknown variable '{ref.name}'; "
                    f"declared: {known}",
                    "unknown_variable",
                )
                return None
            if ref.path:
                return None
            return _variable_schema(spec)
        if ref.name not in self.index:
            yield Problem(
                path, f"{ref.text} names unknown step '{ref.name}'", "unknown_step"
            )
            return None
        if step is not None and ref.name == step.id:
            yield Problem(path, f"step '{step.id}' refers to its own output", "cycle")
            return None
        schema = self.outputs.get(ref.name)
        agent = self.agents.get(ref.name)
        what = f"step '{ref.name}'" + (f" (agent '{agent.id}')" if agent else "")
        return (yield from self._walk(path, ref, schema, what))

    def _walk(
        self, path: str, ref: Reference, schema: JsonSchema | None, what: str
    ) -> Any:  # a generator that yields problems and returns the schema found
        if schema is None:
            return None
        current: JsonSchema | None = schema
        walked: list[str] = []
        for segment in ref.path:
            nxt = _child_schema(schema, current, segment)
            if nxt is False:
                fields = ", ".join(_property_names(schema, current)) or "none"
                where = ".".join(walked) or "its output"
                yield Problem(
                    path,
                    f"{ref.text}: {what} has no output field '{segment}' in {where}; "
                    f"available: {fields}",
                    "unknown_output",
                )
                return None
            if nxt is None:
                return None
            current = nxt
            walked.append(segment)
        return current

    def _cycles(self) -> Iterable[Problem]:
        all_deps = self.dependencies
        deps = {
            node: sorted(d for d in edges if d in self.index)
            for node, edges in all_deps.items()
        }
        for component in _strongly_connected(deps):
            if len(component) == 1:
                (node,) = component
                # a step reading its own output is reported where it reads it
                if node not in self.graph.steps[self.index[node]].depends_on:
                    continue
                yield Problem(
                    f"steps[{self.index[node]}].depends_on",
                    f"step '{node}' depends on itself",
                    "cycle",
                )
                continue
            names = sorted(component, key=self.index.__getitem__)
            yield Problem(
                f"steps[{self.index[names[0]]}]",
                f"steps {', '.join(repr(s) for s in names)} form a cycle; remove one "
                "of their dependencies",
                "cycle",
            )


def _strongly_connected(edges: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative so that long chains do not hit the recursion
    limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in edges:
        if start in index:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = edges.get(node, [])
            if child < len(successors):
                work.append((node, child + 1))
                nxt = successors[child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def _variable_schema(spec: VariableSpec) -> JsonSchema:
    kind = spec.type
    return {"type": "string", "format": "date"} if kind == "date" else {"type": kind}


def _element_schema(source: JsonSchema | None) -> JsonSchema | None:
    """The schema of one element of a list `source` describes (None: unknown)."""
    for branch in _branches(source or {}, source):
        if branch.get("type") == "array" or "items" in branch:
            items = branch.get("items")
            return dict(items) if isinstance(items, Mapping) else None
    return None


@functools.cache
def _inlined(model: type[BaseModel]) -> JsonSchema:
    """The model's JSON schema with every ``$ref`` replaced by its definition, so that
    parts of it can be moved into other schemas (a sub-workflow's outputs, a for-each's
    items); a definition that refers to itself is cut to "anything" below 8 levels."""
    root = _schema(model)
    defs = root.get("$defs", {})

    def inline(node: Any, depth: int) -> Any:
        if isinstance(node, Mapping):
            if "$ref" in node:
                if depth > 8:
                    return {}
                name = str(node["$ref"]).rsplit("/", 1)[-1]
                return inline(defs.get(name, {}), depth + 1)
            return {k: inline(v, depth) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [inline(v, depth) for v in node]
        return node

    return cast("JsonSchema", inline(root, 0))


def _contains_reference(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, Mapping):
        return any(_contains_reference(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_contains_reference(v) for v in value)
    return False


def _check_literal(
    path: str, model: type[BaseModel], name: str, value: Any
) -> Iterable[Problem]:
    try:
        _field_adapter(model, name).validate_python(value)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]
            )
            yield Problem(
                path + loc, f"{error['msg']} (got {value!r})", "invalid_input"
            )


@functools.cache
def _field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    info = model.model_fields[name]
    # The field's own annotation with its FieldInfo (constraints and all): a type form
    # built at run time, which mypy cannot follow, hence the cast.
    form = cast("TypeForm[Any]", Annotated[info.annotation, info])
    return TypeAdapter(form)


@functools.cache
def _schema(model: type[BaseModel]) -> JsonSchema:
    return model.model_json_schema()


def _deref(root: JsonSchema, schema: JsonSchema | None) -> JsonSchema | None:
    seen = 0
    while schema is not None and "$ref" in schema and seen < 20:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        schema = root.get("$defs", {}).get(name)
        seen += 1
    return schema


def _branches(root: JsonSchema, schema: JsonSchema | None) -> list[JsonSchema]:
    schema = _deref(root, schema)
    if schema is None:
        return []
    for key in ("anyOf", "oneOf"):
        if key in schema:
            out: list[JsonSchema] = []
            for branch in schema[key]:
                out.extend(_branches(root, branch))
            return out
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _branches(root, schema["allOf"][0])
    return [schema]


def _property_schema(root: JsonSchema, name: str) -> JsonSchema | None:
    schema = root.get("properties", {}).get(name)
    if schema is None:
        return None
    return {**schema, "$defs": root.get("$defs", {})}


def _property_names(root: JsonSchema, schema: JsonSchema | None) -> list[str]:
    names: list[str] = []
    for branch in _branches(root, schema):
        names.extend(branch.get("properties", {}))
    return names


def _child_schema(root: JsonSchema, schema: JsonSchema | None, segment: str) -> Any:
    """The schema one path segment down; None for "unknown" and False for "absent"."""
    branches = [b for b in _branches(root, schema) if b.get("type") != "null"]
    if not branches:
        return None
    for branch in branches:
        kind = branch.get("type")
        if kind == "array" or (kind is None and "items" in branch):
            if segment.isdigit():
                items = branch.get("items")
                return {**items, "$defs": root.get("$defs", {})} if items else None
            continue
        props = branch.get("properties")
        if props is not None and segment in props:
            return {**props[segment], "$defs": root.get("$defs", {})}
        extra = branch.get("additionalProperties")
        if isinstance(extra, Mapping):
            return {**extra, "$defs": root.get("$defs", {})}
        if props is None and kind in (None, "object") and extra is not False:
            return None
    return False


def _types(schema: JsonSchema | None) -> frozenset[str] | None:
    if schema is None:
        return _ANY
    root = schema
    kinds: set[str] = set()
    for branch in _branches(root, schema):
        kind = branch.get("type")
        if kind is None:
            if "const" in branch or "enum" in branch:
                values = branch.get("enum", [branch.get("const")])
                kinds.update(_json_type(v) for v in values)
                continue
            if "properties" in branch:
                kinds.add("object")
                continue
            return _ANY
        if isinstance(kind, list):
            kinds.update(kind)
        else:
            kinds.add(kind)
    return frozenset(kinds) if kinds else _ANY


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def _fits(source: JsonSchema, target: JsonSchema) -> bool:
    """Whether every non-null value `source` describes is accepted by `target`.

    Null is let through: a parser's optional field feeding a required input is checked
    when the step runs, with the value in hand.
    """
    source_types, target_types = _types(source), _types(target)
    if source_types is None or target_types is None:
        return True
    accepted = set(target_types)
    if "number" in accepted:
        accepted.add("integer")
    return all(kind in accepted for kind in source_types - {"null"})


def _describe_schema(schema: JsonSchema) -> str:
    kinds = _types(schema)
    if kinds is None:
        return "any value"
    return " or ".join(sorted(kinds))
