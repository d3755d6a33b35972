"""The judge of the composed yardstick (format "planner_compose v1", described in the
first line of tests/data/planner_compose_dev.jsonl): whether a plan has the steps,
inputs, order and schedule a case asks for, however the graph spells them.

A template is met by a sub-workflow step naming it or by its agents inlined in order
(each an ancestor of the next), at any depth of inline sub-workflows; vat_agent and
vat_report, report_agent and financial_report stand for each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

CHAINS = {
    "receipt_processing": (
        "ocr_agent",
        "receipt_parser_agent",
        "categorizer_agent",
        "ledger_agent",
    ),
    "invoice_processing": (
        "ocr_agent",
        "invoice_parser_agent",
        "categorizer_agent",
        "ledger_agent",
    ),
}
FILE_VARIABLE = {
    "receipt_processing": "receipt_file",
    "invoice_processing": "invoice_file",
}
SAME = {
    "vat_agent": "vat_report",
    "vat_report": "vat_report",
    "report_agent": "financial_report",
    "financial_report": "financial_report",
}
_REF = re.compile(r"\$\{steps\.([^.}]+)")
_VAR = re.compile(r"^\$\{vars\.([^}]+)\}$")
_DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "jan",
            "feb",
            "mar",
            "apr",
            "may",
            "jun",
            "jul",
            "aug",
            "sep",
            "oct",
            "nov",
            "dec",
        ],
        start=1,
    )
}


@dataclass
class Node:
    """One graph step, anywhere in the graph (a sub-workflow's steps too)."""

    key: str  # "outer/inner"
    unit: str  # agent id, "template:<id>" or "graph" (an inline sub-workflow)
    inputs: dict[str, Any]
    deps: set[str] = field(default_factory=set)  # keys of direct dependencies
    for_each: bool = False
    when: list[str] = field(default_factory=list)


def flatten(
    graph: dict[str, Any],
    variables: dict[str, Any],
    prefix: str = "",
    outer: Node | None = None,
) -> list[Node]:
    """Every step of `graph` as a node, inputs resolved through the variables."""
    declared = {
        name: spec.get("default")
        for name, spec in (graph.get("variables") or {}).items()
        if isinstance(spec, dict)
    }
    scope = {**declared, **variables}
    nodes: list[Node] = []
    ids = {step["id"] for step in graph["steps"]}
    for step in graph["steps"]:
        key = f"{prefix}{step['id']}"
        inputs = {k: _resolve(v, scope) for k, v in (step.get("inputs") or {}).items()}
        refs = set(step.get("depends_on") or [])
        for text in _strings(
            [step.get("inputs"), step.get("for_each"), step.get("when")]
        ):
            refs.update(_REF.findall(text))
        deps = {f"{prefix}{r}" for r in refs if r in ids}
        if outer is not None:
            deps |= outer.deps
        workflow = step.get("workflow")
        if workflow is not None and workflow.get("template"):
            unit = f"template:{workflow['template']}"
        elif workflow is not None:
            unit = "graph"
        else:
            unit = str(step.get("agent"))
        node = Node(
            key,
            unit,
            inputs,
            deps,
            for_each=bool(step.get("for_each")) or bool(outer and outer.for_each),
            when=[
                *(outer.when if outer else []),
                *([step["when"]] if step.get("when") else []),
            ],
        )
        nodes.append(node)
        if workflow is not None and workflow.get("graph"):
            nodes.extend(flatten(workflow["graph"], inputs, f"{key}/", node))
    return nodes


def _resolve(value: Any, scope: dict[str, Any]) -> Any:
    if isinstance(value, str):
        match = _VAR.match(value)
        if match and match.group(1) in scope:
            return scope[match.group(1)]
    return value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def ancestors(nodes: list[Node]) -> dict[str, set[str]]:
    by_key = {n.key: n for n in nodes}
    found: dict[str, set[str]] = {}

    def walk(key: str, trail: frozenset[str]) -> set[str]:
        if key in found:
            return found[key]
        out: set[str] = set()
        for dep in by_key[key].deps:
            if dep in by_key and dep not in trail:
                out |= {dep} | walk(dep, trail | {key})
                # What waits for a sub-workflow step waits for every step inside it.
                out |= {k for k in by_key if k.startswith(f"{dep}/")}
        found[key] = out
        return out

    for node in nodes:
        walk(node.key, frozenset())
    return found


@dataclass
class Unit:
    """A unit of work found in the plan: one or more nodes."""

    name: str  # agent id or template id
    nodes: list[Node]

    @property
    def first(self) -> Node:
        return self.nodes[0]

    @property
    def last(self) -> Node:
        return self.nodes[-1]


def units(nodes: list[Node], above: dict[str, set[str]]) -> list[Unit]:
    """Template sub-workflow steps, inlined templates and agent steps."""
    out: list[Unit] = []
    used: set[str] = set()
    for node in nodes:
        if node.unit.startswith("template:"):
            out.append(Unit(node.unit.split(":", 1)[1], [node]))
            used.add(node.key)
    for template, chain in CHAINS.items():
        for start in nodes:
            if start.unit != chain[0] or start.key in used:
                continue
            picked = [start]
            for agent in chain[1:]:
                nxt = next(
                    (
                        n
                        for n in nodes
                        if n.unit == agent
                        and n.key not in used
                        and picked[-1].key in above[n.key]
                    ),
                    None,
                )
                if nxt is None:
                    break
                picked.append(nxt)
            if len(picked) == len(chain):
                out.append(Unit(template, picked))
                used.update(n.key for n in picked)
    for node in nodes:
        if node.key not in used and node.unit not in ("graph",):
            out.append(Unit(node.unit, [node]))
    return out


def _same(expected: str, found: str) -> bool:
    return expected == found or (SAME.get(expected, expected) == SAME.get(found, found))


def _input_of(unit: Unit, name: str) -> Any:
    if unit.name in FILE_VARIABLE and name == FILE_VARIABLE[unit.name]:
        if unit.first.unit == "ocr_agent":
            return unit.first.inputs.get("file")
    value = unit.first.inputs.get(name)
    if value is None and name == "format" and SAME.get(unit.name) == "financial_report":
        return "markdown"
    return value


def _path(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().removeprefix("./").strip("/")
    return value


def _inputs_match(unit: Unit, wanted: dict[str, Any]) -> str | None:
    for name, value in wanted.items():
        got = _input_of(unit, name)
        if name == "recipients":
            if {str(a).lower() for a in got or []} != {str(a).lower() for a in value}:
                return f"{unit.name}.{name}={got!r}, wanted {value!r}"
        elif name == "format":
            if str(got).lower() != str(value).lower():
                return f"{unit.name}.{name}={got!r}, wanted {value!r}"
        elif name in ("folder", "file", "receipt_file", "invoice_file"):
            if _path(got) != _path(value):
                return f"{unit.name}.{name}={got!r}, wanted {value!r}"
        elif str(got) != str(value):
            return f"{unit.name}.{name}={got!r}, wanted {value!r}"
    return None


def _number_in(text: str, number: float) -> bool:
    for found in re.findall(r"-?\d+(?:\.\d+)?", text):
        if abs(abs(float(found)) - abs(number)) < 1e-9:
            return True
    return False


def judge(
    case: dict[str, Any], plan: dict[str, Any] | None, error: str | None
) -> str | None:
    """Why `plan` misses `case` (None when it meets it).

    Args:
        case: One line of the yardstick.
        plan: CopilotPlan as JSON (templateId, variables, graph, schedule), or None.
        error: The refusal's code when the command was refused.
    """
    expect = case["expect"]
    if expect.get("error"):
        return (
            None
            if error == "PLANNING_FAILED"
            else f"not refused: {plan and plan.get('explanation')}"
        )
    if plan is None:
        return f"refused ({error})"
    nodes = flatten(plan["graph"], dict(plan.get("variables") or {}))
    above = ancestors(nodes)
    found = units(nodes, above)
    labels: dict[str, Unit] = {}
    used: set[int] = set()
    for wanted in expect["steps"]:
        name = wanted.get("agent") or wanted.get("template")
        label = wanted.get("as") or name
        reasons = []
        for i, unit in enumerate(found):
            if i in used or not _same(name, unit.name):
                continue
            reason = _inputs_match(unit, wanted.get("inputs", {}))
            if reason is None and "for_each" in wanted:
                each = all(n.for_each for n in unit.nodes)
                if bool(wanted["for_each"]) != each:
                    reason = f"{unit.name} for_each={each}"
            if reason is None:
                reason = _when_match(unit, wanted.get("when"), labels)
            if reason is None:
                labels[label] = unit
                used.add(i)
                break
            reasons.append(reason)
        else:
            return f"no step for {label}: {'; '.join(reasons) or 'missing'}"
    for a, b in expect.get("order", []):
        first, second = labels[a], labels[b]
        if first.last.key not in above[second.first.key]:
            return f"{a} does not run before {b}"
    if expect.get("exact"):
        extra = [u.name for i, u in enumerate(found) if i not in used]
        if extra:
            return f"extra steps {extra}"
    return _schedule_match(expect.get("schedule"), plan.get("schedule"))


def _when_match(unit: Unit, wanted: Any, labels: dict[str, Unit]) -> str | None:
    conditions = unit.first.when
    if not wanted:
        real = [c for c in conditions if not _only_approvals(c)]
        return f"{unit.name} has a condition {real}" if real else None
    if not conditions:
        return f"{unit.name} has no condition"
    if isinstance(wanted, dict):
        text = " ".join(conditions)
        if "number" in wanted and not _number_in(text, float(wanted["number"])):
            return f"{unit.name} condition {text!r} lacks {wanted['number']}"
        for ref in wanted.get("refs", []):
            target = labels.get(ref)
            keys = {n.key.rsplit("/", 1)[-1] for n in target.nodes} if target else set()
            if not any(k in _REF.findall(text) for k in keys):
                return f"{unit.name} condition {text!r} does not read {ref}"
    return None


def _only_approvals(condition: str) -> bool:
    return all("approv" in ref for ref in _REF.findall(condition))


def _cron_values(field: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    out: set[int] = set()
    for part in str(field).lower().split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/")
            step = int(step_text)
        if part == "*":
            start, stop = low, high
        elif "-" in part:
            a, b = part.split("-")
            start, stop = int(names.get(a, a)), int(names.get(b, b))
            if stop < start and high == 7:
                stop = 7  # "mon-sun": Sunday is also 7

        else:
            start = stop = int(names.get(part[:3], part) if part[:3] in names else part)
        out.update(range(start, stop + 1, step))
    return out


def _schedule_match(wanted: Any, got: Any) -> str | None:
    if wanted is None:
        return None if got is None else f"scheduled ({got}) but should run now"
    if got is None:
        return "not scheduled"
    if got.get("timezone") not in (None, "Europe/Helsinki"):
        return f"timezone {got['timezone']}"
    fields = got["cron"].split()
    ranges = {
        "minute": (0, (0, 59), {}),
        "hour": (1, (0, 23), {}),
        "dom": (2, (1, 31), {}),
        "month": (3, (1, 12), _MONTHS),
        "dow": (4, (0, 7), _DAYS),
    }
    for name, value in wanted.items():
        index, (low, high), names = ranges[name]
        expected = _cron_values(str(value), low, high, names)
        actual = _cron_values(fields[index], low, high, names)
        if name == "dow":
            expected = {d % 7 for d in expected}
            actual = {d % 7 for d in actual}
        if expected != actual:
            return f"cron {name}={fields[index]}, wanted {value}"
    return None
