"""GraphiQL and the dashboard in a real headless Chromium, served by a real uvicorn on a
loopback port: they render from our own files, reach no other host, and keep the API key
out of every URL."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from agent_orchestrator.web.graphiql import DEFAULT_HEADERS, VENDORED
from tests.web.apps import GOOD_KEY, Seen
from tests.web.browser import Traffic, is_loopback

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
KEY_IN_STORAGE = "agentOrchestrator.apiKey"


def _editor_value(page: Page, selector: str) -> str:
    return str(
        page.evaluate(
            "(s) => document.querySelector(s).CodeMirror.getValue()", selector
        )
    )


def _set_editor(page: Page, selector: str, value: str) -> None:
    page.evaluate(
        "([s, v]) => document.querySelector(s).CodeMirror.setValue(v)",
        [selector, value],
    )


def _open_graphiql(page: Page, url: str) -> None:
    # GraphiQL asks the endpoint for the schema as soon as it starts.
    with page.expect_response(lambda r: r.request.method == "POST" and r.ok):
        page.goto(url + "/graphql")
    page.wait_for_selector(QUERY_EDITOR)


def test_graphiql_renders_from_local_files_only(
    browser_page: Page, traffic: Traffic, server_url: str
) -> None:
    _open_graphiql(browser_page, server_url)

    expect(browser_page.locator(".graphiql-execute-button")).to_be_visible()
    assert "Agent Orchestrator" in _editor_value(browser_page, QUERY_EDITOR)
    requested = {r.split(" ", 1)[1].removeprefix(server_url) for r in traffic.requests}
    assert {f"/static/{path}" for path in VENDORED.values()} <= requested
    assert all(is_loopback(r.split(" ", 1)[1]) for r in traffic.requests)
    traffic.assert_clean()


def test_graphiql_sends_the_key_from_its_headers_editor_never_in_the_url(
    browser_page: Page, traffic: Traffic, server_url: str, seen: Seen
) -> None:
    _open_graphiql(browser_page, server_url)
    headers = browser_page.locator(
        ".graphiql-editor-tool .graphiql-editor:not(.hidden)"
    )
    assert json.loads(DEFAULT_HEADERS) == {"X-API-Key": "<your key>"}
    expect(headers).to_contain_text(DEFAULT_HEADERS)

    _set_editor(
        browser_page,
        ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror",
        json.dumps({"X-API-Key": GOOD_KEY}),
    )
    _set_editor(browser_page, QUERY_EDITOR, "{ seenKey }")
    browser_page.click(".graphiql-execute-button")

    expect(browser_page.locator(".graphiql-response")).to_contain_text(GOOD_KEY)
    # The query is shared in the URL (written a moment after an edit) ...
    expect(browser_page).to_have_url(re.compile("seenKey"))
    assert GOOD_KEY not in browser_page.url  # ... the key is not
    assert not any(GOOD_KEY in r for r in traffic.requests)
    traffic.assert_clean()


def test_the_dashboard_shows_live_metrics_and_recent_executions(
    browser_page: Page, traffic: Traffic, server_url: str, seen: Seen
) -> None:
    browser_page.goto(server_url + "/workflows/metrics")
    expect(browser_page.locator("#status")).to_contain_text("Ei yhteyttä")

    browser_page.fill("#key", GOOD_KEY)
    browser_page.click("#key-form button[type=submit]")

    expect(browser_page.locator("#total")).to_have_text("12")
    expect(browser_page.locator("#success")).to_have_text(re.compile(r"^75\s%$"))
    expect(browser_page.locator("#errors")).to_have_text(re.compile(r"^25\s%$"))
    expect(browser_page.locator("#avg")).to_have_text("1,53 s")
    expect(browser_page.locator("#p95")).to_have_text("4,2 s")
    agents = browser_page.locator("#agents tr")
    expect(agents).to_have_count(2)
    expect(agents.nth(0)).to_contain_text("ocr_agent")
    expect(agents.nth(1)).to_contain_text("ledger_agent")
    expect(browser_page.locator("#executions tr td")).to_have_text(
        [
            "0195f0aa",
            "Onnistui SUCCEEDED",
            "receipt_processing",
            re.compile(r"24\.11\.2026"),
            "1,53 s",
        ]
    )
    expect(browser_page.locator("#status")).to_contain_text("Päivitetty")
    approvals = browser_page.locator("#approvals tr")
    expect(approvals).to_have_count(1)
    expect(approvals.nth(0)).to_contain_text("Lähetä lokakuun ALV-raportti")
    expect(approvals.nth(0)).to_contain_text("0195f0bb · approve")
    expect(approvals.nth(0).locator("button")).to_have_text(
        ["Hyväksy · Approve", "Hylkää · Reject"]
    )
    # The key went in connection_init and the X-API-Key header, and nowhere else.
    assert seen.init_payloads == [{"X-API-Key": GOOD_KEY}]
    assert seen.http_keys == [GOOD_KEY]
    assert traffic.websockets == [server_url.replace("http", "ws") + "/graphql"]
    assert not any(GOOD_KEY in r for r in traffic.requests + [browser_page.url])
    assert (
        browser_page.evaluate(f"sessionStorage.getItem('{KEY_IN_STORAGE}')") == GOOD_KEY
    )
    assert browser_page.evaluate("localStorage.length") == 0
    traffic.assert_clean()


def test_the_dashboard_reconnects_with_the_key_of_this_tab_after_a_reload(
    browser_page: Page, traffic: Traffic, server_url: str, seen: Seen
) -> None:
    browser_page.goto(server_url + "/workflows/metrics")
    browser_page.fill("#key", GOOD_KEY)
    browser_page.click("#key-form button[type=submit]")
    expect(browser_page.locator("#total")).to_have_text("12")
    # Nothing in flight when the page goes (an aborted fetch counts as a failure).
    expect(browser_page.locator("#executions td").first).to_have_text("0195f0aa")
    traffic.settle(browser_page)

    browser_page.reload()

    expect(browser_page.locator("#total")).to_have_text("12")
    assert seen.init_payloads == [{"X-API-Key": GOOD_KEY}] * 2

    browser_page.click("#forget")
    expect(browser_page.locator("#status")).to_contain_text("Avain unohdettu")
    assert browser_page.evaluate(f"sessionStorage.getItem('{KEY_IN_STORAGE}')") is None
    traffic.assert_clean()


def test_the_dashboard_says_clearly_when_the_key_is_refused(
    browser_page: Page, traffic: Traffic, server_url: str, seen: Seen
) -> None:
    browser_page.goto(server_url + "/workflows/metrics")
    browser_page.click("#key-form button[type=submit]")
    expect(browser_page.locator("#status")).to_have_text(
        "Anna API-avain · Enter an API key"
    )

    browser_page.fill("#key", "ao_wrong")
    browser_page.click("#key-form button[type=submit]")

    status = browser_page.locator("#status")
    expect(status).to_have_text("API-avain ei kelpaa · The API key was refused")
    expect(status).to_have_class("error")
    expect(browser_page.locator("#total")).to_have_text("–")
    browser_page.wait_for_timeout(1500)  # a refused key is not retried
    assert seen.init_payloads == [{"X-API-Key": "ao_wrong"}]
    assert seen.http_keys == []
    traffic.assert_clean()
