"""schemathesis (GraphQL mode) against the live server: at least 1,000 generated
operations, no 5xx, no unexpected error, no stack trace or SQL in any response, and a
consistent database afterwards."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import anyio
import graphql
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from agent_orchestrator.store.database import create_database

if TYPE_CHECKING:
    from tests.api.conftest import Api

# A thousand generated operations a database: on a busy machine more than the
# suite's default two minutes; the guard is against a hang, not a time goal.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
OPERATIONS = 1_000
OUR_CODES = {
    "VALIDATION_FAILED",
    "NOT_FOUND",
    "FORBIDDEN",
    "UNAUTHENTICATED",
    "CONFLICT",
    "RATE_LIMITED",
    "PLANNING_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "BAD_USER_INPUT",
}
LEAKS = re.compile(
    r"Traceback|File \"|sqlalchemy|asyncpg|aiosqlite|psycopg|SELECT |INSERT INTO|"
    r"UPDATE agent_|sqlite3",
    re.IGNORECASE,
)


def json_node(value: object) -> graphql.ValueNode:
    """A JSON value as a GraphQL literal."""
    if isinstance(value, dict):
        return graphql.ObjectValueNode(
            fields=tuple(
                graphql.ObjectFieldNode(
                    name=graphql.NameNode(value=k), value=json_node(v)
                )
                for k, v in value.items()
            )
        )
    if isinstance(value, list):
        return graphql.ListValueNode(values=tuple(json_node(v) for v in value))
    if isinstance(value, bool):
        return graphql.BooleanValueNode(value=value)
    if isinstance(value, int):
        return graphql.IntValueNode(value=str(value))
    if isinstance(value, float):
        return graphql.FloatValueNode(value=repr(value))
    if value is None:
        return graphql.NullValueNode()
    return graphql.StringValueNode(value=str(value))


NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4)
    ),
    max_leaves=12,
)
GRAPHS = st.fixed_dictionaries(
    {
        "steps": st.lists(
            st.fixed_dictionaries(
                {
                    "id": NAMES,
                    "agent": st.sampled_from(
                        ["wait_agent", "echo_agent", "nope", "flaky_agent"]
                    ),
                    "inputs": st.dictionaries(
                        st.sampled_from(["seconds", "text", "value", "x"]),
                        SCALARS | st.sampled_from(["${vars.x}", "${steps.a.value}"]),
                        max_size=2,
                    ),
                    "depends_on": st.lists(NAMES, max_size=2),
                }
            ),
            max_size=4,
        )
    }
)
schemathesis.graphql.scalar("JSON", (JSON | GRAPHS).map(json_node))


def test_generated_operations_find_no_server_error(api: Api) -> None:
    schema = schemathesis.graphql.from_url(
        api.url + "/graphql", headers={"X-API-Key": api.keys["admin"]}
    )
    headers = {"X-API-Key": api.keys["admin"]}
    calls = 0
    codes: dict[str, int] = {}

    @settings(
        max_examples=OPERATIONS,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    # `as_strategy()` is typed as yielding `Case` of any operation type.
    @given(case=schema.as_strategy())
    def run(case: schemathesis.Case[Any]) -> None:
        nonlocal calls
        calls += 1
        response = case.call(headers=headers)
        assert response.status_code < 500, response.text
        assert not LEAKS.search(response.text), response.text
        if response.status_code == 400 and "NUL" in response.text:
            codes["HTTP_400_NUL"] = codes.get("HTTP_400_NUL", 0) + 1
            return
        body = response.json()
        for error in body.get("errors") or []:
            code = (error.get("extensions") or {}).get("code", "")
            codes[code] = codes.get(code, 0) + 1
            assert code in OUR_CODES, error

    run()
    print(f"fuzzed operations: {calls}; error codes: {codes}")
    assert calls >= OPERATIONS

    async def consistent() -> None:
        async with create_database(api.database_url) as db, db.read() as conn:
            gaps = (
                await conn.execute(
                    text(
                        "select execution_id from agent_execution_events "
                        "group by execution_id "
                        "having count(*) != max(seq) or min(seq) != 1"
                    )
                )
            ).all()
            assert gaps == []
            unfinished = (
                await conn.execute(
                    text(
                        "select id from agent_workflow_executions where status in "
                        "('SUCCEEDED','FAILED','CANCELLED') and completed_at is null"
                    )
                )
            ).all()
            assert unfinished == []
            strays = (
                await conn.execute(
                    text(
                        "select e.id from agent_workflow_executions e "
                        "left join agent_step_runs s on s.execution_id = e.id "
                        "group by e.id having count(s.id) = 0"
                    )
                )
            ).all()
            assert strays == []
            versions = (
                await conn.execute(
                    text(
                        "select w.id from agent_workflows w "
                        "left join agent_workflow_versions v "
                        "on v.workflow_id = w.id and v.version = w.version "
                        "where v.workflow_id is null"
                    )
                )
            ).all()
            assert versions == []

    anyio.run(consistent)
