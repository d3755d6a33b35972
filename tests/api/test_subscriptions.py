"""Subscriptions over real WebSockets (graphql-transport-ws): replay then live with no gap
and no duplicate, whenever the client joins; metrics pushed at an interval."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
import pytest

from tests.support.gql import ws_connect

from .test_graphql import EXECUTE, wait_final

if TYPE_CHECKING:
    from .conftest import Api

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
    return data["executeWorkflow"]["id"]


async def test_joining_mid_run_replays_then_streams_live(api: Api) -> None:
    execution_id = await start(api)
    await anyio.sleep(0.5)  # some events are stored before the client comes
    events = await collect(api, execution_id)
    check_stream(events)
    kinds = [e["type"] for e in events]
    assert "STEP_PROGRESS" in kinds and "STEP_RETRYING" in kinds
    assert all(e["executionId"] == execution_id for e in events)
    retry = next(e for e in events if e["type"] == "STEP_RETRYING")
    assert (
        retry["stepId"] == "c"
        and retry["agentId"] == "flaky_agent"
        and retry["data"]["delay_ms"] >= 0
    )


async def test_two_clients_see_the_same_sequence(api: Api) -> None:
    execution_id = await start(api)
    results: dict[int, list[dict[str, Any]]] = {}

    async def client(n: int) -> None:
        results[n] = await collect(api, execution_id)

    async with anyio.create_task_group() as tg:
        tg.start_soon(client, 1)
        await anyio.sleep(0.3)
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
        totalExecutions successRate avgDurationMs p95DurationMs errorRate agents { agentId } } }"""
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


async def test_shared_payload_path_matches_strawberrys(api: Api) -> None:
    """The shared-payload path gives exactly what Strawberry's own execution gives."""
    execution_id = await start(api)
    slow_query = EVENTS.replace("seq type", "__typename seq type")

    async def follow(query: str) -> list[dict[str, Any]]:
        async with ws_connect(api.url, api.keys["viewer"]) as ws:
            op = await ws.start(query, {"id": execution_id, "after": None})
            with anyio.fail_after(30):
                return [m["data"]["executionEvents"] async for m in ws.messages(op)]

    fast, slow = await follow(EVENTS), await follow(slow_query)
    check_stream(fast)
    assert [{k: v for k, v in e.items() if k != "__typename"} for e in slow] == fast
    assert all(e["__typename"] == "ExecutionEvent" for e in slow)
