"""The dashboard's charts on the real server in a real headless Chromium: with
executions that succeeded, failed, were cancelled, run and wait in the queue, the
charts hold the numbers `metricsSeries` answers, for the window chosen on the page, on a
wide screen and on a phone, with nothing leaving the machine and no console error."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
from playwright.sync_api import expect

from tests.api.conftest import make_keys
from tests.support.gql import follow_to_end
from tests.support.server import ServerProcess
from tests.web.browser import TIMEOUT_S, Traffic, open_page
from tests.web.charts import (
    PHONE,
    WIDE,
    assert_fits,
    chart_data,
    drawn_numbers,
    expected_chart_data,
    wait_for_draw,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Page

    from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.slow

SERIES = """query($w: String!) { metricsSeries(window: $w) { window intervalSeconds
  since until queued running waitingApproval agents { agentId succeeded failed }
  buckets { start pending running waitingApproval succeeded failed cancelled
    p50DurationMs p95DurationMs } } }"""
EXECUTE = "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }"
CANCEL = "mutation($id: ID!) { cancelExecution(id: $id) { id } }"
RUNNING = (
    "{ executions(first: 5, filter: {status: [RUNNING]}) { edges { node { id } } } }"
)
UNFINISHED = (
    "{ executions(first: 10, filter: {status: [PENDING, RUNNING]}) "
    "{ edges { node { id } } } }"
)
FAIL = {
    "steps": [
        {
            "id": "f",
            "agent": "flaky_agent",
            "inputs": {"fail_times": 1, "retryable": False},
        }
    ]
}


def wait(seconds: float) -> dict[str, Any]:
    return {
        "steps": [{"id": "w", "agent": "wait_agent", "inputs": {"seconds": seconds}}]
    }


class Api:
    """The real server's GraphQL API with one operator's key."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key
        self.http = httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30)

    def data(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = self.http.post(
            "/graphql", json={"query": query, "variables": variables}
        ).json()
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data

    def start(self, graph: dict[str, Any]) -> str:
        execution_id: str = self.data(EXECUTE, {"g": graph})["executeWorkflow"]["id"]
        return execution_id

    def run(self, graph: dict[str, Any]) -> str:
        """Start an execution and return once it has ended."""
        execution_id = self.start(graph)
        anyio.run(follow_to_end, self.url, self.key, execution_id)
        return execution_id

    def series(self, window: str) -> dict[str, Any]:
        series: dict[str, Any] = self.data(SERIES, {"w": window})["metricsSeries"]
        return series


@pytest.fixture
def api(database_factory: DatabaseFactory, tmp_path: Path) -> Iterator[Api]:
    url = database_factory.sqlite(tmp_path)
    key = make_keys(url, {"web": ("operator", "acme")})["web"]
    env = {
        "DATABASE_URL": url,
        "AGENT_FILES_DIR": str(tmp_path),
        "AGENT_METRICS_INTERVAL_S": "0.5",
        # One execution at a time: a second one waits in the queue.
        "AGENT_MAX_CONCURRENT_EXECUTIONS": "1",
    }
    with ServerProcess(env, tmp_path / "server.log") as process:
        client = Api(process.url, key)
        try:
            yield client
            # What still runs or waits is cancelled: the server then stops at once.
            for edge in client.data(UNFINISHED, {})["executions"]["edges"]:
                client.data(CANCEL, {"id": edge["node"]["id"]})
        finally:
            client.http.close()


def queued_and_running(api: Api) -> None:
    """One execution runs and one waits for it (`AGENT_MAX_CONCURRENT_EXECUTIONS=1`);
    returns once the API says so."""
    ids = [api.start(wait(120)), api.start(wait(120))]
    deadline = time.monotonic() + TIMEOUT_S
    while (now := api.series("1h"))["running"] != 1 or now["queued"] != 1:
        assert time.monotonic() < deadline, (ids, now)
        anyio.run(anyio.sleep, 0.05)


def assert_charts_show_the_api(page: Page, api: Api, window: str) -> None:
    """The charts hold what `metricsSeries(window)` answers: compared again at each
    new draw until they agree (an interval may begin between the two readings), at
    most until the deadline, then the difference fails the test."""
    draws = wait_for_draw(page, window=window)
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        expected = expected_chart_data(api.series(window))
        drawn = drawn_numbers(page)
        # The queue's sample is stamped with the time of the server's reading.
        sampled_at, asked_at = drawn["queueNow"][0], expected["queueNow"][0]
        drawn["queueNow"][0] = expected["queueNow"][0] = None
        if drawn == expected and abs(asked_at - sampled_at) < TIMEOUT_S:
            return
        if time.monotonic() > deadline:
            assert drawn == expected
            assert abs(asked_at - sampled_at) < TIMEOUT_S
        draws = wait_for_draw(page, window=window, after=draws)


def test_the_charts_show_the_numbers_of_the_api(api: Api, tmp_path: Path) -> None:
    for graph in (wait(0), wait(0.3), FAIL):
        api.run(graph)
    cancelled = api.start(wait(60))
    api.data(CANCEL, {"id": cancelled})
    anyio.run(follow_to_end, api.url, api.key, cancelled)
    queued_and_running(api)
    asked = api.series("24h")
    assert sum(b["succeeded"] for b in asked["buckets"]) == 2
    assert sum(b["failed"] + b["cancelled"] for b in asked["buckets"]) == 2
    assert (asked["queued"], asked["running"]) == (1, 1)

    traffic = Traffic()
    with open_page(traffic) as page:
        page.set_viewport_size({"width": WIDE[0], "height": WIDE[1]})
        page.goto(api.url + "/workflows/metrics")
        page.fill("#key", api.key)
        page.click("#key-form button[type=submit]")

        assert_charts_show_the_api(page, api, "24h")
        drawn = chart_data(page)
        # Succeeded at the bottom of the stack, queued on top; two agents' bars.
        assert drawn["labels"]["executions"][1] == "Jonossa · Queued"
        assert drawn["labels"]["executions"][-1] == "Onnistui · Succeeded"
        assert max(drawn["executions"][1]) == 6  # all six in this hour
        assert drawn["agents"][1:] == [[1, 2], [0, 2]]  # flaky 0+1, wait 2+0
        assert drawn["queueNow"][1:] == [1, 1, 0]
        expect(page.locator("#queue-now")).to_contain_text("Jonossa 1 · Käynnissä 1")
        assert_fits(page, WIDE[0])
        page.screenshot(path=str(tmp_path / "charts-1280.png"), full_page=True)

        page.select_option("#window", "1h")
        assert_charts_show_the_api(page, api, "1h")
        assert len(chart_data(page)["executions"][0]) == 60
        expect(page.locator("#summary-title")).to_contain_text("Viimeinen tunti")

        page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
        page.wait_for_function(
            "(w) => Object.values(window.dashboardCharts.instances)"
            ".every((u) => u.width <= w)",
            arg=PHONE[0],
        )
        assert_fits(page, PHONE[0])
        page.screenshot(path=str(tmp_path / "charts-390.png"), full_page=True)

        # Live: cancel the running execution; the queued one starts, and the page
        # shows it without a reload.
        running = [
            e["node"]["id"] for e in api.data(RUNNING, {})["executions"]["edges"]
        ]
        assert len(running) == 1
        api.data(CANCEL, {"id": running[0]})
        page.wait_for_function(
            """() => {
              const s = window.dashboardCharts.series;
              return s.queued === 0 && s.running === 1 &&
                s.buckets.reduce((n, b) => n + b.cancelled, 0) === 2;
            }"""
        )
        assert_charts_show_the_api(page, api, "1h")
        assert chart_data(page)["samples"] >= 2
        traffic.settle(page)
    traffic.assert_clean()
    assert all(r.split(" ", 1)[1].startswith(api.url) for r in traffic.requests), (
        traffic.requests
    )
    assert (tmp_path / "charts-1280.png").stat().st_size > 0
