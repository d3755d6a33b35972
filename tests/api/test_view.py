"""Request bodies with U+0000 are refused however the JSON spells it (PostgreSQL cannot
store it), and ordinary bodies pass without a walk through their values."""

from __future__ import annotations

import json

import pytest
from cross_web import HTTPException

from agent_orchestrator.config import Settings
from agent_orchestrator.resolvers.schema import create_schema
from agent_orchestrator.resolvers.view import GraphQLView


@pytest.fixture(scope="module")
def view() -> GraphQLView:
    return GraphQLView(create_schema(), Settings(_env_file=None), None)


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"query": "{ agents { id } }", "variables": {"k": "a\x00b"}}),
        '{"query": "{ x }", "variables": {"a\\u0000": 1}}',
        # A GraphQL escape in the document, however the JSON writes its backslash.
        '{"query": "{ execution(id: \\"a\\\\u0000\\") { id } }"}',
        '{"query": "{ execution(id: \\"a\\u005cu0000\\") { id } }"}',
        '{"query": "{ execution(id: \\"a\\\\u{0}\\") { id } }"}',
        '{"query": "{ execution(id: \\"a\\\\\\u0075{00}\\") { id } }"}',
    ],
)
def test_a_nul_is_refused_however_it_is_written(view: GraphQLView, body: str) -> None:
    for data in (body, body.encode()):
        with pytest.raises(HTTPException) as refused:
            view.parse_json(data)
        assert refused.value.status_code == 400 and "NUL" in refused.value.reason


@pytest.mark.parametrize(
    "body",
    [
        '{"query": "{ agents { id } }"}',
        json.dumps({"query": "{ x }", "variables": {"nimi": "Kuitti ääkkösin"}}),
        json.dumps(
            {"query": "{ x }", "variables": {"v": "ääkköset"}}, ensure_ascii=False
        ),
    ],
)
def test_ordinary_bodies_pass(view: GraphQLView, body: str) -> None:
    assert view.parse_json(body.encode()) == json.loads(body)


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"null", "JSON object"),
        (b"[1]", "JSON object"),
        (b"\xff", "not UTF-8"),
        (b'{"query": "x", "variables": {"n": 1e400}}', "too large"),
        (b'{"query": "x", "variables": {"n": NaN}}', "NaN"),
        (b'{"query": "x", "variables": {"n": ' + b"1" * 5_000 + b"}}", "digits"),
        (b'{"variables": {"g": ' + b"[" * 65 + b"]" * 65 + b"}}", "variables.g[0]"),
        (b'{"variables": {"g": ' + b"[" * 5_000 + b"]" * 5_000 + b"}}", "deeper"),
        (b'{"variables": {"input": {"key": "a\\ud800"}}}', "variables.input.key"),
        (b'{"variables": {"g": {"a\\udfff": 1}}}', "variables.g (a key)"),
        # Surrogates written as UTF-8 bytes (CESU), which `json` would let through.
        (b'{"variables": {"k": "a\xed\xa0\x80"}}', "not UTF-8"),
    ],
)
def test_bodies_that_are_no_request_are_refused_saying_where(
    view: GraphQLView, body: bytes, said: str
) -> None:
    with pytest.raises(HTTPException) as refused:
        view.parse_json(body)
    assert refused.value.status_code == 400 and said in refused.value.reason


def test_a_surrogate_pair_is_text_like_any_other(view: GraphQLView) -> None:
    body = b'{"query": "x", "variables": {"e": "\\ud83e\\uddfe"}}'
    assert view.parse_json(body)["variables"]["e"] == "\U0001f9fe"
