"""Document limits checked before validation: one clear error for too many directives,
a directive repeated in one place, or one field named too often, instead of one
validation error per copy (graphql-cop's directive overloading sends ten ``@aa``)."""

from __future__ import annotations

import pytest

from agent_orchestrator.resolvers.limits import MAX_DIRECTIVES, MAX_FIELD_REPEATS
from agent_orchestrator.resolvers.schema import Schema, create_schema

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def schema() -> Schema:
    return create_schema()


async def errors(schema: Schema, query: str) -> list[tuple[str, str | None]]:
    result = await schema.execute(query)
    return [(e.message, (e.extensions or {}).get("code")) for e in result.errors or ()]


def inline_fragments(count: int) -> str:
    """``count`` inline fragments, each with two different directives."""
    return " ".join(
        "... @include(if: true) @skip(if: false) { __typename }" for _ in range(count)
    )


async def test_too_many_directives_are_refused_with_one_error(schema: Schema) -> None:
    over = MAX_DIRECTIVES + 1
    found = await errors(schema, "{ __typename" + " @include(if: true)" * over + " }")
    assert found == [
        (
            f"too many directives ({over} > {MAX_DIRECTIVES}): a document may carry "
            f"at most {MAX_DIRECTIVES}",
            "GRAPHQL_VALIDATION_FAILED",
        )
    ]


async def test_directives_count_across_the_whole_document(schema: Schema) -> None:
    # In fragments, on spreads, inline fragments and the operation as well.
    query = (
        "query Q @aa { ...F @include(if: true) ... @skip(if: false) { __typename } } "
        "fragment F on Query @bb { " + " @include(if: true)".join(["x"] * 48) + " }"
    )
    assert query.count("@") == MAX_DIRECTIVES + 1
    found = await errors(schema, query)
    assert [m for m, _ in found] == [
        f"too many directives ({MAX_DIRECTIVES + 1} > {MAX_DIRECTIVES}): a "
        f"document may carry at most {MAX_DIRECTIVES}"
    ]


async def test_a_directive_repeated_in_one_place_is_refused_once(
    schema: Schema,
) -> None:
    # graphql-cop's probe: ten unknown directives made ten validation errors.
    found = await errors(schema, "query cop { __typename " + "@aa" * 10 + " }")
    assert found == [
        (
            "directive '@aa' is used 10 times in one place: use it once",
            "GRAPHQL_VALIDATION_FAILED",
        )
    ]
    found = await errors(schema, "{ __typename @skip(if: false) @skip(if: true) }")
    assert [m for m, _ in found] == [
        "directive '@skip' is used 2 times in one place: use it once"
    ]


async def test_a_field_repeated_too_often_is_refused(schema: Schema) -> None:
    found = await errors(schema, "query cop { " + "__typename\n" * 500 + "}")
    assert found == [
        (
            f"field '__typename' is selected 500 times in one selection set (at "
            f"most {MAX_FIELD_REPEATS}): select it once",
            "GRAPHQL_VALIDATION_FAILED",
        )
    ]


async def test_documents_within_the_limits_run(schema: Schema) -> None:
    at_limit = "{ " + inline_fragments(MAX_DIRECTIVES // 2) + " }"
    assert at_limit.count("@") == MAX_DIRECTIVES
    result = await schema.execute(at_limit)
    assert result.errors is None and result.data == {"__typename": "Query"}

    result = await schema.execute("{ " + "__typename " * MAX_FIELD_REPEATS + "}")
    assert result.errors is None and result.data == {"__typename": "Query"}
