"""The dashboard page: local files only, and the operations of DESIGN.md's contract."""

from __future__ import annotations

import re

import pytest
from graphql import build_schema, parse, validate

from agent_orchestrator.core.windows import SERIES_WINDOWS
from agent_orchestrator.resolvers.schema import create_schema
from agent_orchestrator.web.dashboard import (
    CONTENT_SECURITY_POLICY,
    UPLOT,
    dashboard_html,
)
from agent_orchestrator.web.graphiql import STATIC_DIR, STATIC_PREFIX
from tests.web.pages import assets, external_addresses, sri_sha384

SCRIPT = STATIC_DIR / "dashboard" / "dashboard.js"
CHARTS = STATIC_DIR / "dashboard" / "charts.js"
STYLE = STATIC_DIR / "dashboard" / "dashboard.css"
METRICS = (
    "subscription Metrics($hoursBack: Int!, $window: String!) { "
    "metricsUpdates(hoursBack: $hoursBack) { totalExecutions successRate "
    "avgDurationMs p95DurationMs errorRate agents { agentId executions successRate "
    "avgDurationMs } series(window: $window) { window intervalSeconds since until "
    "queued running waitingApproval agents { agentId succeeded failed } buckets { "
    "start pending running waitingApproval succeeded failed cancelled p50DurationMs "
    "p95DurationMs } } } }"
)
EXECUTIONS = (
    "{ executions(first: 20) { edges { node { id status templateId startedAt "
    "durationMs } } } }"
)


def _operation(name: str) -> str:
    found = re.search(rf"const {name} = `(.*?)`;", SCRIPT.read_text(), re.DOTALL)
    assert found is not None, name
    return " ".join(found.group(1).split())


def test_the_page_and_its_files_name_no_external_address() -> None:
    for text in (
        dashboard_html(),
        SCRIPT.read_text(),
        CHARTS.read_text(),
        (STATIC_DIR / "common.js").read_text(),
        STYLE.read_text(),
    ):
        assert external_addresses(text) == []


def test_every_file_the_page_loads_is_served_from_the_static_folder() -> None:
    loaded = assets(dashboard_html())

    assert {a.url for a in loaded} == {
        "/static/graphiql/favicon.svg",
        "/static/vendor/uplot/uPlot.min.css",
        "/static/dashboard/dashboard.css",
        "/static/vendor/uplot/uPlot.iife.min.js",
        "/static/common.js",
        "/static/dashboard/charts.js",
        "/static/dashboard/dashboard.js",
    }
    for asset in loaded:
        assert (STATIC_DIR / asset.url.removeprefix(STATIC_PREFIX + "/")).is_file()


def test_the_vendored_uplot_is_the_reviewed_release_with_its_licence() -> None:
    loaded = {a.url: a.integrity for a in assets(dashboard_html())}

    for path, integrity in UPLOT.items():
        assert sri_sha384(STATIC_DIR / path) == integrity
        assert loaded[f"{STATIC_PREFIX}/{path}"] == integrity
    folder = STATIC_DIR / "vendor" / "uplot"
    assert "MIT License" in (folder / "LICENSE").read_text()
    assert "Leon Sorokin" in (folder / "LICENSE").read_text()
    assert "uplot 1.6.32" in (folder / "README.md").read_text()


def test_uplot_loads_before_the_scripts_that_draw_with_it() -> None:
    scripts = [a.url for a in assets(dashboard_html()) if a.tag == "script"]

    assert scripts == [
        "/static/vendor/uplot/uPlot.iife.min.js",
        "/static/common.js",
        "/static/dashboard/charts.js",
        "/static/dashboard/dashboard.js",
    ]


def test_the_page_allows_only_its_own_files_and_connections() -> None:
    html = dashboard_html()
    policy = dict(
        part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";")
    )

    assert (
        f'<meta http-equiv="Content-Security-Policy" '
        f'content="{CONTENT_SECURITY_POLICY}">' in html
    )
    assert policy == {
        "default-src": "'none'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self'",
        "connect-src": "'self'",
        "base-uri": "'none'",
        "form-action": "'none'",
    }
    # Nothing inline that the policy would block.
    assert "<style" not in html and " style=" not in html
    assert re.findall(r"<script[^>]*>([^<]+)</script>", html) == []


