"""Abuse limits: the per-key rate limit shared by two server processes through Redis,
an outage of its store (never a 500), body size, query depth, aliases, tokens and page
size, and API keys never stored or logged in plain text."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.api.conftest import make_key
from tests.support.server import ServerProcess, check_redis, free_port, redis_url

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.databases import DatabaseFactory

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
QUERY = {"query": "{ agents { id } }"}


def test_rate_limit_holds_across_two_processes(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    check_redis()
    url = database_factory.postgres()
    key = make_key(url, "limited", "viewer", "acme")
    prefix = f"/{tmp_path.name}"
    env = {
        "DATABASE_URL": url,
        "AGENT_RATE_LIMIT": "6/minute",
        "AGENT_RATE_LIMIT_STORAGE": redis_url(),
        "AGENT_FILES_DIR": str(tmp_path),
        "AGENT_WORKER_ENABLED": "false",
    }
    del prefix
    try:
        with (
            ServerProcess(env, tmp_path / "a.log") as a,
            ServerProcess(env, tmp_path / "b.log") as b,
        ):
            statuses = []
            for i in range(8):
                server = a if i % 2 == 0 else b
                response = httpx.post(
                    server.url + "/graphql",
                    json=QUERY,
                    headers={"X-API-Key": key},
                    timeout=10,
                )
                statuses.append(response.status_code)
                if response.status_code == 429:
                    assert int(response.headers["retry-after"]) >= 1
                    assert (
                        response.json()["errors"][0]["extensions"]["code"]
                        == "RATE_LIMITED"
                    )
            # Six requests fit the minute, whichever process took them.
            assert statuses == [200] * 6 + [429, 429]
            other = make_key(url, "other", "viewer", "acme")
            assert (
                httpx.post(
                    b.url + "/graphql", json=QUERY, headers={"X-API-Key": other}
                ).status_code
                == 200
            )
    finally:
        database_factory.drop(url)


def test_an_unreachable_limit_store_lets_requests_through(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    url = database_factory.sqlite(tmp_path)
    key = make_key(url, "k", "viewer", "acme")
    dead = f"redis://127.0.0.1:{free_port()}/0"
    env = {
        "DATABASE_URL": url,
        "AGENT_RATE_LIMIT": "2/minute",
        "AGENT_RATE_LIMIT_STORAGE": dead,
        "AGENT_FILES_DIR": str(tmp_path),
    }
    with ServerProcess(env, tmp_path / "s.log") as server:
        codes = [
            httpx.post(
                server.url + "/graphql", json=QUERY, headers={"X-API-Key": key}
            ).status_code
            for _ in range(4)
        ]
        assert codes == [200] * 4  # documented: fail open, logged, never a 500
        assert "rate limit store unreachable" in server.log()


def test_request_and_query_limits(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    url = database_factory.sqlite(tmp_path)
    key = make_key(url, "k", "admin", "acme")
    headers = {"X-API-Key": key}
    with ServerProcess(
        {"DATABASE_URL": url, "AGENT_FILES_DIR": str(tmp_path)}, tmp_path / "s.log"
    ) as server:

        def post(body: dict[str, Any]) -> httpx.Response:
            return httpx.post(
                server.url + "/graphql", json=body, headers=headers, timeout=10
            )

        big = post({"query": "{ agents { id } }", "variables": {"x": "a" * 300_000}})
        assert big.status_code == 413
        deep = "{ executions { edges { node { steps { stepId } } } } }"
        nested = (
            "{ workflows { edges { node { "
            + "versions { " * 9
            + "id"
            + " }" * 9
            + " } } } }"
        )
        assert post({"query": deep}).status_code == 200
        depth = post({"query": nested}).json()
        assert "exceeds maximum operation depth" in depth["errors"][0]["message"]
        aliases = "{ " + " ".join(f"a{i}: agents {{ id }}" for i in range(16)) + " }"
        assert (
            "aliases" in post({"query": aliases}).json()["errors"][0]["message"].lower()
        )
        tokens = "{ agents { " + " ".join(["id"] * 1001) + " } }"
        assert "token" in post({"query": tokens}).json()["errors"][0]["message"].lower()
        page = post({"query": "{ auditLogs(first: 500) { edges { cursor } } }"}).json()
        assert page["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
        batch = httpx.post(
            server.url + "/graphql",
            json=[{"query": "{ agents { id } }"}] * 2,
            headers=headers,
        )
        assert batch.status_code == 400
        get_mutation = httpx.get(
            server.url + "/graphql",
            headers=headers,
            params={"query": 'mutation { deleteWorkflow(id: "x") }'},
        )
        assert get_mutation.status_code in (400, 405)


def test_keys_never_appear_in_plain_text(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    url = database_factory.postgres()
    try:
        key = make_key(url, "secret", "admin", "acme")
        with ServerProcess(
            {
                "DATABASE_URL": url,
                "AGENT_FILES_DIR": str(tmp_path),
                "LOG_LEVEL": "DEBUG",
            },
            tmp_path / "s.log",
        ) as server:
            headers = {"X-API-Key": key}
            created = httpx.post(
                server.url + "/graphql",
                headers=headers,
                json={
                    "query": (
                        'mutation { createApiKey(name: "n", role: VIEWER) { key } }'
                    )
                },
            ).json()
            second = created["data"]["createApiKey"]["key"]
            httpx.post(
                server.url + "/graphql", headers={"X-API-Key": second}, json=QUERY
            )
            httpx.post(
                server.url + "/graphql",
                headers={"X-API-Key": second[:-1] + "x"},
                json=QUERY,
            )
            log = server.log()
        dump = subprocess.run(
            ["pg_dump", "--data-only", url.replace("+asyncpg", "")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "agent_api_keys" in dump
        for secret in (key, second):
            assert secret not in dump and secret not in log
    finally:
        database_factory.drop(url)


def test_nul_characters_are_refused_everywhere(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    """PostgreSQL cannot store U+0000; every entry point refuses it up front."""
    url = database_factory.postgres()
    try:
        key = make_key(url, "k", "admin", "acme")
        headers = {"X-API-Key": key}
        with ServerProcess(
            {"DATABASE_URL": url, "AGENT_FILES_DIR": str(tmp_path)}, tmp_path / "s.log"
        ) as server:
            variables = httpx.post(
                server.url + "/graphql",
                headers=headers,
                json={
                    "query": "mutation($k: String) { executeWorkflow(input: "
                    '{templateId: "x", idempotencyKey: $k}) { id } }',
                    "variables": {"k": "a\x00b"},
                },
            )
            assert variables.status_code == 400 and "NUL" in variables.text
            literal = httpx.post(
                server.url + "/graphql",
                headers=headers,
                json={"query": '{ execution(id: "a\\u0000") { id } }'},
            )
            assert literal.status_code == 400
            rest = httpx.post(
                server.url + "/api/v1/agent-orchestrator/workflows/execute",
                headers=headers,
                json={"template_id": "x\x00"},
            )
            assert rest.status_code == 422 and "NUL" in rest.text
            path = httpx.get(
                server.url + "/api/v1/agent-orchestrator/workflows/a%00b/status",
                headers=headers,
            )
            assert path.status_code == 400
            assert "Traceback" not in server.log()
    finally:
        database_factory.drop(url)
