"""The production profile of a real server: ``AGENT_ENV=production`` hides the schema
from introspection, says no "Did you mean", has no GraphiQL page and takes queries over
POST only; each comes back when its variable is set. (The profile touches no database:
SQLite serves.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from tests.api.conftest import make_keys
from tests.support.cop import above, audit
from tests.support.server import ServerProcess

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.slow
INTROSPECTION = "{ __schema { queryType { name } } }"
TYPO = "{ agens { id } }"  # `agents`, mistyped
EXPLICIT = {
    "AGENT_GRAPHQL_INTROSPECTION": "true",
    "AGENT_GRAPHQL_SUGGESTIONS": "true",
    "AGENT_GRAPHIQL": "true",
    "AGENT_GRAPHQL_GET": "true",
}


class Server:
    def __init__(self, url: str, key: str, *, explicit: bool) -> None:
        self.url = url
        self.key = key
        self.explicit = explicit  # the three variables set to true

    def query(self, query: str) -> dict[str, object]:
        response = httpx.post(
            self.url + "/graphql",
            json={"query": query},
            headers={"X-API-Key": self.key},
            timeout=30,
        )
        body: dict[str, object] = response.json()
        return body

    def graphiql(self) -> httpx.Response:
        return httpx.get(
            self.url + "/graphql", headers={"Accept": "text/html"}, timeout=30
        )


@pytest.fixture(scope="module", params=["production", "production+explicit"])
def server(
    request: pytest.FixtureRequest,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("profile")
    url = database_factory.sqlite(workdir)
    key = make_keys(url, {"admin": ("admin", "acme")})["admin"]
    env = {
        "DATABASE_URL": url,
        "AGENT_FILES_DIR": str(workdir / "files"),
        "AGENT_RATE_LIMIT": "100000/minute",
        "AGENT_ENV": "production",
        **(EXPLICIT if request.param.endswith("explicit") else {}),
    }
    with ServerProcess(env, workdir / "server.log") as process:
        yield Server(process.url, key, explicit=request.param.endswith("explicit"))
    database_factory.drop(url)


def test_introspection(server: Server) -> None:
    body = server.query(INTROSPECTION)
    if server.explicit:
        assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    else:
        assert body["data"] is None
        assert "introspection has been disabled" in str(body["errors"])


def test_field_suggestions(server: Server) -> None:
    errors = str(server.query(TYPO)["errors"])
    assert "Cannot query field 'agens'" in errors
    assert ("Did you mean" in errors) == server.explicit


def test_graphiql(server: Server) -> None:
    page = server.graphiql()
    if server.explicit:
        assert page.status_code == 200 and "graphiql" in page.text.lower()
    else:
        assert page.status_code == 404
        assert "graphiql" not in page.text.lower()


def test_graphql_cop_finds_nothing_above_low(server: Server) -> None:
    findings = audit(server.url, server.key)
    titles = [f.title for f in above(findings, "LOW")]
    if server.explicit:
        assert titles == ["Introspection", "GET Method Query Support"], findings
    else:
        assert findings == [], findings


def test_queries_over_get(server: Server) -> None:
    response = httpx.get(
        server.url + "/graphql",
        params={"query": "{ agents { id } }"},
        headers={"X-API-Key": server.key},
        timeout=30,
    )
    if server.explicit:
        assert response.status_code == 200 and response.json()["data"]["agents"]
    else:
        assert response.status_code == 400
        assert response.text == "queries are not allowed when using GET"
