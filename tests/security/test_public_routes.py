"""What answers without a key: the GraphiQL page (but never a GraphQL request sent as a
GET, however its parameters are spelled), and /metrics only when
AGENT_METRICS_PUBLIC says so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.api.conftest import make_keys
from tests.support.server import ServerProcess

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support.databases import DatabaseFactory

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
SCHEMA = "{__schema{queryType{name}}}"
HTML = {"Accept": "text/html"}


@dataclass
class Server:
    url: str
    admin: str


def serve(
    database_factory: DatabaseFactory, tmp_path: Path, **env: str
) -> Iterator[Server]:
    url = database_factory.sqlite(tmp_path)
    admin = make_keys(url, {"admin": ("admin", "acme")})["admin"]
    settings = {"DATABASE_URL": url, "AGENT_FILES_DIR": str(tmp_path / "files"), **env}
    with ServerProcess(settings, tmp_path / "server.log") as process:
        yield Server(process.url, admin)


@pytest.fixture(scope="module")
def private(
    database_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    yield from serve(database_factory, tmp_path_factory.mktemp("private"))


@pytest.fixture(scope="module")
def public(
    database_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    yield from serve(
        database_factory,
        tmp_path_factory.mktemp("public"),
        AGENT_METRICS_PUBLIC="true",
    )


@pytest.mark.parametrize(
    "query_string",
    [
        f"query={SCHEMA}",
        f"%71uery={SCHEMA}",
        f"q%75ery={SCHEMA}",
        f"QUERY=x&%71%75%65%72%79={SCHEMA}",
        f"a=1&query={SCHEMA}",
        f"a=1&b=2&query={SCHEMA}&c=3",
        f"query={SCHEMA}&operationName=",
        "operationName=x",
        "variables=%7B%7D",
        "extensions=%7B%7D",
        f"x=%26query%3D&query={SCHEMA}",
    ],
)
async def test_a_graphql_request_over_get_needs_a_key(
    private: Server, query_string: str
) -> None:
    async with httpx.AsyncClient(base_url=private.url) as http:
        answer = await http.get(f"/graphql?{query_string}", headers=HTML)
    assert answer.status_code == 401, answer.text
    assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "queryType" not in answer.text


@pytest.mark.parametrize(
    "query_string", ["", "theme=dark", "a=1;query=x", f"xquery={SCHEMA}"]
)
async def test_the_ide_page_needs_no_key(private: Server, query_string: str) -> None:
    async with httpx.AsyncClient(base_url=private.url) as http:
        page = await http.get(f"/graphql?{query_string}", headers=HTML)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "queryType" not in page.text


async def test_a_get_request_with_a_key_still_runs(private: Server) -> None:
    async with httpx.AsyncClient(base_url=private.url) as http:
        answer = await http.get(
            "/graphql",
            params={"query": SCHEMA},
            headers={"X-API-Key": private.admin, "Accept": "application/json"},
        )
    assert answer.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_metrics_need_an_admin_key_by_default(private: Server) -> None:
    async with httpx.AsyncClient(base_url=private.url) as http:
        assert (await http.get("/metrics")).status_code == 401
        scraped = await http.get("/metrics", headers={"X-API-Key": private.admin})
    assert scraped.status_code == 200
    assert "agent_orchestrator_queue_depth" in scraped.text


async def test_metrics_can_be_public(public: Server) -> None:
    async with httpx.AsyncClient(base_url=public.url) as http:
        scraped = await http.get("/metrics")
    assert scraped.status_code == 200
    assert "agent_orchestrator_queue_depth" in scraped.text
