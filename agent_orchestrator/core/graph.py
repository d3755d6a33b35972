"""The workflow graph: the contract between planner, templates, API and engine.

A workflow is a JSON document (DESIGN.md "Workflow graph")::

    {"variables": {"receipt_file": {"type": "string", "required": true}},
     "steps": [{"id": "ocr", "agent": "ocr_agent",
                "inputs": {"file": "${vars.receipt_file}"}},
               {"id": "parse", "agent": "receipt_parser_agent",
                "inputs": {"text": "${steps.ocr.text}"}}],
     "outputs": {"receipt": "${steps.parse.receipt}"}}

An input that is exactly one reference takes the referenced value with its type; a
reference inside a longer string is interpolated as text; ``$${`` writes a literal
``${``.
This module parses documents and references and evaluates ``when`` conditions; the
checks that need the agents live in `validation`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from .errors import Problem, ValidationFailed

VariableType = Literal[
    "string", "number", "integer", "boolean", "array", "object", "date"
]
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"
Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER)]


class VariableSpec(BaseModel):
    """One workflow variable: its JSON type, whether it must be given, its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: VariableType = "string"
    required: bool = False
    default: Any = None
    description: str = ""


class RetryPolicy(BaseModel):
    """Per-step retry override. Unset fields fall back to the engine's settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_retries: int | None = Field(default=None, ge=0, le=20)
    initial_delay_ms: int | None = Field(default=None, ge=0, le=600_000)
    backoff: float | None = Field(default=None, ge=1.0, le=10.0)
    max_delay_ms: int | None = Field(default=None, ge=0, le=3_600_000)


class WorkflowRef(BaseModel):
    """What a sub-workflow step runs: a shipped template, a saved workflow (a pinned
    `version`, or the latest when it is left out) or an inline `graph`.

    Exactly one of `template`, `workflow_id` and `graph` names the source. The service
    pins a reference when an execution starts: it stores the resolved `graph` beside the
    `template` or `workflow_id` (and the `version` it resolved to), so that a resumed
    execution runs exactly the graph it started with; the engine reads only `graph`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str | None = Field(default=None, min_length=1, max_length=128)
    workflow_id: str | None = Field(default=None, min_length=1, max_length=64)
    version: int | None = Field(default=None, ge=1)
    graph: WorkflowGraph | None = None

    @model_validator(mode="after")
    def _one_source(self) -> WorkflowRef:
        named = (self.template is not None) + (self.workflow_id is not None)
        if named > 1 or (named == 0 and self.graph is None):
            raise ValueError("give exactly one of template, workflow_id or graph")
        if self.version is not None and self.workflow_id is None:
            raise ValueError("version goes with workflow_id")
        return self

    @property
    def key(self) -> str | None:
        """``template:<id>`` or ``workflow:<id>`` (None for an inline graph): what a
        workflow may not include inside itself."""
        if self.template is not None:
            return f"template:{self.template}"
        if self.workflow_id is not None:
            return f"workflow:{self.workflow_id}"
        return None

    def describe(self) -> str:
        """The source in words, for messages."""
        if self.template is not None:
            return f"template '{self.template}'"
        if self.workflow_id is not None:
            version = "latest" if self.version is None else f"version {self.version}"
            return f"saved workflow '{self.workflow_id}' ({version})"
        return "the inline graph"


#: Default of a for-each step's `max_concurrency`.
DEFAULT_MAX_CONCURRENCY = 4


