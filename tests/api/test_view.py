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
