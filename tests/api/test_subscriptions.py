"""Subscriptions over real WebSockets (graphql-transport-ws): replay then live with no
gap and no duplicate, whenever the client joins; metrics pushed at an interval.

The server here also has `gate_agent` (tests/api/gate_agent.py), which holds a run at a
step until the test opens the gate: a test can then know which events were stored
before a client followed and which only after.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from tests.support.gql import GraphQLClient, ws_connect
from tests.support.server import ServerProcess

from .conftest import Api, make_key
from .test_graphql import EXECUTE, wait_final

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from tests.support.databases import DatabaseFactory

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

EVENTS = """subscription($id: ID!, $after: Int) {
  executionEvents(executionId: $id, afterSeq: $after) {
    seq type executionId stepId agentId attempt at data
  }
}"""

SLOW_GRAPH = {
    "steps": [
        {
            "id": "a",
            "agent": "wait_agent",
            "inputs": {"seconds": 0.4, "progress_every_s": 0.1},
        },
        {
            "id": "b",
            "agent": "wait_agent",
            "inputs": {"seconds": 0.4, "progress_every_s": 0.1},
        },
        {"id": "c", "agent": "flaky_agent", "inputs": {"fail_times": 1}},
    ]
}


STORED = "query($id: ID!) { execution(id: $id) { events { seq type stepId } } }"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(
    request: pytest.FixtureRequest,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Api]:
    """The API server of tests/api/conftest.py, with `gate_agent` as well."""
    workdir = tmp_path_factory.mktemp(f"subscriptions-{request.param}")
    url = database_factory.new(request.param, workdir)
    keys = {
        role: make_key(url, role, role, "acme")
        for role in ("admin", "operator", "viewer")
    }
    keys["other"] = make_key(url, "other admin", "admin", "globex")
    env = {
        "DATABASE_URL": url,
        "AGENT_FILES_DIR": str(workdir / "files"),
        "AGENT_PLUGINS": "tests.support.agents,tests.api.gate_agent",
        "AGENT_LEASE_SECONDS": "5",
        "AGENT_RETRY_INITIAL_MS": "20",
        "AGENT_METRICS_INTERVAL_S": "0.2",
        "AGENT_RATE_LIMIT": "100000/minute",
        "AGENT_KEY_RECHECK_S": "1",
    }
    server = ServerProcess(env, workdir / "server.log").start()
    try:
        yield Api(server.url, url, keys, server, workdir / "files")
    finally:
        server.stop()
        database_factory.drop(url)


async def stored_until(
    client: GraphQLClient,
    execution_id: str,
    found: Callable[[dict[str, Any]], bool],
    timeout: float = 30,
) -> list[dict[str, Any]]:
    """The execution's stored events, once one of them is `found`."""
    deadline = time.monotonic() + timeout
    while True:
        data = await client.data(STORED, {"id": execution_id})
        events: list[dict[str, Any]] = data["execution"]["events"]
        if any(found(e) for e in events):
            return events
        assert time.monotonic() < deadline, events
        await anyio.sleep(0.05)


