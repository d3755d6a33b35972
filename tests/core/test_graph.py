"""References, interpolation and `when` conditions."""

from __future__ import annotations

import pytest

from agent_orchestrator.core.graph import (
    ConditionSyntaxError,
    ReferenceSyntaxError,
    Scope,
    parse_condition,
    parse_reference,
)

SCOPE = Scope(
    {"name": "Oy Yritys", "n": 3, "send": True, "tags": ["a", "b"]},
    {"parse": {"receipt": {"total": 12.5, "lines": [{"rate": 25.5}]}, "ok": None}},
)


def test_whole_reference_keeps_the_type() -> None:
    assert SCOPE.resolve("${vars.n}") == 3
    assert SCOPE.resolve("${steps.parse.receipt}") == {
        "total": 12.5,
        "lines": [{"rate": 25.5}],
    }
    assert SCOPE.resolve("${steps.parse.receipt.lines.0.rate}") == 25.5


def test_references_inside_text_are_interpolated() -> None:
    assert SCOPE.resolve("Hei ${vars.name}, summa ${steps.parse.receipt.total} €") == (
        "Hei Oy Yritys, summa 12.5 €"
    )
    assert SCOPE.resolve("$${vars.name} stays") == "${vars.name} stays"
    assert SCOPE.resolve({"a": ["${vars.n}", "x${vars.send}"]}) == {"a": [3, "xtrue"]}


def test_missing_paths_resolve_to_none() -> None:
    assert SCOPE.resolve("${steps.parse.receipt.nope.deeper}") is None
    assert SCOPE.resolve("${steps.parse.receipt.lines.5}") is None
    assert SCOPE.resolve("[${steps.parse.ok}]") == "[]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${vars.send}", True),
        ("not ${vars.send}", False),
        ("${vars.n} > 2 and ${vars.n} <= 3", True),
        ("${vars.n} == 4 or ${steps.parse.receipt.total} >= 12.5", True),
        ('${vars.name} == "Oy Yritys"', True),
        ('"b" in ${vars.tags}', True),
        ("${steps.parse.ok} > 1", False),
        ("(${vars.n} > 5 or ${vars.send}) and not ${steps.parse.ok}", True),
    ],
)
def test_conditions(text: str, expected: bool) -> None:
    assert parse_condition(text).evaluate(SCOPE) is expected


@pytest.mark.parametrize(
    "text", ["", "${vars.n} >", "${vars.n} ~ 3", "(${vars.n}", "a == b"]
)
def test_bad_conditions(text: str) -> None:
    with pytest.raises(ConditionSyntaxError):
        parse_condition(text)


@pytest.mark.parametrize(
    "body", ["foo.bar", "vars", "steps.a", "vars..x", "steps.a. b c"]
)
def test_bad_references(body: str) -> None:
    with pytest.raises(ReferenceSyntaxError):
        parse_reference(body)
