"""`metricsSeries` and `metricsUpdates { series }` on a real server (SQLite and
PostgreSQL): executions that succeeded, failed and were cancelled land in the intervals
of their creation with their statuses and durations, the agents' steps are counted,
the window is checked, and each tenant sees its own."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.gql import follow_to_end, ws_connect

if TYPE_CHECKING:
    from tests.support.gql import GraphQLClient

    from .conftest import Api

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

EXECUTE = "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }"
SERIES_FIELDS = """window intervalSeconds since until queued running waitingApproval
  agents { agentId succeeded failed }
  buckets { start total pending running waitingApproval succeeded failed cancelled
    p50DurationMs p95DurationMs }"""
SERIES = f"query($w: String!) {{ metricsSeries(window: $w) {{ {SERIES_FIELDS} }} }}"
EXECUTIONS = """{ executions(first: 100) { edges { node {
  id status createdAt durationMs } } } }"""
STATUS_FIELDS = {
    "PENDING": "pending",
    "RUNNING": "running",
    "WAITING_APPROVAL": "waitingApproval",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "CANCELLED": "cancelled",
}


def wait(seconds: float) -> dict[str, Any]:
    return {
        "steps": [{"id": "w", "agent": "wait_agent", "inputs": {"seconds": seconds}}]
    }


FAIL = {
    "steps": [
        {
            "id": "f",
            "agent": "flaky_agent",
            "inputs": {"fail_times": 1, "retryable": False},
        }
    ]
}


async def start(client: GraphQLClient, graph: dict[str, Any]) -> str:
    execution_id: str = (await client.data(EXECUTE, {"g": graph}))["executeWorkflow"][
        "id"
    ]
    return execution_id


def nearest_rank(values: list[int], percent: int) -> float | None:
    if not values:
        return None
    return float(sorted(values)[math.ceil(percent * len(values) / 100) - 1])


def expected_buckets(
    buckets: list[dict[str, Any]], executions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The buckets as they must be for `executions`, each put in the interval of its
    creation time (the latest start not after it)."""
    starts = [dt.datetime.fromisoformat(b["start"]) for b in buckets]
    counts: list[Counter[str]] = [Counter() for _ in starts]
    durations: list[list[int]] = [[] for _ in starts]
    for e in executions:
        created = dt.datetime.fromisoformat(e["createdAt"])
        index = max(i for i, s in enumerate(starts) if s <= created)
        counts[index][e["status"]] += 1
        if e["status"] in ("SUCCEEDED", "FAILED", "CANCELLED") and e["durationMs"]:
            durations[index].append(e["durationMs"])
    return [
        {
            "start": b["start"],
            "total": sum(c.values()),
            **{field: c[status] for status, field in STATUS_FIELDS.items()},
            "p50DurationMs": nearest_rank(d, 50),
            "p95DurationMs": nearest_rank(d, 95),
        }
        for b, c, d in zip(buckets, counts, durations, strict=True)
    ]


async def test_the_series_counts_the_tenants_executions_per_interval(api: Api) -> None:
    client = api.client("operator")
    for graph in (wait(0), wait(0.2), FAIL):
        await follow_to_end(api.url, api.keys["operator"], await start(client, graph))
    cancelled = await start(client, wait(60))
    await client.data(
        "mutation($id: ID!) { cancelExecution(id: $id) { id } }", {"id": cancelled}
    )
    await follow_to_end(api.url, api.keys["operator"], cancelled)
    executions = [
        e["node"] for e in (await client.data(EXECUTIONS))["executions"]["edges"]
    ]
    assert Counter(e["status"] for e in executions) == {
        "SUCCEEDED": 2,
        "FAILED": 1,
        "CANCELLED": 1,
    }

    for window, interval, count in (
        ("1h", 60, 60),
        ("24h", 3600, 24),
        ("7d", 21600, 28),
    ):
        series = (await api.client("viewer").data(SERIES, {"w": window}))[
            "metricsSeries"
        ]
        assert (series["window"], series["intervalSeconds"]) == (window, interval)
        assert len(series["buckets"]) == count
        assert series["since"] == series["buckets"][0]["start"]
        assert series["buckets"] == expected_buckets(series["buckets"], executions)
        assert sum(b["total"] for b in series["buckets"]) == 4
        assert series["agents"] == [
            {"agentId": "flaky_agent", "succeeded": 0, "failed": 1},
            {"agentId": "wait_agent", "succeeded": 2, "failed": 0},
        ]
        assert (series["queued"], series["running"], series["waitingApproval"]) == (
            0,
            0,
            0,
        )

    other = (await api.client("other").data(SERIES, {"w": "24h"}))["metricsSeries"]
    assert [b["total"] for b in other["buckets"]] == [0] * 24
    assert other["agents"] == []


async def test_the_subscription_carries_the_same_series(api: Api) -> None:
    client = api.client("viewer")
    query = (
        "subscription($w: String!) { metricsUpdates(hoursBack: 24) { totalExecutions "
        f"series(window: $w) {{ {SERIES_FIELDS} }} }} }}"
    )
    async with ws_connect(api.url, api.keys["viewer"]) as ws:
        op = await ws.start(query, {"w": "24h"})
        async for payload in ws.messages(op):
            pushed = payload["data"]["metricsUpdates"]
            break
    asked = (await client.data(SERIES, {"w": "24h"}))["metricsSeries"]

    # The same intervals with the same numbers (an hour may have turned in between).
    by_start = {b["start"]: b for b in asked["buckets"]}
    shared = [b for b in pushed["series"]["buckets"] if b["start"] in by_start]
    assert len(shared) >= 23
    assert all(b == by_start[b["start"]] for b in shared)
    assert pushed["series"]["agents"] == asked["agents"]
    assert pushed["totalExecutions"] == sum(
        b["total"] for b in pushed["series"]["buckets"]
    )


@pytest.mark.parametrize("window", ["2h", "", "24H", "1d"])
async def test_an_unknown_window_is_refused_with_the_windows_there_are(
    api: Api, window: str
) -> None:
    body = await api.client("viewer")(SERIES, {"w": window})

    (error,) = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert error["extensions"]["problems"] == [
        {
            "path": "window",
            "message": "unknown window: use one of 1h, 24h, 7d, 30d",
            "code": "bad_window",
        }
    ]


async def test_an_unknown_window_ends_a_subscription_with_the_same_error(
    api: Api,
) -> None:
    query = 'subscription { metricsUpdates { series(window: "2d") { window } } }'
    async with ws_connect(api.url, api.keys["viewer"]) as ws:
        op = await ws.start(query)
        with pytest.raises(AssertionError, match="VALIDATION_FAILED"):
            async for _ in ws.messages(op):
                pass
