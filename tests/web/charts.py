"""Reading the dashboard's charts back from a page: what each uPlot instance draws, and
what it should draw for a series as the GraphQL API gives it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

#: Viewports: a laptop's and a phone's (an iPhone 12-15's CSS pixels).
WIDE = (1280, 900)
PHONE = (390, 844)
#: MetricsBucket's status fields from the bottom of a stack up, as charts.js stacks.
STACK = ("succeeded", "failed", "cancelled", "waitingApproval", "running", "pending")

_DRAWN = """() => {
  const charts = window.dashboardCharts;
  const data = Object.fromEntries(Object.entries(charts.instances).map(
    ([name, u]) => [name, u.data.map((column) => Array.from(column))]));
  const queue = data.queue;
  delete data.queue;
  data.queueNow = queue.map((column) => column.at(-1));
  data.samples = queue[0].length;
  data.labels = Object.fromEntries(Object.entries(charts.instances).map(
    ([name, u]) => [name, u.series.map((s) => s.label)]));
  return data;
}"""


def seconds(iso: str) -> float:
    """A GraphQL DateTime as JavaScript's ``Date.parse(iso) / 1000`` gives it (whole
    milliseconds)."""
    moment = dt.datetime.fromisoformat(iso)
    micros = (moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(
        microseconds=1
    )
    return (micros // 1000) / 1000


def expected_chart_data(series: dict[str, Any]) -> dict[str, Any]:
    """What the charts must hold for `series` (a ``MetricsSeries`` as JSON): the
    stacked counts (each the sum of its status and those below it, the top first),
    the p50/p95 lines, the agents' bars and the latest queue sample."""
    buckets = series["buckets"]
    xs = [seconds(b["start"]) for b in buckets]
    stacked, running = [], [0] * len(buckets)
    for field in STACK:
        running = [r + b[field] for r, b in zip(running, buckets, strict=True)]
        stacked.append(running)
    agents = series["agents"]
    return {
        "executions": [xs, *reversed(stacked)],
        "durations": [
            xs,
            [b["p50DurationMs"] for b in buckets],
            [b["p95DurationMs"] for b in buckets],
        ],
        "agents": [
            list(range(len(agents))),
            [a["succeeded"] + a["failed"] for a in agents],
            [a["succeeded"] for a in agents],
        ],
        "queueNow": [
            seconds(series["until"]),
            series["queued"],
            series["running"],
            series["waitingApproval"],
        ],
    }


def chart_data(page: Page) -> dict[str, Any]:
    """What the page's charts hold now, in `expected_chart_data`'s shape (plus
    ``samples``, the queue chart's number of samples, and the series' ``labels``)."""
    drawn: dict[str, Any] = page.evaluate(_DRAWN)
    return drawn


def drawn_numbers(page: Page) -> dict[str, Any]:
    """`chart_data` without the samples' count and the labels."""
    drawn = chart_data(page)
    return {k: v for k, v in drawn.items() if k not in ("samples", "labels")}


def wait_for_draw(page: Page, *, window: str, after: int = 0) -> int:
    """Wait until the charts have drawn a series of `window`, more than `after`
    draws in all; return the number of draws."""
    page.wait_for_function(
        """([w, after]) => {
          const c = window.dashboardCharts;
          return c && c.series && c.series.window === w && c.draws > after;
        }""",
        arg=[window, after],
    )
    draws: int = page.evaluate("window.dashboardCharts.draws")
    return draws


def assert_fits(page: Page, width: int) -> None:
    """Nothing on the page is wider than the viewport, and every chart fills its box
    and no more."""
    sizes: dict[str, Any] = page.evaluate(
        """() => ({
          page: document.documentElement.scrollWidth,
          charts: Object.entries(window.dashboardCharts.instances).map(([name, u]) => {
            const box = document.getElementById(`chart-${name}`);
            const right = (el) => el.getBoundingClientRect().right;
            return [name, u.width, box.clientWidth, right(u.root) <= right(box) + 1];
          }),
        })"""
    )
    assert sizes["page"] <= width, sizes
    for name, drawn, box, inside in sizes["charts"]:
        assert drawn == box and inside, (name, drawn, box, inside)