def test_the_page_follows_the_static_prefix_and_graphql_path() -> None:
    html = dashboard_html("/assets", graphql_path="/api/graphql")

    assert {a.url.rsplit("/", 1)[0] for a in assets(html)} == {
        "/assets",
        "/assets/graphiql",
        "/assets/vendor/uplot",
        "/assets/dashboard",
    }
    assert 'data-graphql-path="/api/graphql"' in html


def test_finnish_labels_come_first() -> None:
    html = dashboard_html()

    assert '<html lang="fi">' in html
    for label in (
        "Suorituksia",
        "Onnistumisaste",
        "Virheaste",
        "Agentit",
        "Viimeisimmät suoritukset",
        "API-avain",
        'Aikaväli <small lang="en">Window</small>',
        'Kaaviot <small lang="en">Charts</small>',
        "Suoritukset tilan mukaan",
        "Kesto, mediaani ja 95. persentiili",
        "Agenttien vaiheet",
        "Jono ja käynnissä nyt",
        "24 tuntia · 24 hours",
    ):
        assert label in html


def test_the_window_selector_offers_the_windows_of_the_api() -> None:
    options = re.findall(r'<option value="([^"]+)"', dashboard_html())

    assert options == list(SERIES_WINDOWS)
    assert '<option value="24h" selected>' in dashboard_html()


@pytest.mark.parametrize(
    ("name", "expected"), [("METRICS", METRICS), ("EXECUTIONS", EXECUTIONS)]
)
def test_the_script_sends_the_contract_operations(name: str, expected: str) -> None:
    assert _operation(name) == expected


@pytest.mark.parametrize("name", ["METRICS", "EXECUTIONS"])
def test_the_operations_are_valid_against_the_real_schema(name: str) -> None:
    schema = build_schema(create_schema().as_str())

    assert validate(schema, parse(_operation(name))) == []


@pytest.mark.parametrize("name", ["REVIEW", "CORRECT", "BOOK"])
def test_the_review_operations_are_valid_against_the_real_schema(name: str) -> None:
    schema = build_schema(create_schema().as_str())

    assert validate(schema, parse(_operation(name))) == []


def test_the_review_section_is_finnish_first() -> None:
    html = dashboard_html()

    assert 'Tarkistettavat <small lang="en">To review</small>' in html
    assert '<tbody id="review">' in html


def test_the_key_travels_only_in_connection_init_and_the_header() -> None:
    script = SCRIPT.read_text() + (STATIC_DIR / "common.js").read_text()

    assert '"graphql-transport-ws"' in script
    assert 'type: "connection_init", payload: { "X-API-Key": key }' in script
    assert '"X-API-Key": key' in script
    # sessionStorage only: the key is gone when the tab closes.
    assert "sessionStorage" in script and "localStorage" not in script
    assert "searchParams" not in script and "?key" not in script


@pytest.mark.parametrize("name", ["APPROVALS", "DECIDE"])
def test_the_approval_operations_are_valid_against_the_real_schema(name: str) -> None:
    schema = build_schema(create_schema().as_str())

    assert validate(schema, parse(_operation(name))) == []


@pytest.mark.parametrize("name", ["SCHEDULES", "PAUSE", "RESUME"])
def test_the_schedule_operations_are_valid_against_the_real_schema(name: str) -> None:
    schema = build_schema(create_schema().as_str())

    assert validate(schema, parse(_operation(name))) == []


def test_the_approvals_section_is_finnish_first() -> None:
    html = dashboard_html()

    assert (
        'Odottaa hyväksyntää\n        <small lang="en">Waiting for approval</small>'
        in (html)
    )
    assert 'id="approvals"' in html


def test_the_schedules_section_is_finnish_first() -> None:
    html = dashboard_html()

    assert 'Ajastukset <small lang="en">Schedules</small>' in html
    assert 'Seuraava ajo <small lang="en">Next run</small>' in html
    assert '<tbody id="schedules">' in html
    assert "Keskeytä · Pause" in SCRIPT.read_text()
