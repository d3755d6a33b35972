"""The plan preview's page: local files only (the execution view's drawing, shared),
the dashboard's policy, Finnish first, and operations the real schema accepts."""

from __future__ import annotations

import re

import pytest
from graphql import build_schema, parse, validate

from agent_orchestrator.resolvers.schema import create_schema
from agent_orchestrator.web.dashboard import CONTENT_SECURITY_POLICY, dashboard_html
from agent_orchestrator.web.graphiql import STATIC_DIR, STATIC_PREFIX
from agent_orchestrator.web.plan_view import SCRIPTS, plan_view_html
from tests.web.pages import assets, external_addresses

FOLDER = STATIC_DIR / "execution"
SCRIPT = FOLDER / "plan.js"


def operations() -> dict[str, str]:
    """The script's GraphQL documents, its fragments (``${PLAN_FIELDS}``) in place."""
    found = dict(
        re.findall(r"const ([A-Z_]+) = `(.*?)`;", SCRIPT.read_text(), re.DOTALL)
    )

    def expand(text: str) -> str:
        return re.sub(r"\$\{([A-Z_]+)\}", lambda m: expand(found[m.group(1)]), text)

    return {name: " ".join(expand(text).split()) for name, text in found.items()}


def test_the_page_and_its_files_name_no_external_address() -> None:
    texts = [plan_view_html()]
    texts += [(STATIC_DIR / name).read_text() for name in SCRIPTS]
    texts.append((FOLDER / "execution.css").read_text())
    for text in texts:
        text = text.replace('"http://www.w3.org/2000/svg"', "")  # a name, not fetched
        assert external_addresses(text) == []


def test_it_draws_with_the_execution_views_files() -> None:
    loaded = assets(plan_view_html())

    assert [a.url for a in loaded] == [
        "/static/graphiql/favicon.svg",
        "/static/execution/execution.css",
        "/static/common.js",
        "/static/execution/layout.js",
        "/static/execution/graph.js",
        "/static/execution/plan.js",
    ]
    for asset in loaded:
        assert (STATIC_DIR / asset.url.removeprefix(STATIC_PREFIX + "/")).is_file()


def test_the_page_keeps_the_dashboards_policy() -> None:
    html = plan_view_html()

    assert (
        f'<meta http-equiv="Content-Security-Policy" '
        f'content="{CONTENT_SECURITY_POLICY}">' in html
    )
    assert "<style" not in html and " style=" not in html
    assert re.findall(r"<script[^>]*>([^<]+)</script>", html) == []
    text = SCRIPT.read_text()
    assert 'setAttribute("style"' not in text and "innerHTML" not in text
    assert "eval(" not in text and "new Function" not in text


def test_finnish_labels_come_first_and_the_dashboard_links_here() -> None:
    html = plan_view_html()

    assert '<html lang="fi">' in html
    for label in (
        'Avustaja <small lang="en">Copilot</small>',
        'Komento <small lang="en">Command</small>',
        'Suunnitelma <small lang="en">Plan</small>',
        'Työnkulku <small lang="en">Workflow</small>',
        "Suunnittele",
        "Suorita",
        "API-avain",
    ):
        assert label in html
    assert 'href="/workflows/copilot"' in dashboard_html()


@pytest.mark.parametrize("name", ["PLAN", "RUN"])
def test_the_operations_are_valid_against_the_real_schema(name: str) -> None:
    schema = build_schema(create_schema().as_str())

    assert validate(schema, parse(operations()[name])) == []


def test_the_key_travels_only_in_the_header() -> None:
    script = SCRIPT.read_text() + (STATIC_DIR / "common.js").read_text()

    assert '"X-API-Key": key' in script
    assert 'const KEY_STORAGE = "agentOrchestrator.apiKey";' in script
    assert "sessionStorage" in script and "localStorage" not in script
    assert "searchParams" not in script and "?key" not in script