class StepSpec(BaseModel):
    """One step: which agent (or sub-workflow) runs, with which inputs, after what, on
    what condition, and (with `for_each`) once per element of which list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Identifier
    agent: str | None = Field(default=None, min_length=1, max_length=128)
    workflow: WorkflowRef | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list)
    when: str | None = Field(default=None, max_length=2_000)
    for_each: str | list[Any] | None = None
    max_concurrency: int | None = Field(default=None, ge=1, le=100)
    retry: RetryPolicy | None = None
    timeout_ms: int | None = Field(default=None, ge=1, le=86_400_000)
    description: str = ""

    @model_validator(mode="after")
    def _agent_or_workflow(self) -> StepSpec:
        if (self.agent is None) == (self.workflow is None):
            raise ValueError(
                f"step '{self.id}' needs exactly one of agent or workflow (a "
                "sub-workflow: {template}, {workflow_id, version} or {graph})"
            )
        if self.max_concurrency is not None and self.for_each is None:
            raise ValueError("max_concurrency goes with for_each")
        return self

    @property
    def concurrency(self) -> int:
        """How many elements of a for-each run at a time."""
        return self.max_concurrency or DEFAULT_MAX_CONCURRENCY


class WorkflowGraph(BaseModel):
    """A whole workflow document."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    variables: dict[Identifier, VariableSpec] = Field(default_factory=dict)
    steps: list[StepSpec] = Field(min_length=1)
    outputs: dict[str, Any] = Field(default_factory=dict)

    def step(self, step_id: str) -> StepSpec:
        """The step with this id (KeyError if there is none)."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def dependencies(self) -> dict[str, frozenset[str]]:
        """For each step, the steps it waits for: `depends_on` plus every referenced
        step."""
        return {step.id: step_dependencies(step) for step in self.steps}

    def to_document(self) -> dict[str, Any]:
        """The graph as a JSON-ready dict, without unset optional fields."""
        return self.model_dump(mode="json", exclude_defaults=True)


WorkflowRef.model_rebuild()
StepSpec.model_rebuild()
WorkflowGraph.model_rebuild()


def parent_step(step_id: str) -> tuple[str | None, int | None]:
    """The step run a step run belongs to, and its element index: ``each[3].ocr`` is
    in ``each[3]`` (no index), which is element 3 of ``each``; a graph's own step is
    in none. Step ids contain neither ``.`` nor ``[``, so the last one tells."""
    if step_id.endswith("]"):
        cut = step_id.rfind("[")
        if cut > 0 and step_id[cut + 1 : -1].isdigit():
            return step_id[:cut], int(step_id[cut + 1 : -1])
    cut = step_id.rfind(".")
    if cut > 0:
        return step_id[:cut], None
    return None, None


def parse_graph(document: WorkflowGraph | Mapping[str, Any]) -> WorkflowGraph:
    """Read a workflow document, reporting every structural problem with its path.

    Raises:
        ValidationFailed: The document does not have the shape of a workflow.
    """
    if isinstance(document, WorkflowGraph):
        return document
    if not isinstance(document, Mapping):
        raise ValidationFailed(
            [Problem("", "a workflow graph must be a JSON object", "not_an_object")]
        )
    try:
        return WorkflowGraph.model_validate(dict(document))
    except ValidationError as exc:
        raise ValidationFailed(problems_from_pydantic(exc)) from exc


def problems_from_pydantic(exc: ValidationError, prefix: str = "") -> list[Problem]:
    """Turn pydantic's errors into Problems with dotted/indexed paths."""
    problems = []
    for error in exc.errors(include_url=False):
        path = format_path(error["loc"], prefix)
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field; remove it"
        elif error["type"] == "missing":
            message = "field required"
        problems.append(Problem(path, message, error["type"]))
    return problems


def format_path(loc: Sequence[str | int], prefix: str = "") -> str:
    """Format a location such as ``("steps", 1, "id")`` as ``steps[1].id``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# --- references -------------------------------------------------------------------

_REF = re.compile(r"\$\{([^{}]*)\}")
_ESCAPED = "$${"
_SEGMENT = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_-]*|\d+)$")


@dataclass(frozen=True, slots=True)
class Reference:
    """A parsed ``${vars.name...}``, ``${steps.id.field...}``, ``${item...}`` or
    ``${index}`` (the last two inside a for-each step: its element and position)."""

    root: Literal["vars", "steps", "item", "index"]
    name: str
    path: tuple[str, ...]

    @property
    def text(self) -> str:
        """The reference as written, normalised."""
        if self.root in ("item", "index"):
            return "${" + ".".join((self.root, *self.path)) + "}"
        return "${" + ".".join((self.root, self.name, *self.path)) + "}"


class ReferenceSyntaxError(ValueError):
    """A ``${...}`` that is not a valid reference."""


def parse_reference(body: str) -> Reference:
    """Parse the inside of ``${...}``.

    Raises:
        ReferenceSyntaxError: It is not ``vars.<name>``, ``steps.<id>.<field path>``,
            ``item[.<field path>]`` or ``index``.
    """
    parts = [p.strip() for p in body.strip().split(".")]
    if parts[0] == "item":
        if not all(_SEGMENT.match(p) for p in parts[1:]):
            raise ReferenceSyntaxError(
                f"'${{{body}}}' has an empty or invalid path segment"
            )
        return Reference("item", "", tuple(parts[1:]))
    if parts[0] == "index":
        if len(parts) > 1:
            raise ReferenceSyntaxError(
                f"'${{{body}}}': ${{index}} is a number and has no fields"
            )
        return Reference("index", "", ())
    if len(parts) < 2 or parts[0] not in ("vars", "steps"):
        raise ReferenceSyntaxError(
            f"'${{{body}}}' is not a reference; write ${{vars.<name>}}, "
            "${steps.<step id>.<output field>}, or inside a for_each step ${item}, "
            "${item.<field>} or ${index}"
        )
    if not all(_SEGMENT.match(p) for p in parts[1:]):
        raise ReferenceSyntaxError(
            f"'${{{body}}}' has an empty or invalid path segment"
        )
    if parts[0] == "steps" and len(parts) < 3:
        raise ReferenceSyntaxError(
            f"'${{{body}}}' names a step but no output field; write "
            f"${{steps.{parts[1]}.<output field>}}"
        )
    root: Literal["vars", "steps"] = "vars" if parts[0] == "vars" else "steps"
    return Reference(root, parts[1], tuple(parts[2:]))


def whole_reference(value: str) -> Reference | None:
    """The reference if `value` is exactly one ``${...}``, else None."""
    text = value.strip()
    if text.startswith("${") and text.endswith("}") and text.count("${") == 1:
        return parse_reference(text[2:-1])
    return None


def iter_references(value: Any, path: str = "") -> Iterator[tuple[str, str, Reference]]:
    """Every reference inside an input value, with the path where it stands and how.

    Yields:
        ``(path, "whole" | "text", reference)``.

    Raises:
        ReferenceSyntaxError: A reference is malformed.
    """
    if isinstance(value, str):
        if "${" not in value:
            return
        whole = whole_reference(value)
        if whole is not None:
            yield path, "whole", whole
            return
        for match in _REF.finditer(value.replace(_ESCAPED, "\0\0\0")):
            yield path, "text", parse_reference(match.group(1))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from iter_references(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from iter_references(item, f"{path}[{index}]")


def step_dependencies(step: StepSpec) -> frozenset[str]:
    """The steps `step` waits for: its `depends_on` and every step it references.

    Malformed references are ignored here; validation reports them.
    """
    deps = set(step.depends_on)
    try:
        for _, _, ref in iter_references([step.inputs, step.for_each]):
            if ref.root == "steps":
                deps.add(ref.name)
        if step.when:
            for ref in parse_condition(step.when).references():
                if ref.root == "steps":
                    deps.add(ref.name)
    except (ReferenceSyntaxError, ConditionSyntaxError):
        pass
    return frozenset(deps)


_NO_ITEM: Any = object()


class PrefixedOutputs(Mapping[str, "Mapping[str, Any] | None"]):
    """The outputs of one sub-workflow instance's steps, by their ids in its graph
    (``ocr`` for the step run ``each[3].ocr``)."""

    __slots__ = ("_outputs", "_prefix")

    def __init__(
        self, outputs: Mapping[str, Mapping[str, Any] | None], prefix: str
    ) -> None:
        self._outputs = outputs
        self._prefix = prefix

    def __getitem__(self, key: str) -> Mapping[str, Any] | None:
        return self._outputs[self._prefix + key]

    def __iter__(self) -> Iterator[str]:
        cut = len(self._prefix)
        return (k[cut:] for k in self._outputs if k.startswith(self._prefix))

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Scope:
    """Values references resolve against: the variables, finished steps' outputs and,
    inside a for-each element, the element and its index."""

    __slots__ = ("index", "item", "outputs", "variables")

    def __init__(
        self,
        variables: Mapping[str, Any],
        outputs: Mapping[str, Mapping[str, Any] | None],
        item: Any = _NO_ITEM,
        index: int | None = None,
    ) -> None:
        self.variables = variables
        self.outputs = outputs
        self.item = item
        self.index = index

    def element(self, item: Any, index: int) -> Scope:
        """The same scope with `${item}` and `${index}` bound to one element."""
        return Scope(self.variables, self.outputs, item, index)

    def lookup(self, ref: Reference) -> Any:
        """The referenced value; None where a path runs into a missing or null value."""
        if ref.root == "vars":
            value: Any = self.variables.get(ref.name)
        elif ref.root == "steps":
            value = self.outputs.get(ref.name)
        elif ref.root == "index":
            return self.index
        else:
            value = None if self.item is _NO_ITEM else self.item
        for segment in ref.path:
            if isinstance(value, Mapping):
                value = value.get(segment)
            elif isinstance(value, list) and segment.isdigit():
                index = int(segment)
                value = value[index] if index < len(value) else None
            else:
                return None
        return value

    def resolve(self, value: Any) -> Any:
        """Replace every reference inside `value` (recursively) by its value."""
        if isinstance(value, str):
            if "${" not in value:
                return value
            whole = whole_reference(value)
            if whole is not None:
                return self.lookup(whole)
            text = value.replace(_ESCAPED, "\0\0\0")
            text = _REF.sub(
                lambda m: _as_text(self.lookup(parse_reference(m.group(1)))), text
            )
            return text.replace("\0\0\0", "${")
        if isinstance(value, Mapping):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.resolve(item) for item in value]
        return value


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


# --- `when` conditions -------------------------------------------------------------
#
# condition := disjunction
# disjunction := conjunction ("or" conjunction)*
# conjunction := negation ("and" negation)*
# negation := "not" negation | comparison
# comparison := operand [("==" | "!=" | ">" | ">=" | "<" | "<=" | "in") operand]
# operand := ${reference} | JSON literal | "(" condition ")"

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<ref>\$\{[^{}]*\})
      | (?P<op>==|!=|>=|<=|>|<)
      | (?P<paren>[()])
      | (?P<word>not|and|or|in|true|false|null)\b
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    )""",
    re.VERBOSE,
)


