"""`serve --workers 2` on PostgreSQL: two API processes behind one port answer
/health and GraphQL and both take requests; a subscription served by one process
follows an execution that the other runs (events cross processes by LISTEN/NOTIFY);
the rate limit, kept in Redis, is one limit for both. SQLite is refused.

Which process served a request is read from the operating system, not from anything
the server says: it is the worker process that holds the server's end of the
request's TCP connection (psutil).
"""

from __future__ import annotations

import time
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import psutil
import pytest

from tests.api.conftest import make_keys
from tests.cli.process import cli
from tests.support.gql import ws_connect
from tests.support.server import ServerProcess, check_redis, free_port, redis_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from tests.support.databases import DatabaseFactory
    from tests.support.gql import Subscription

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

WORKERS = 2
LIMIT = 5
AGENTS = {"query": "{ agents { id } }"}
EXECUTE = "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }"
EVENTS = (
    "subscription($id: ID!) { executionEvents(executionId: $id, afterSeq: 0) "
    "{ seq type stepId } }"
)
RESULT = "query($id: ID!) { execution(id: $id) { status result } }"


@dataclass(frozen=True)
class Served:
    """The server of this module, its worker processes and API keys."""

    server: ServerProcess
    workers: frozenset[int]
    keys: dict[str, str]


@pytest.fixture(scope="module")
def served(
    database_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    check_redis()
    url = database_factory.postgres()
    keys = make_keys(
        url,
        {
            "viewer": ("viewer", "acme"),
            "operator": ("operator", "acme"),
            "limited": ("viewer", "acme"),
        },
    )
    tmp = tmp_path_factory.mktemp("workers")
    env = {
        "DATABASE_URL": url,
        "AGENT_RATE_LIMIT": f"{LIMIT}/minute",
        "AGENT_RATE_LIMIT_STORAGE": redis_url(),
        "AGENT_FILES_DIR": str(tmp / "files"),
        # gate_agent holds a step until the test opens its gate.
        "AGENT_PLUGINS": "tests.support.agents,tests.api.gate_agent",
    }
    try:
        with ServerProcess(
            env, tmp / "serve.log", args=["--workers", str(WORKERS)]
        ) as server:
            yield Served(server, worker_pids(server), keys)
    finally:
        database_factory.drop(url)


def worker_pids(server: ServerProcess, timeout: float = 60) -> frozenset[int]:
    """The processes that listen on the server's port: the children of the
    ``serve`` process (uvicorn's process manager, which does not serve itself)."""
    assert server.process is not None
    parent = psutil.Process(server.process.pid)
    deadline = time.monotonic() + timeout
    while True:
        listening = set()
        for child in parent.children():
            try:
                connections = child.net_connections("tcp")
            except psutil.NoSuchProcess:
                continue
            if any(
                c.status == psutil.CONN_LISTEN and c.laddr.port == server.port
                for c in connections
            ):
                listening.add(child.pid)
        if len(listening) == WORKERS:
            return frozenset(listening)
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(listening)} of {WORKERS} worker processes listen on port "
                f"{server.port}:\n{server.log()}"
            )
        time.sleep(0.05)


def serving_pid(served: Served, client_port: int) -> int:
    """The worker process holding the server's end of the connection that the
    client has on `client_port`."""
    owners = {
        pid
        for pid in served.workers
        for c in psutil.Process(pid).net_connections("tcp")
        if c.raddr
        and c.raddr.port == client_port
        and c.laddr.port == served.server.port
    }
    assert len(owners) == 1, f"connection from port {client_port} held by {owners}"
    return owners.pop()


def client_port(response: httpx.Response) -> int:
    """The client's port of the connection that carried `response`."""
    address = response.extensions["network_stream"].get_extra_info("client_addr")
    return int(address[1])


@contextmanager
def connection_on(
    served: Served, pid: int, timeout: float = 60
) -> Iterator[httpx.Client]:
    """An HTTP client whose one kept-alive connection worker `pid` has accepted.

    New connections are opened until the kernel hands one to that process: each
    is checked with ``/health`` (public, so no rate limit is spent).
    """
    deadline = time.monotonic() + timeout
    tries = 0
    while time.monotonic() < deadline:
        tries += 1
        with httpx.Client(base_url=served.server.url, timeout=30) as http:
            health = http.get("/health")
            assert health.status_code == 200, health.text
            assert health.json()["status"] == "ok"
            assert health.json()["database"]["dialect"] == "postgresql"
            if serving_pid(served, client_port(health)) == pid:
                yield http
                return
    raise AssertionError(
        f"none of {tries} connections in {timeout} s went to worker {pid}:\n"
        + served.server.log()
    )


def post_on(served: Served, pid: int, key: str, body: dict[str, Any]) -> httpx.Response:
    """POST /graphql served by worker `pid` (checked after the answer)."""
    with connection_on(served, pid) as http:
        response = http.post("/graphql", json=body, headers={"X-API-Key": key})
        assert serving_pid(served, client_port(response)) == pid
        return response


