"""Hostile request values that once made a 500 or a masked internal error: each is now
a 4xx or a GraphQL error with one of our codes that says what is wrong, on a real
server (SQLite and PostgreSQL), and the server logs no traceback for any of them."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
from sqlalchemy import text

from agent_orchestrator.store.database import create_database

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.api.conftest import Api

pytestmark = pytest.mark.slow
BASE = "/api/v1/agent-orchestrator"
OUR_CODES = {
    "VALIDATION_FAILED",
    "NOT_FOUND",
    "FORBIDDEN",
    "PLANNING_FAILED",
    "CONFLICT",
    "GRAPHQL_VALIDATION_FAILED",
    "BAD_USER_INPUT",
}
START = "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }"
LONE = "\ud800"


GRAPHQL = '{"query": "' + START.replace('"', '\\"') + '", "variables": {"g": %s}}'
REST = '{"template_id": "vat_report", "initial_variables": {"x": %s}}'


def nested(depth: int, wrap: str) -> bytes:
    """A JSON text with lists `depth` deep at the mark of `wrap`."""
    return (wrap % ("[" * depth + "1" + "]" * depth)).encode()


def post(api: Api, path: str, body: bytes | str | Any) -> httpx.Response:
    """POST a body as it is (bytes or text) or as JSON (anything else)."""
    content = body if isinstance(body, bytes | str) else json.dumps(body)
    return httpx.post(
        api.url + path,
        content=content,
        headers={"X-API-Key": api.keys["admin"], "Content-Type": "application/json"},
        timeout=60,
    )


def graphql(api: Api, query: str, variables: dict[str, Any] | None = None) -> Any:
    """The errors of an operation, each with one of our codes (no 500, no mask)."""
    response = post(api, "/graphql", {"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    errors = response.json().get("errors") or []
    for error in errors:
        assert error["extensions"]["code"] in OUR_CODES, error
    return errors


@pytest.fixture(autouse=True)
def no_traceback(api: Api) -> Iterator[None]:
    """The server logs no traceback while a test runs."""
    start = len(api.server.log())
    yield
    logged = api.server.log()[start:]
    assert "Traceback" not in logged, logged[-3000:]


@pytest.mark.parametrize(
    "body",
    [
        b"null",
        b"5",
        b'"query"',
        b"[]",
        b"\xff\xfe not UTF-8",
        b'{"query": "{ agents { id } }", "variables": {"n": ' + b"1" * 5_000 + b"}}",
        b'{"query": "{ agents { id } }", "variables": {"n": 1e400}}',
        b'{"query": "{ agents { id } }", "variables": {"n": NaN}}',
        nested(300, GRAPHQL),
        nested(500, GRAPHQL),
        nested(5_000, GRAPHQL),
    ],
    ids=[
        "null",
        "number",
        "string",
        "list",
        "not-utf8",
        "5000-digits",
        "1e400",
        "NaN",
        "nested-300",
        "nested-500",
        "nested-5000",
    ],
)
def test_graphql_bodies_that_are_not_a_request_are_400(api: Api, body: bytes) -> None:
    response = post(api, "/graphql", body)
    assert response.status_code == 400, response.text
    assert response.text.strip(), "the reason is said"


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"null", "JSON object"),
        (b"5", "JSON object"),
        (b'"x"', "JSON object"),
        (b"\xff\xfe", "UTF-8"),
        (b'{"template_id": "vat_report", "n": ' + b"1" * 5_000 + b"}", "JSON"),
        (b'{"template_id": "vat_report", "n": 1e400}', "JSON"),
        (nested(500, REST), "deep"),
        (nested(300, REST), "deep"),
    ],
    ids=[
        "null",
        "number",
        "string",
        "not-utf8",
        "5000-digits",
        "1e400",
        "nested-500",
        "nested-300",
    ],
)
@pytest.mark.parametrize("path", ["/workflows/execute", "/copilot/execute"])
def test_rest_bodies_that_are_not_an_object_are_422(
    api: Api, path: str, body: bytes, said: str
) -> None:
    response = post(api, BASE + path, body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert said in json.dumps(error), error


@pytest.mark.parametrize("hours", ["²", "1" * 5_000, "-1", "1.5", "", " 1", "٣"])
def test_metrics_hours_back_must_be_plain_digits(api: Api, hours: str) -> None:
    response = httpx.get(
        f"{api.url}{BASE}/metrics",
        params={"hours_back": hours},
        headers={"X-API-Key": api.keys["admin"]},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["problems"][0]["path"] == "hours_back"


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        ("query($id: ID!) { execution(id: $id) { id } }", {"id": LONE}, "id"),
        (
            "mutation($n: String!) { createApiKey(name: $n, role: VIEWER) { key } }",
            {"n": f"ci{LONE}"},
            "n",
        ),
        (
            "mutation($k: String) { executeWorkflow(input: "
            '{templateId: "vat_report", idempotencyKey: $k}) { id } }',
            {"k": LONE},
            "k",
        ),
        (START, {"g": {"steps": [], f"x{LONE}": 1}}, "g"),
        (
            "mutation($d: String!) { saveWorkflow(input: "
            '{name: "w", description: $d, graph: {steps: []}}) { id } }',
            {"d": f"kuvaus {LONE}"},
            "d",
        ),
        (
            "query($c: String!) { copilotPlan(command: $c) { planner } }",
            {"c": f"Tee ALV-laskelma viime kuulta {LONE}"},
            "c",
        ),
    ],
    ids=["id", "key-name", "idempotency-key", "json-key", "description", "command"],
)
def test_a_lone_surrogate_is_refused_naming_its_field(
    api: Api, query: str, variables: dict[str, Any], field: str
) -> None:
    response = post(api, "/graphql", {"query": query, "variables": variables})
    assert response.status_code == 400, response.text
    assert f"variables.{field}" in response.text and "surrogate" in response.text


def test_a_lone_surrogate_in_a_rest_body_is_refused_naming_its_field(
    api: Api,
) -> None:
    response = post(
        api,
        BASE + "/workflows/execute",
        {"template_id": "vat_report", "idempotency_key": LONE},
    )
    assert response.status_code == 422, response.text
    problem = response.json()["error"]["problems"][0]
    assert problem["path"] == "idempotency_key" and "surrogate" in problem["message"]


@pytest.mark.parametrize(
    "when", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]
)
def test_datetimes_beyond_utc_are_refused(api: Api, when: str) -> None:
    for query, variables in [
        (
            'mutation($e: DateTime) { createApiKey(name: "k", role: VIEWER, '
            "expiresAt: $e) { key } }",
            {"e": when},
        ),
        (
            f'mutation {{ createApiKey(name: "k", role: VIEWER, expiresAt: "{when}") '
            "{ key } }",
            None,
        ),
        (
            "query($s: DateTime) { auditLogs(filter: {since: $s}) { edges { node "
            "{ id } } } }",
            {"s": when},
        ),
        (
            f'{{ auditLogs(filter: {{until: "{when}"}}) '
            "{ edges { node { id } } } }",
            None,
        ),
        (
            "query($s: DateTime) { executions(filter: {since: $s}) { edges { node "
            "{ id } } } }",
            {"s": when},
        ),
    ]:
        errors = graphql(api, query, variables)
        assert len(errors) == 1, errors
        assert "UTC" in errors[0]["message"], errors


@pytest.mark.parametrize(
    "zone", ["Europe", "Europe/", "x" * 10_000, "../../etc/passwd", "", "Mars/Olympus"]
)
def test_a_copilot_time_zone_must_be_a_zone(api: Api, zone: str) -> None:
    errors = graphql(
        api,
        "query($c: CopilotContextInput) { copilotPlan(command: "
        '"Tee ALV-laskelma viime kuulta", context: $c) { planner } }',
        {"c": {"timezone": zone, "referenceDate": "2026-11-24"}},
    )
    if zone == "":
        assert errors == [], "an empty zone is the default zone"
        return
    assert [e["extensions"]["code"] for e in errors] == ["VALIDATION_FAILED"]
    assert errors[0]["extensions"]["problems"][0]["path"] == "context.timezone"


@pytest.mark.parametrize("day", ["0001-01-01", "0001-03-31", "9999-12-31"])
@pytest.mark.parametrize(
    "command",
    [
        "Tee ALV-laskelma viime kuulta",
        "Luo talousraportti viime vuodelta",
        "Tee ALV-laskelma viime neljännekseltä",
        "Luo talousraportti viime viikolta",
    ],
)
def test_a_reference_date_at_the_ends_of_the_calendar_is_a_clear_error(
    api: Api, day: str, command: str
) -> None:
    errors = graphql(
        api,
        "query($c: String!, $x: CopilotContextInput) { copilotPlan(command: $c, "
        "context: $x) { variables } }",
        {"c": command, "x": {"referenceDate": day}},
    )
    assert [e["extensions"]["code"] for e in errors] == ["VALIDATION_FAILED"], errors
    assert errors[0]["extensions"]["problems"][0]["path"] == "context.reference_date"


def test_a_refused_10k_character_id_is_audited_in_short(api: Api) -> None:
    """The audit column holds 128 characters: an id far longer is recorded cut, not
    lost with a database error."""
    request_id = uuid.uuid4().hex
    response = httpx.post(
        api.url + "/graphql",
        json={
            "query": "query($id: ID!) { execution(id: $id) { id } }",
            "variables": {"id": "x" * 10_000},
        },
        headers={"X-API-Key": api.keys["admin"], "X-Request-Id": request_id},
        timeout=60,
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    async def rows() -> list[Any]:
        async with create_database(api.database_url) as db, db.read() as conn:
            found = await conn.execute(
                text(
                    "select result, resource_id from agent_audit_logs "
                    "where request_id = :id"
                ),
                {"id": request_id},
            )
            return [tuple(r) for r in found]

    [(result, resource_id)] = anyio.run(rows)
    assert result == "denied"
    assert resource_id.startswith("xxx") and len(resource_id) <= 128
