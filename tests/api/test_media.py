"""GraphQL over HTTP's media types: ``application/graphql-response+json`` when the
client accepts it (a request error 400 without ``data``, a document that ran 200), and
``application/json`` as before (200, ``data: null`` with the errors)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from agent_orchestrator.resolvers.media import response_media_type

if TYPE_CHECKING:
    from tests.api.conftest import Api

pytestmark = pytest.mark.slow
GRAPHQL_RESPONSE = "application/graphql-response+json"
# Nothing runs: the document does not parse, does not validate, its variables do not
# fit, or it is over a document limit.
REQUEST_ERRORS: dict[str, tuple[dict[str, Any], str | None]] = {
    "parse": ({"query": "{"}, None),
    "validation": ({"query": "{ noSuchField }"}, "GRAPHQL_VALIDATION_FAILED"),
    "variables": (
        {
            "query": "query($id: ID!) { execution(id: $id) { id } }",
            "variables": {"id": None},
        },
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "directives": (
        {"query": "{ __typename" + " @include(if: true)" * 51 + " }"},
        "GRAPHQL_VALIDATION_FAILED",
    ),
}
# The document ran; a field failed.
FIELD_ERROR: dict[str, Any] = {"query": '{ execution(id: "no-such-execution") { id } }'}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}; charset=utf-8", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json", GRAPHQL_RESPONSE),
        (f"application/json;q=0.9, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, application/json", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=0", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=oops", GRAPHQL_RESPONSE),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        ("", "application/json"),
        ("text/html", "application/json"),
    ],
)
def test_the_media_type_follows_the_accept_header(accept: str, expected: str) -> None:
    assert response_media_type(accept) == expected


def post(api: Api, body: dict[str, Any], accept: str | None) -> httpx.Response:
    headers = {"X-API-Key": api.keys["admin"]}
    if accept is not None:
        headers["Accept"] = accept
    return httpx.post(api.url + "/graphql", json=body, headers=headers, timeout=30)


@pytest.mark.parametrize("kind", REQUEST_ERRORS)
def test_a_request_error_is_400_without_data_in_graphql_response_json(
    api: Api, kind: str
) -> None:
    body, code = REQUEST_ERRORS[kind]
    response = post(api, body, GRAPHQL_RESPONSE)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    answer = response.json()
    assert "data" not in answer and answer["errors"], answer
    if code:
        assert answer["errors"][0]["extensions"]["code"] == code


def test_a_document_that_ran_is_200_in_graphql_response_json(api: Api) -> None:
    ok = post(api, {"query": "{ __typename }"}, GRAPHQL_RESPONSE)
    assert ok.status_code == 200
    assert ok.headers["content-type"] == GRAPHQL_RESPONSE
    assert ok.json() == {"data": {"__typename": "Query"}}

    failed = post(api, FIELD_ERROR, GRAPHQL_RESPONSE)
    assert failed.status_code == 200
    assert failed.headers["content-type"] == GRAPHQL_RESPONSE
    answer = failed.json()
    assert "data" in answer and answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert answer["errors"][0]["path"] == ["execution"]


@pytest.mark.parametrize("accept", ["application/json", "*/*", None])
def test_application_json_answers_are_unchanged(api: Api, accept: str | None) -> None:
    for body, _ in [*REQUEST_ERRORS.values(), (FIELD_ERROR, None)]:
        response = post(api, body, accept)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        answer = response.json()
        assert answer["data"] is None and answer["errors"], answer