class ConditionSyntaxError(ValueError):
    """A `when` condition that does not parse."""


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed `when` condition, as a small expression tree."""

    op: str
    args: tuple[Any, ...]

    def references(self) -> Iterator[Reference]:
        """Every reference the condition reads."""
        for arg in self.args:
            if isinstance(arg, Reference):
                yield arg
            elif isinstance(arg, Condition):
                yield from arg.references()

    def evaluate(self, scope: Scope) -> bool:
        """Evaluate against finished steps' outputs and the variables."""
        return bool(self._value(scope))

    def _value(self, scope: Scope) -> Any:
        if self.op == "value":
            arg = self.args[0]
            return scope.lookup(arg) if isinstance(arg, Reference) else arg
        if self.op == "not":
            return not self.args[0]._value(scope)
        if self.op == "and":
            return all(a._value(scope) for a in self.args)
        if self.op == "or":
            return any(a._value(scope) for a in self.args)
        left, right = (a._value(scope) for a in self.args)
        return _compare(self.op, left, right)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "in":
        try:
            return left in right
        except TypeError:
            return False
    if left is None or right is None:
        return False
    try:
        if op == ">":
            return bool(left > right)
        if op == ">=":
            return bool(left >= right)
        if op == "<":
            return bool(left < right)
        return bool(left <= right)
    except TypeError:
        return False


