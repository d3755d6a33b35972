"""The dashboard's charts in a real headless Chromium against the stand-in server: they
draw the numbers of the series the subscription sends, follow the window selector, fit
a wide screen and a phone, and load nothing from elsewhere."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from tests.web.apps import GOOD_KEY, canned_series
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
    import datetime as dt
    from pathlib import Path

    from playwright.sync_api import Page

    from tests.web.apps import MetricsSeries, Seen
    from tests.web.browser import Traffic


def _as_api(series: MetricsSeries) -> dict[str, Any]:
    """The stand-in's series as the page receives it (camelCase JSON)."""

    def iso(value: dt.datetime) -> str:
        return value.isoformat()

    return {
        "window": series.window,
        "intervalSeconds": series.interval_seconds,
        "since": iso(series.since),
        "until": iso(series.until),
        "queued": series.queued,
        "running": series.running,
        "waitingApproval": series.waiting_approval,
        "agents": [
            {"agentId": a.agent_id, "succeeded": a.succeeded, "failed": a.failed}
            for a in series.agents
        ],
        "buckets": [
            {
                "start": iso(b.start),
                "pending": b.pending,
                "running": b.running,
                "waitingApproval": b.waiting_approval,
                "succeeded": b.succeeded,
                "failed": b.failed,
                "cancelled": b.cancelled,
                "p50DurationMs": b.p50_duration_ms,
                "p95DurationMs": b.p95_duration_ms,
            }
            for b in series.buckets
        ],
    }


def _connect(page: Page, url: str) -> None:
    page.goto(url + "/workflows/metrics")
    page.fill("#key", GOOD_KEY)
    page.click("#key-form button[type=submit]")


@pytest.mark.parametrize(("width", "height"), [WIDE, PHONE])
def test_the_charts_draw_the_series_of_the_subscription(
    browser_page: Page,
    traffic: Traffic,
    server_url: str,
    seen: Seen,
    tmp_path: Path,
    width: int,
    height: int,
) -> None:
    browser_page.set_viewport_size({"width": width, "height": height})
    _connect(browser_page, server_url)
    wait_for_draw(browser_page, window="24h")

    assert drawn_numbers(browser_page) == expected_chart_data(
        _as_api(canned_series("24h"))
    )
    drawn = chart_data(browser_page)
    assert drawn["samples"] == 1
    assert drawn["labels"]["executions"] == [
        "Aika · Time",
        "Jonossa · Queued",
        "Käynnissä · Running",
        "Odottaa hyväksyntää · Waiting for approval",
        "Peruttu · Cancelled",
        "Epäonnistui · Failed",
        "Onnistui · Succeeded",
    ]
    expect(browser_page.locator("#charts-interval")).to_have_text(
        "· tunnin välein per hour"
    )
    expect(browser_page.locator("#queue-now")).to_have_text(
        "Jonossa 2 · Käynnissä 1 · Odottaa hyväksyntää 1"
    )
    assert seen.windows == ["24h"]
    if width == WIDE[0]:
        # The legend gives each status's own count of the interval under the cursor.
        x = browser_page.evaluate(
            "(() => { const u = window.dashboardCharts.instances.executions;"
            " return u.valToPos(u.data[0].at(-1), 'x'); })()"
        )
        browser_page.hover("#chart-executions .u-over", position={"x": x, "y": 20})
        values = browser_page.locator("#chart-executions .u-legend .u-value")
        last = canned_series("24h").buckets[-1]
        counts = [
            last.pending,
            last.running,
            last.waiting_approval,
            last.cancelled,
            last.failed,
            last.succeeded,
        ]
        expect(values).to_have_text(
            [re.compile(r"24\.11\. klo 12\.00"), *map(str, counts)]
        )
        assert counts == [2, 1, 0, 0, 0, 1]
    assert_fits(browser_page, width)
    browser_page.screenshot(path=str(tmp_path / f"charts-{width}.png"), full_page=True)
    traffic.assert_clean()


def test_the_window_selector_resubscribes_and_redraws(
    browser_page: Page, traffic: Traffic, server_url: str, seen: Seen
) -> None:
    _connect(browser_page, server_url)
    wait_for_draw(browser_page, window="24h")

    browser_page.select_option("#window", "7d")

    wait_for_draw(browser_page, window="7d")
    drawn = drawn_numbers(browser_page)
    assert drawn == expected_chart_data(_as_api(canned_series("7d")))
    assert len(drawn["executions"][0]) == 28
    expect(browser_page.locator("#summary-title")).to_have_text(
        "Viimeiset 7 päivää Last 7 days"
    )
    expect(browser_page.locator("#charts-interval")).to_have_text(
        "· 6 tunnin välein per 6 hours"
    )
    assert seen.windows == ["24h", "7d"]

    # A window without executions: empty charts, and no error.
    browser_page.select_option("#window", "30d")
    wait_for_draw(browser_page, window="30d")
    assert drawn_numbers(browser_page) == expected_chart_data(
        _as_api(canned_series("30d"))
    )
    expect(browser_page.locator("#queue-now")).to_have_text(
        "Jonossa 0 · Käynnissä 0 · Odottaa hyväksyntää 0"
    )
    browser_page.select_option("#window", "7d")
    wait_for_draw(browser_page, window="7d")
    assert seen.windows == ["24h", "7d", "30d", "7d"]

    # The choice is this tab's: a reload keeps it.
    traffic.settle(browser_page)
    browser_page.reload()
    wait_for_draw(browser_page, window="7d")
    expect(browser_page.locator("#window")).to_have_value("7d")
    assert seen.windows == ["24h", "7d", "30d", "7d", "7d"]
    traffic.assert_clean()
