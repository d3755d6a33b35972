"""The validator refuses every invalid-graph case with all its problems and their
paths."""

from __future__ import annotations

from typing import Any

import pytest

from agent_orchestrator.agents.registry import AgentRegistry
from agent_orchestrator.agents.wait import WaitAgent
from agent_orchestrator.core.enums import Role
from agent_orchestrator.core.errors import ValidationFailed
from agent_orchestrator.core.validation import resolve_variables, validate_workflow
from tests.support.agents import create_agents

REGISTRY = AgentRegistry([WaitAgent(), *create_agents(None)])


def problems(graph: dict[str, Any], **kwargs: Any) -> list[tuple[str, str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        validate_workflow(graph, REGISTRY, **kwargs)
    return [(p.path, p.code, p.message) for p in caught.value.problems]


def codes(graph: dict[str, Any], **kwargs: Any) -> list[tuple[str, str]]:
    return [(path, code) for path, code, _ in problems(graph, **kwargs)]


def test_a_valid_graph_passes() -> None:
    graph = {
        "variables": {"s": {"type": "number", "default": 0.1}},
        "steps": [
            {"id": "a", "agent": "wait_agent", "inputs": {"seconds": "${vars.s}"}},
            {
                "id": "b",
                "agent": "wait_agent",
                "inputs": {"seconds": "${steps.a.waited_s}"},
            },
            {
                "id": "c",
                "agent": "echo_agent",
                "inputs": {"text": "waited ${steps.b.waited_s} s"},
                "when": "${steps.b.waited_s} >= 0",
            },
        ],
        "outputs": {"waited": "${steps.b.waited_s}"},
    }
    parsed = validate_workflow(graph, REGISTRY, role=Role.OPERATOR, variables={})
    assert [s.id for s in parsed.steps] == ["a", "b", "c"]
    assert parsed.dependencies()["c"] == {"b"}


def test_unknown_agent_is_named() -> None:
    [(path, code, message)] = problems({"steps": [{"id": "x", "agent": "ghost_agent"}]})
    assert (path, code) == ("steps[0].agent", "unknown_agent")
    assert "'ghost_agent'" in message and "wait_agent" in message


def test_duplicate_step_id() -> None:
    graph = {
        "steps": [
            {"id": "a", "agent": "echo_agent"},
            {"id": "a", "agent": "echo_agent"},
        ]
    }
    assert codes(graph) == [("steps[1].id", "duplicate_step")]


def test_cycle_names_its_steps() -> None:
    graph = {
        "steps": [
            {"id": "a", "agent": "echo_agent", "inputs": {"value": "${steps.c.value}"}},
            {"id": "b", "agent": "echo_agent", "depends_on": ["a"]},
            {"id": "c", "agent": "echo_agent", "depends_on": ["b"]},
            {"id": "free", "agent": "echo_agent"},
        ]
    }
    [(path, code, message)] = problems(graph)
    assert code == "cycle" and path == "steps[0]"
    assert all(f"'{s}'" in message for s in "abc") and "free" not in message


def test_self_dependency_is_a_cycle() -> None:
    assert codes(
        {"steps": [{"id": "a", "agent": "echo_agent", "depends_on": ["a"]}]}
    ) == [("steps[0].depends_on", "cycle")]


def test_unknown_step_variable_and_output_field() -> None:
    graph = {
        "variables": {"n": {"type": "number"}},
        "steps": [
            {
                "id": "a",
                "agent": "wait_agent",
                "inputs": {"seconds": "${vars.missing}"},
            },
            {
                "id": "b",
                "agent": "wait_agent",
                "inputs": {"seconds": "${steps.zzz.waited_s}"},
                "depends_on": ["nowhere"],
            },
            {
                "id": "c",
                "agent": "wait_agent",
                "inputs": {"seconds": "${steps.a.no_such_field}"},
            },
        ],
        "outputs": {"r": "${steps.a.bogus}"},
    }
    found = problems(graph)
    assert [(p, c) for p, c, _ in found] == [
        ("steps[0].inputs.seconds", "unknown_variable"),
        ("steps[1].depends_on[0]", "unknown_step"),
        ("steps[1].inputs.seconds", "unknown_step"),
        ("steps[2].inputs.seconds", "unknown_output"),
        ("outputs.r", "unknown_output"),
    ]
    assert "available: waited_s" in found[3][2]


def test_type_that_does_not_fit_through_a_reference() -> None:
    graph = {
        "variables": {"name": {"type": "string"}, "n": {"type": "integer"}},
        "steps": [
            {"id": "a", "agent": "echo_agent", "inputs": {"text": "x"}},
            {
                "id": "b",
                "agent": "wait_agent",
                "inputs": {"seconds": "${steps.a.text}"},
            },
            {"id": "c", "agent": "wait_agent", "inputs": {"seconds": "${vars.name}"}},
            {"id": "d", "agent": "wait_agent", "inputs": {"seconds": "${vars.n}"}},
            {"id": "e", "agent": "echo_agent", "inputs": {"text": "${steps.a.number}"}},
        ],
    }
    found = problems(graph)
    assert [(p, c) for p, c, _ in found] == [
        ("steps[1].inputs.seconds", "type_mismatch"),
        ("steps[2].inputs.seconds", "type_mismatch"),
        ("steps[4].inputs.text", "type_mismatch"),
    ]
    assert "needs number" in found[0][2] and "gives null or string" in found[0][2]


def test_literal_inputs_are_checked_against_the_agent_schema() -> None:
    graph = {
        "steps": [
            {"id": "a", "agent": "wait_agent", "inputs": {"seconds": -5, "extra": 1}},
            {"id": "b", "agent": "wait_agent", "inputs": {}},
        ]
    }
    assert codes(graph) == [
        ("steps[0].inputs.seconds", "invalid_input"),
        ("steps[0].inputs.extra", "unknown_input"),
        ("steps[1].inputs.seconds", "missing_input"),
    ]


def test_missing_required_and_ill_typed_variables() -> None:
    graph = {
        "variables": {
            "start": {"type": "date", "required": True},
            "count": {"type": "integer", "required": True},
            "fmt": {"type": "string", "default": "markdown"},
        },
        "steps": [
            {"id": "a", "agent": "echo_agent", "inputs": {"text": "${vars.fmt}"}}
        ],
    }
    found = codes(graph, variables={"count": "many", "stray": 1})
    assert found == [
        ("variables.stray", "unknown_variable"),
        ("variables.start", "missing_variable"),
        ("variables.count", "type_mismatch"),
    ]
    parsed = validate_workflow(graph, REGISTRY)
    assert resolve_variables(parsed, {"start": "2026-11-01", "count": 2}) == {
        "start": "2026-11-01",
        "count": 2,
        "fmt": "markdown",
    }
    assert codes(graph, variables={"start": "1.11.2026", "count": 1}) == [
        ("variables.start", "type_mismatch")
    ]


def test_agents_above_the_callers_role_are_refused() -> None:
    graph = {
        "steps": [
            {"id": "a", "agent": "admin_only_agent"},
            {"id": "b", "agent": "wait_agent", "inputs": {"seconds": 0}},
        ]
    }
    found = problems(graph, role=Role.VIEWER)
    assert [(p, c) for p, c, _ in found] == [
        ("steps[0].agent", "forbidden_agent"),
        ("steps[1].agent", "forbidden_agent"),
    ]
    assert "needs role ADMIN" in found[0][2]
    validate_workflow(graph, REGISTRY, role=Role.ADMIN)


def test_bad_references_and_conditions() -> None:
    graph = {
        "steps": [
            {"id": "a", "agent": "echo_agent", "inputs": {"text": "${nope.x}"}},
            {"id": "b", "agent": "echo_agent", "inputs": {"text": "${steps.a}"}},
            {"id": "c", "agent": "echo_agent", "when": "${steps.a.value} >>> 3"},
        ]
    }
    assert codes(graph) == [
        ("steps[0].inputs.text", "bad_reference"),
        ("steps[1].inputs.text", "bad_reference"),
        ("steps[2].when", "bad_condition"),
    ]


def test_structural_problems_come_with_paths() -> None:
    found = codes(
        {
            "steps": [
                {"agent": "echo_agent", "retry": {"max_retries": -1}},
                {"id": "bad id!", "agent": "echo_agent"},
            ],
            "extra": 1,
        }
    )
    assert ("steps[0].id", "missing") in found
    assert ("steps[0].retry.max_retries", "greater_than_equal") in found
    assert ("steps[1].id", "string_pattern_mismatch") in found
    assert ("extra", "extra_forbidden") in found
    assert codes({"steps": []}) == [("steps", "too_short")]


def test_every_problem_is_listed_at_once() -> None:
    graph = {
        "steps": [
            {"id": "a", "agent": "ghost"},
            {"id": "a", "agent": "echo_agent", "depends_on": ["b"]},
            {"id": "b", "agent": "echo_agent", "depends_on": ["a"]},
            {"id": "c", "agent": "wait_agent", "inputs": {"seconds": "${vars.x}"}},
        ]
    }
    found = {code for _, code in codes(graph)}
    assert found == {"unknown_agent", "duplicate_step", "cycle", "unknown_variable"}


def test_long_chains_validate_without_recursion_limits() -> None:
    steps = [
        {
            "id": f"s{i}",
            "agent": "echo_agent",
            **({"depends_on": [f"s{i - 1}"]} if i else {}),
        }
        for i in range(3000)
    ]
    graph = validate_workflow({"steps": steps}, REGISTRY, max_steps=3000)
    assert len(graph.steps) == 3000


def chain(count: int) -> dict[str, Any]:
    return {
        "steps": [
            {
                "id": f"s{i}",
                "agent": "echo_agent",
                "inputs": {},
                **({"depends_on": [f"s{i - 1}"]} if i else {}),
            }
            for i in range(count)
        ]
    }


def test_a_graph_over_the_step_limit_is_refused_with_that_problem_alone() -> None:
    validate_workflow(chain(200), REGISTRY)
    with pytest.raises(ValidationFailed) as refused:
        validate_workflow(chain(4200), REGISTRY)
    [problem] = refused.value.problems
    assert (problem.path, problem.code) == ("steps", "too_many_steps")
    assert problem.message.startswith(
        "the graph has 4200 steps; at most 200 are allowed (AGENT_MAX_STEPS)"
    )
    with pytest.raises(ValidationFailed, match="the graph has 11 steps; at most 10"):
        validate_workflow(chain(11), REGISTRY, max_steps=10)