def parse_condition(text: str) -> Condition:
    """Parse a `when` condition such as ``${steps.parse.total} > 100 and ${vars.send}``.

    Raises:
        ConditionSyntaxError: With the position and what was expected.
        ReferenceSyntaxError: A ``${...}`` inside is not a valid reference.
    """
    tokens = _tokenize(text)
    parser = _ConditionParser(tokens, text)
    condition = parser.disjunction()
    if parser.pos != len(tokens):
        raise ConditionSyntaxError(
            f"unexpected {tokens[parser.pos][1]!r} in condition {text!r}"
        )
    return condition


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ConditionSyntaxError(
                f"cannot read condition {text!r} at character {pos + 1}: expected a "
                "${reference}, a JSON literal, an operator (== != > >= < <= in) or "
                "not/and/or"
            )
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    if not tokens:
        raise ConditionSyntaxError("the condition is empty")
    return tokens


class _ConditionParser:
    def __init__(self, tokens: list[tuple[str, str]], text: str) -> None:
        self.tokens, self.text, self.pos = tokens, text, 0

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise ConditionSyntaxError(f"condition {self.text!r} ends too early")
        self.pos += 1
        return token

    def disjunction(self) -> Condition:
        parts = [self.conjunction()]
        while self._peek() == ("word", "or"):
            self.pos += 1
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Condition("or", tuple(parts))

    def conjunction(self) -> Condition:
        parts = [self.negation()]
        while self._peek() == ("word", "and"):
            self.pos += 1
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else Condition("and", tuple(parts))

    def negation(self) -> Condition:
        if self._peek() == ("word", "not"):
            self.pos += 1
            return Condition("not", (self.negation(),))
        return self.comparison()

    def comparison(self) -> Condition:
        left = self.operand()
        token = self._peek()
        if token is not None and (token[0] == "op" or token == ("word", "in")):
            self.pos += 1
            return Condition(token[1], (left, self.operand()))
        return left

    def operand(self) -> Condition:
        kind, value = self._take()
        if kind == "paren" and value == "(":
            inner = self.disjunction()
            if self._take() != ("paren", ")"):
                raise ConditionSyntaxError(f"missing ')' in condition {self.text!r}")
            return inner
        if kind == "ref":
            return Condition("value", (parse_reference(value[2:-1]),))
        if kind in ("string", "number") or value in ("true", "false", "null"):
            return Condition("value", (json.loads(value),))
        raise ConditionSyntaxError(f"unexpected {value!r} in condition {self.text!r}")