@asynccontextmanager
async def socket_on(
    served: Served, pid: int, key: str, timeout: float = 60
) -> AsyncIterator[Subscription]:
    """A graphql-transport-ws connection that worker `pid` serves."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with ws_connect(served.server.url, key) as ws:
            if serving_pid(served, ws.socket.local_address[1]) == pid:
                yield ws
                return
    raise AssertionError(f"no WebSocket went to worker {pid} in {timeout} s")


async def runner_of(marks: Path, timeout: float = 60) -> int:
    """The process id that `touch_agent` writes when its step runs."""
    with anyio.fail_after(timeout):
        while not marks.read_text().endswith("\n"):
            await anyio.sleep(0.02)
    (line,) = marks.read_text().splitlines()
    return int(line.split()[3])


def test_two_processes_answer_health_and_graphql(served: Served) -> None:
    assert len(served.workers) == WORKERS
    assert served.server.process is not None
    assert served.server.process.pid not in served.workers
    for pid in served.workers:
        response = post_on(served, pid, served.keys["viewer"], AGENTS)
        assert response.status_code == 200, response.text
        ids = {agent["id"] for agent in response.json()["data"]["agents"]}
        assert {"ocr_agent", "touch_agent", "gate_agent"} <= ids


async def test_a_subscription_follows_an_execution_run_by_the_other_process(
    served: Served, tmp_path: Path
) -> None:
    key = served.keys["operator"]
    marks, gate = tmp_path / "runs.txt", tmp_path / "gate"
    marks.touch()
    graph = {
        "steps": [
            {"id": "mark", "agent": "touch_agent", "inputs": {"path": str(marks)}},
            {
                "id": "wait",
                "agent": "gate_agent",
                "inputs": {"path": str(gate), "timeout_s": 60},
                "depends_on": ["mark"],
            },
        ],
        "outputs": {"mark": "${steps.mark.value}"},
    }
    first = min(served.workers)
    started = post_on(served, first, key, {"query": EXECUTE, "variables": {"g": graph}})
    assert started.status_code == 200, started.text
    execution_id = started.json()["data"]["executeWorkflow"]["id"]
    runner = await runner_of(marks)
    assert runner in served.workers
    (watcher,) = served.workers - {runner}

    events: list[dict[str, Any]] = []
    with anyio.fail_after(60):
        async with socket_on(served, watcher, key) as ws:
            op = await ws.start(EVENTS, {"id": execution_id})
            async for payload in ws.messages(op):
                event = payload["data"]["executionEvents"]
                events.append(event)
                if (event["type"], event["stepId"]) == ("STEP_STARTED", "wait"):
                    # The step may end only now: what follows happens in the other
                    # process while this one is subscribed.
                    gate.touch()

    assert [(e["type"], e["stepId"]) for e in events] == [
        ("EXECUTION_STARTED", None),
        ("STEP_STARTED", "mark"),
        ("STEP_SUCCEEDED", "mark"),
        ("STEP_STARTED", "wait"),
        ("STEP_SUCCEEDED", "wait"),
        ("EXECUTION_SUCCEEDED", None),
    ]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    done = post_on(
        served, watcher, key, {"query": RESULT, "variables": {"id": execution_id}}
    )
    execution = done.json()["data"]["execution"]
    assert execution == {"status": "SUCCEEDED", "result": {"mark": "mark-done"}}
    # One process ran the whole execution, once.
    assert [int(line.split()[3]) for line in marks.read_text().splitlines()] == [runner]


def test_the_rate_limit_is_one_for_both_processes(served: Served) -> None:
    key = served.keys["limited"]
    a, b = sorted(served.workers)
    answers = []
    for pid in (a, b, a, b, a, a, b):
        response = post_on(served, pid, key, AGENTS)
        answers.append((pid, response.status_code))
        if response.status_code == 429:
            error = response.json()["errors"][0]
            assert error["extensions"]["code"] == "RATE_LIMITED"
            assert int(response.headers["retry-after"]) >= 1
    # Neither process saw five requests of the key, yet the sixth is refused, and
    # the seventh too on the other process.
    assert answers == [(a, 200), (b, 200), (a, 200), (b, 200), (a, 200)] + [
        (a, 429),
        (b, 429),
    ]


def test_several_processes_refuse_sqlite(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'one.sqlite'}"
    done = cli("serve", "--database-url", database, env={"AGENT_SERVE_WORKERS": "2"})
    assert done.returncode == 2, done.stderr
    assert "serve --workers 2 needs PostgreSQL" in done.stderr
    assert "--workers 1" in done.stderr
    assert not (tmp_path / "one.sqlite").exists()


def test_a_limit_in_memory_is_per_process_and_says_so() -> None:
    # A database nobody listens on: the warning comes before the database check.
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    done = cli(
        "serve",
        "--workers",
        "3",
        env={"DATABASE_URL": nowhere, "AGENT_RATE_LIMIT_STORAGE": "memory"},
    )
    assert done.returncode == 2
    assert "each of the 3 processes counts AGENT_RATE_LIMIT" in done.stderr
    assert "AGENT_RATE_LIMIT_STORAGE=redis://" in done.stderr
