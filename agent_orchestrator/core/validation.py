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
from collections.abc import Collection, Iterable, Mapping
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
            one problem.
        require_approval_for: ``AGENT_REQUIRE_APPROVAL_FOR``: agents that must have
            an ``approval_agent`` step before them on every path from the start.

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
    problems = list(_GraphChecker(graph, catalogue, role).problems())
    problems.extend(_approval_problems(graph, require_approval_for))
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


def _approval_problems(graph: WorkflowGraph, guarded: Collection[str]) -> list[Problem]:
    """A problem for each step that runs a `guarded` agent without an approval
    before it on every path (DESIGN.md "Engine semantics", Approval)."""
    dependencies = graph.dependencies()
    index = {step.id: i for i, step in enumerate(graph.steps)}
    steps = {
        step.id: (step.agent, dependencies[step.id], bool(step.when))
        for step in graph.steps
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
        self, graph: WorkflowGraph, catalogue: AgentCatalogue, role: Role | None
    ):
        self.graph = graph
        self.catalogue = catalogue
        self.role = role
        self.index = {step.id: i for i, step in enumerate(graph.steps)}
        self.agents: dict[str, Agent] = {}  # by step id, first step with the id
        self.step_agents: list[Agent | None] = [None] * len(graph.steps)

    def problems(self) -> Iterable[Problem]:
        yield from self._variables()
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
            agent = self.catalogue.get(step.agent)
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
                if self.role is not None and not self.role.includes(agent.min_role):
                    yield Problem(
                        f"steps[{i}].agent",
                        f"agent '{agent.id}' in step '{step.id}' needs role "
                        f"{agent.min_role.value}; the caller has {self.role.value}",
                        "forbidden_agent",
                    )
        for i, step in enumerate(self.graph.steps):
            yield from self._step(i, step)
        yield from self._cycles()
        for name, value in self.graph.outputs.items():
            yield from self._references(f"outputs.{name}", value, None)

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
                    yield from self._reference(f"steps[{i}].when", ref, step)
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

    def _references(
        self,
        path: str,
        value: Any,
        step: StepSpec | None,
        target: JsonSchema | None = None,
        agent: Agent | None = None,
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
                    yield Problem(
                        where,
                        f"{ref.text} gives {_describe_schema(source)} but input "
                        f"'{path.rsplit('.', 1)[-1]}' of agent "
                        f"'{agent.id if agent else '?'}' needs "
                        f"{_describe_schema(target)}",
                        "type_mismatch",
                    )

    def _reference(
        self, path: str, ref: Reference, step: StepSpec | None
    ) -> Any:  # a generator that yields problems and returns the source schema
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
            kind = spec.type
            return (
                {"type": "string", "format": "date"}
                if kind == "date"
                else {"type": kind}
            )
        if ref.name not in self.index:
            yield Problem(
                path, f"{ref.text} names unknown step '{ref.name}'", "unknown_step"
            )
            return None
        if step is not None and ref.name == step.id:
            yield Problem(path, f"step '{step.id}' refers to its own output", "cycle")
            return None
        agent = self.agents.get(ref.name)
        if agent is None:
            return None
        schema = _schema(agent.output_model)
        current: JsonSchema | None = schema
        walked: list[str] = []
        for segment in ref.path:
            nxt = _child_schema(schema, current, segment)
            if nxt is False:
                fields = ", ".join(_property_names(schema, current)) or "none"
                where = ".".join(walked) or "its output"
                yield Problem(
                    path,
                    f"{ref.text}: step '{ref.name}' (agent '{agent.id}') has no output "
                    f"field '{segment}' in {where}; available: {fields}",
                    "unknown_output",
                )
                return None
            if nxt is None:
                return None
            current = nxt
            walked.append(segment)
        return current

    def _cycles(self) -> Iterable[Problem]:
        all_deps = self.graph.dependencies()
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
