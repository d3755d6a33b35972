"""The execution view's page: local files only, the dashboard's policy, Finnish first,
the execution id escaped, and operations the real schema accepts."""

from __future__ import annotations

import re

import pytest
from graphql import build_schema, parse, validate

from agent_orchestrator.resolvers.schema import create_schema
from agent_orchestrator.web.dashboard import CONTENT_SECURITY_POLICY
from agent_orchestrator.web.execution_view import SCRIPTS, execution_view_html
from agent_orchestrator.web.graphiql import STATIC_DIR, STATIC_PREFIX
from tests.web.pages import assets, external_addresses

FOLDER = STATIC_DIR / "execution"
SCRIPT = FOLDER / "execution.js"
EXECUTION_ID = "0195f0aa-1111-7000-8000-000000000001"


def operations() -> dict[str, str]:
    """The script's GraphQL documents, with the fragments it splices in
    (``${STEP_FIELDS}``) put in place."""
    found = dict(
        re.findall(r"const ([A-Z_]+) = `(.*?)`;", SCRIPT.read_text(), re.DOTALL)
    )

    def expand(text: str) -> str:
        return re.sub(r"\$\{([A-Z_]+)\}", lambda m: expand(found[m.group(1)]), text)

    return {name: " ".join(expand(text).split()) for name, text in found.items()}


def test_the_page_and_its_files_name_no_external_address() -> None:
    texts = [execution_view_html(EXECUTION_ID)]
    texts += [(STATIC_DIR / name).read_text() for name in SCRIPTS]
    texts.append((FOLDER / "execution.css").read_text())
    for text in texts:
        # The SVG namespace is a name, never fetched.
        text = text.replace('"http://www.w3.org/2000/svg"', "")
        assert external_addresses(text) == []


def test_every_file_the_page_loads_is_served_from_the_static_folder() -> None:
    loaded = assets(execution_view_html(EXECUTION_ID))

    assert [a.url for a in loaded] == [
        "/static/graphiql/favicon.svg",
        "/static/execution/execution.css",
        "/static/common.js",
        "/static/execution/layout.js",
        "/static/execution/graph.js",
        "/static/execution/execution.js",
    ]
    for asset in loaded:
        assert (STATIC_DIR / asset.url.removeprefix(STATIC_PREFIX + "/")).is_file()


def test_the_page_keeps_the_dashboards_policy() -> None:
    html = execution_view_html(EXECUTION_ID)

    assert (
        f'<meta http-equiv="Content-Security-Policy" '
        f'content="{CONTENT_SECURITY_POLICY}">' in html
    )
    assert "<style" not in html and " style=" not in html
    assert re.findall(r"<script[^>]*>([^<]+)</script>", html) == []
    # The scripts set no inline style attribute (the CSSOM is allowed; attributes
    # are not) and evaluate no strings.
    for name in SCRIPTS:
        text = (STATIC_DIR / name).read_text()
        assert 'setAttribute("style"' not in text and "innerHTML" not in text
        assert "eval(" not in text and "new Function" not in text


def test_the_execution_id_is_escaped() -> None:
    html = execution_view_html('"><script>alert(1)</script>')

    assert "<script>alert" not in html
    assert 'data-execution-id="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html


def test_the_page_follows_the_static_prefix_and_graphql_path() -> None:
    html = execution_view_html(EXECUTION_ID, "/assets", graphql_path="/api/graphql")

    assert {a.url.rsplit("/", 1)[0] for a in assets(html)} == {
        "/assets",
        "/assets/graphiql",
        "/assets/execution",
    }
    assert 'data-graphql-path="/api/graphql"' in html
    assert f'data-execution-id="{EXECUTION_ID}"' in html


def test_finnish_labels_come_first() -> None:
    html = execution_view_html(EXECUTION_ID)

    assert '<html lang="fi">' in html
    for label in (
        'Suoritus <small lang="en">Execution</small>',
        'Työnkulku <small lang="en">Workflow</small>',
        'Aikajana <small lang="en">Timeline of attempts</small>',
        'Vaiheet <small lang="en">Steps</small>',
        'Tapahtumat <small lang="en">Events</small>',
        'Virheet <small lang="en">Errors</small>',
        "Avustajan komento",
        "Odottaa hyväksyntää",
        "Peru suoritus",
        "Hyväksy",
        "Hylkää",
        "API-avain",
    ):
        assert label in html


@pytest.mark.parametrize("name", ["LOAD", "REFRESH", "EVENTS", "CANCEL", "DECIDE"])
def test_the_operations_are_valid_against_the_real_schema(name: str) -> None:
    schema = build_schema(create_schema().as_str())

    assert validate(schema, parse(operations()[name])) == []


def test_the_events_follow_on_from_the_last_one_read() -> None:
    events = operations()["EVENTS"]
    script = SCRIPT.read_text()

    assert "executionEvents(executionId: $id, afterSeq: $after)" in events
    assert "variables: { id: EXECUTION_ID, after: state.lastSeq }" in script
    # A replayed event (after a reconnect) is not applied twice.
    assert "if (event.seq <= state.lastSeq) return false;" in script


def test_the_key_travels_only_in_connection_init_and_the_header() -> None:
    script = SCRIPT.read_text() + (STATIC_DIR / "common.js").read_text()

    assert '"graphql-transport-ws"' in script
    assert 'type: "connection_init", payload: { "X-API-Key": key }' in script
    assert '"X-API-Key": key' in script
    # The dashboard's key, in this tab's sessionStorage only.
    assert 'const KEY_STORAGE = "agentOrchestrator.apiKey";' in script
    assert "sessionStorage" in script and "localStorage" not in script
    assert "searchParams" not in script and "?key" not in script