def started(step_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["type"] == "STEP_STARTED" and e["stepId"] == step_id


async def collect(
    api: Api, execution_id: str, after: int | None = None
) -> list[dict[str, Any]]:
    async with ws_connect(api.url, api.keys["viewer"]) as ws:
        op = await ws.start(EVENTS, {"id": execution_id, "after": after})
        with anyio.fail_after(30):
            return [m["data"]["executionEvents"] async for m in ws.messages(op)]


def check_stream(events: list[dict[str, Any]], first_seq: int = 1) -> None:
    assert [e["seq"] for e in events] == list(range(first_seq, first_seq + len(events)))
    assert events[-1]["type"] == "EXECUTION_SUCCEEDED"


async def start(api: Api) -> str:
    data = await api.client("operator").data(EXECUTE, {"input": {"graph": SLOW_GRAPH}})
    return str(data["executeWorkflow"]["id"])


async def test_joining_mid_run_replays_then_streams_live(
    api: Api, tmp_path: Path
) -> None:
    """The run is held (`gate_agent`) until the client follows, and again until it has
    received what the run stored meanwhile. Those events were stored after the client
    joined, while the run was driven by this server: only live delivery brings them
    (the server reads the store back for an execution it drives only on a gap)."""
    first, second = tmp_path / "first", tmp_path / "second"

    def after(step_id: str) -> dict[str, list[str]]:
        return {"depends_on": [step_id]}

    graph = {
        "steps": [
            {
                "id": "a",
                "agent": "wait_agent",
                "inputs": {"seconds": 0.05, "progress_every_s": 0.01},
            },
            {
                "id": "hold",
                "agent": "gate_agent",
                "inputs": {"path": str(first)},
                **after("a"),
            },
            {
                "id": "b",
                "agent": "wait_agent",
                "inputs": {"seconds": 0.2, "progress_every_s": 0.05},
                **after("hold"),
            },
            {
                "id": "c",
                "agent": "flaky_agent",
                "inputs": {"fail_times": 1},
                **after("b"),
            },
            {
                "id": "again",
                "agent": "gate_agent",
                "inputs": {"path": str(second)},
                **after("c"),
            },
        ]
    }
    operator = api.client("operator")
    data = await operator.data(EXECUTE, {"input": {"graph": graph}})
    execution_id = data["executeWorkflow"]["id"]
    before = await stored_until(operator, execution_id, started("hold"))
    backlog = max(e["seq"] for e in before)
    received: list[dict[str, Any]] = []
    async with ws_connect(api.url, api.keys["viewer"]) as ws:
        op = await ws.start(EVENTS, {"id": execution_id, "after": None})
        messages = ws.messages(op)
        with anyio.fail_after(30):
            while not received or received[-1]["seq"] < backlog:
                received.append((await anext(messages))["data"]["executionEvents"])
            # The client has had the replay: it follows. Only now does the run go
            # on, to `again`, where it waits while this server drives it.
            first.touch()
            while not started("again")(received[-1]):
                received.append((await anext(messages))["data"]["executionEvents"])
            live = [e for e in received if e["seq"] > backlog]
            second.touch()
            async for message in messages:
                received.append(message["data"]["executionEvents"])
    check_stream(received)
    assert [e["seq"] for e in received[: len(before)]] == [e["seq"] for e in before]
    kinds = {(e["type"], e["stepId"]) for e in live}
    assert {
        ("STEP_SUCCEEDED", "hold"),
        ("STEP_PROGRESS", "b"),
        ("STEP_RETRYING", "c"),
        ("STEP_STARTED", "again"),
    } <= kinds
    assert all(e["executionId"] == execution_id for e in received)
    retry = next(e for e in received if e["type"] == "STEP_RETRYING")
    assert (
        retry["stepId"] == "c"
        and retry["agentId"] == "flaky_agent"
        and retry["data"]["delay_ms"] >= 0
    )


async def test_two_clients_see_the_same_sequence(api: Api) -> None:
    execution_id = await start(api)
    results: dict[int, list[dict[str, Any]]] = {}
    first_has_events = anyio.Event()

    async def client(n: int) -> None:
        async with ws_connect(api.url, api.keys["viewer"]) as ws:
            op = await ws.start(EVENTS, {"id": execution_id, "after": None})
            events = results.setdefault(n, [])
            with anyio.fail_after(30):
                async for message in ws.messages(op):
                    events.append(message["data"]["executionEvents"])
                    first_has_events.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(client, 1)
        await first_has_events.wait()  # the second comes once the first follows
        tg.start_soon(client, 2)
    check_stream(results[1])
    assert results[1] == results[2]


async def test_joining_after_the_end_replays_and_completes(api: Api) -> None:
    execution_id = await start(api)
    await wait_final(api.client("viewer"), execution_id)
    events = await collect(api, execution_id)
    check_stream(events)
    later = await collect(api, execution_id, after=3)
    assert later == events[3:]
    nothing = await collect(api, execution_id, after=events[-1]["seq"])
    assert nothing == []


async def test_other_tenants_cannot_follow(api: Api) -> None:
    execution_id = await start(api)
    async with ws_connect(api.url, api.keys["other"]) as ws:
        op = await ws.start(EVENTS, {"id": execution_id})
        with pytest.raises(AssertionError, match="NOT_FOUND"):
            with anyio.fail_after(10):
                async for _ in ws.messages(op):
                    pass


async def test_metrics_updates_are_pushed(api: Api) -> None:
    query = """subscription { metricsUpdates(hoursBack: 24) {
        totalExecutions successRate avgDurationMs p95DurationMs errorRate
        agents { agentId } } }"""
    async with ws_connect(api.url, api.keys["viewer"]) as ws:
        op = await ws.start(query)
        updates = []
        with anyio.fail_after(20):
            async for message in ws.messages(op):
                updates.append(message["data"]["metricsUpdates"])
                if len(updates) == 1:
                    await start(api)
                if (
                    len(updates) >= 2
                    and updates[-1]["totalExecutions"] > updates[0]["totalExecutions"]
                ):
                    break
    assert updates[-1]["totalExecutions"] > updates[0]["totalExecutions"]


async def test_a_bad_key_is_refused_at_connection_init(api: Api) -> None:
    import websockets

    with pytest.raises(websockets.ConnectionClosed) as closed:
        async with ws_connect(api.url, "ao_" + "y" * 36):
            pass
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_any_selection_shape_streams_the_same_events(api: Api) -> None:
    """Aliases, fragments and __typename go through the same path as a plain field
    list (there is one path)."""
    execution_id = await start(api)
    await wait_final(api.client("viewer"), execution_id)
    shaped = """subscription($id: ID!) {
      events: executionEvents(executionId: $id) { __typename ...Parts number: seq }
    }
    fragment Parts on ExecutionEvent {
      seq type executionId stepId agentId attempt at data
    }
    """

    async def follow(query: str, field: str) -> list[dict[str, Any]]:
        async with ws_connect(api.url, api.keys["viewer"]) as ws:
            op = await ws.start(query, {"id": execution_id})
            with anyio.fail_after(30):
                return [m["data"][field] async for m in ws.messages(op)]

    plain, other = (
        await follow(EVENTS, "executionEvents"),
        await follow(shaped, "events"),
    )
    check_stream(plain)
    assert all(e.pop("__typename") == "ExecutionEvent" for e in other)
    assert all(e.pop("number") == e["seq"] for e in other)
    assert other == plain
