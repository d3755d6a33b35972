"""The real server in a real headless Chromium: GraphiQL runs a query with the key from
its headers editor, the dashboard shows live metrics, and a person corrects and books a
document held for review there, with nothing leaving the machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from typing import TYPE_CHECKING

import httpx
import pytest
from playwright.sync_api import expect

from agent_orchestrator.core.ids import DEFAULT_TENANT
from tests.support.documents import mangled_receipt, money
from tests.support.server import ROOT, ServerProcess
from tests.web.browser import Traffic, open_page

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.slow


@pytest.fixture
def server(
    database_factory: DatabaseFactory, tmp_path: Path
) -> Iterator[tuple[str, str]]:
    url = database_factory.sqlite(tmp_path)
    key = (
        subprocess.run(
            [
                sys.executable,
                "-m",
                "agent_orchestrator",
                "generate-api-key",
                "web",
                "admin",
            ],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    env = {
        "DATABASE_URL": url,
        "AGENT_FILES_DIR": str(tmp_path),
        "AGENT_METRICS_INTERVAL_S": "0.5",
    }
    with ServerProcess(env, tmp_path / "server.log") as process:
        yield process.url, key


def test_graphiql_answers_a_query_with_the_key_from_its_headers(
    server: tuple[str, str],
) -> None:
    url, key = server
    with open_page() as page:
        page.goto(url + "/graphql")
        expect(page.get_by_test_id("graphiql-container")).to_be_visible()
        # What the README tells people: put the key in the Headers tab, then run.
        page.evaluate(
            "([headers]) => localStorage.setItem('graphiql:headers', headers)",
            [json.dumps({"X-API-Key": key})],
        )
        page.evaluate(
            "() => localStorage.setItem('graphiql:query', '{ agents { id } }')"
        )
        page.reload()
        expect(page.get_by_test_id("graphiql-container")).to_be_visible()
        page.locator(".graphiql-execute-button").click()
        # The result editor draws only the lines in view: look for the first agents.
        result = page.locator(".result-window")
        expect(result).to_contain_text('"agents"')
        expect(result).to_contain_text("categorizer_agent")
        expect(result).not_to_contain_text("UNAUTHENTICATED")
        assert key not in page.url


def test_dashboard_shows_the_servers_live_metrics(server: tuple[str, str]) -> None:
    url, key = server
    with httpx.Client(base_url=url, headers={"X-API-Key": key}) as http:
        started = http.post(
            "/graphql",
            json={
                "query": 'mutation { executeWorkflow(input: {graph: {steps: [{id: "w", '
                'agent: "wait_agent", inputs: {seconds: 0}}]}}) { id } }'
            },
        ).json()
    assert not started.get("errors"), started
    with open_page() as page:
        page.goto(url + "/workflows/metrics")
        page.fill("#key", key)
        page.click("#key-form button[type=submit]")
        expect(page.locator("#total")).to_have_text("1")
        expect(page.locator("#agents tr")).to_have_count(1)
        expect(page.locator("#agents")).to_contain_text("wait_agent")
        expect(page.locator("#executions")).to_contain_text(
            started["data"]["executeWorkflow"]["id"][:8]
        )


def test_dashboard_lists_schedules_and_pauses_one(server: tuple[str, str]) -> None:
    url, key = server
    base = "/api/v1/agent-orchestrator/schedules"
    with httpx.Client(base_url=url, headers={"X-API-Key": key}) as http:
        made = http.post(
            base,
            json={
                "name": "ALV kuukausittain",
                "cron": "0 8 1 * *",
                "template_id": "vat_report",
                "variables": {
                    "period_start": "${period.previous_month.start}",
                    "period_end": "${period.previous_month.end}",
                },
            },
        )
        assert made.status_code == 201, made.text
        schedule = made.json()
        with open_page() as page:
            page.goto(url + "/workflows/metrics")
            page.fill("#key", key)
            page.click("#key-form button[type=submit]")
            rows = page.locator("#schedules tr")
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("ALV kuukausittain")
            expect(rows.first).to_contain_text("0 8 1 * * (Europe/Helsinki)")
            expect(rows.first).to_contain_text("Käytössä")
            rows.first.get_by_role("button").click()
            expect(page.locator("#schedules-status")).to_have_text(
                "Keskeytetty · Paused"
            )
            expect(rows.first).to_contain_text("Keskeytetty")
        after = http.get(f"{base}/{schedule['id']}").json()
    assert after["enabled"] is False and after["next_run_at"] is None


def test_a_document_held_for_review_is_corrected_and_booked_from_the_page(
    server: tuple[str, str], tmp_path: Path
) -> None:
    url, key = server
    doc, text = mangled_receipt()
    row = doc.vat_rows[0]
    area = tmp_path / DEFAULT_TENANT / "review"
    area.mkdir(parents=True)
    (area / "kuitti.txt").write_text(text, encoding="utf-8")
    traffic = Traffic()
    with (
        httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30) as http,
        open_page(traffic) as page,
    ):
        page.goto(url + "/workflows/metrics")
        page.fill("#key", key)
        page.click("#key-form button[type=submit]")
        expect(page.locator("#review")).to_contain_text("Ei tarkistettavaa")
        started = http.post(
            "/graphql",
            json={
                "query": "mutation { executeWorkflow(input: {templateId: "
                '"receipt_processing", initialVariables: {receipt_file: '
                '"review/kuitti.txt"}}) { id } }'
            },
        ).json()
        assert not started.get("errors"), started
        # The draft shows up while the page is open (no reload), with why it is held.
        rows = page.locator("#review tr")
        expect(rows.first).to_contain_text(doc.merchant, timeout=60_000)
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("left out")
        book = rows.first.get_by_role("button", name="Kirjaa · Book")
        expect(book).to_be_disabled()

        form = rows.first.locator("form")
        # A correction that does not add up is refused; the typed values stay.
        wrong_gross = money(row.gross + Decimal("1.00")).replace(",", ".")
        for name, value in (
            ("rate", str(row.rate)),
            ("net", str(row.net)),
            ("vat", str(row.vat)),
            ("gross", wrong_gross),
        ):
            form.locator(f"input[name={name}]").fill(value)
        form.get_by_role("button", name="Korjaa · Correct").click()
        expect(page.locator("#review-status")).to_contain_text("gross")
        expect(page.locator("#review-status")).to_have_class("error")
        expect(form.locator("input[name=gross]")).to_have_value(wrong_gross)

        form.locator("input[name=gross]").fill(str(row.gross))
        form.get_by_role("button", name="Korjaa · Correct").click()
        expect(page.locator("#review-status")).to_have_text("Korjattu · Corrected")
        book = page.locator("#review tr").first.get_by_role(
            "button", name="Kirjaa · Book"
        )
        expect(book).to_be_enabled()
        book.click()
        expect(page.locator("#review-status")).to_have_text("Kirjattu · Booked")
        expect(page.locator("#review")).to_contain_text("Ei tarkistettavaa")
        page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
        traffic.settle(page)

        audit = http.post(
            "/graphql",
            json={
                "query": "query { auditLogs(first: 20, filter: "
                '{resourceType: "document"}) { edges { node { action details } } } }'
            },
        ).json()
    traffic.assert_clean()
    actions = [e["node"]["action"] for e in audit["data"]["auditLogs"]["edges"]]
    assert "document.correct" in actions and "document.book" in actions
    booked = [
        e["node"]["details"]
        for e in audit["data"]["auditLogs"]["edges"]
        if e["node"]["action"] == "document.book" and "gross" in e["node"]["details"]
    ]
    assert booked and booked[0]["gross"] == str(doc.total)
