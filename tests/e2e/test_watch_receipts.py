"""A month's receipts watched in the browser: 50 receipts in the tenant's files area,
a for-each of `receipt_processing` over them, then an approval before the VAT report.
The execution view follows it live from before the first receipt is read (each
element's cell turns green without a reload), shows where it waits and why, and the
approver decides there; on the real server, in a real headless Chromium, with nothing
loaded from outside and no console error."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from tests.api.conftest import make_keys
from tests.e2e.test_execution_view import Site, assert_fits, node, shots
from tests.support.documents import make_receipt
from tests.support.scans import place
from tests.support.server import ServerProcess
from tests.web.browser import Traffic, open_page
from tests.web.charts import PHONE, WIDE

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support.databases import DatabaseFactory
    from tests.support.documents import Document

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

RECEIPTS = 50
#: Milliseconds a page may take to show what 50 receipts' 250 steps do, on a busy
#: machine (each event has the page read the execution again).
SLOW_MS = 120_000
TENANT = "acme"


@pytest.fixture(scope="module")
def month(
    database_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Site, list[Document]]]:
    workdir = tmp_path_factory.mktemp("watch-receipts")
    url = database_factory.sqlite(workdir)
    keys = make_keys(
        url, {"starter": ("operator", TENANT), "approver": ("admin", TENANT)}
    )
    rng = random.Random(20261130)
    docs: list[Document] = []
    names: set[str] = set()
    while len(docs) < RECEIPTS:
        doc = make_receipt(rng)
        # As text: what the view shows is the point here (photos are read in
        # tests/agents); a misread photo would be held for review, not counted.
        name = place(doc, workdir / TENANT, "txt", rng)
        if name not in names:
            names.add(name)
            docs.append(doc)
    gates = workdir / "gates"
    gates.mkdir()
    env = {
        "DATABASE_URL": url,
        "AGENT_FILES_DIR": str(workdir),
        "AGENT_PLUGINS": "tests.support.agents,tests.api.gate_agent",
    }
    with ServerProcess(env, workdir / "server.log") as process:
        yield Site(process.url, keys, gates), docs


def graph(site: Site, docs: list[Document]) -> dict[str, Any]:
    first = min(doc.date for doc in docs)
    last = max(doc.date for doc in docs)
    return {
        "steps": [
            # Held until the page is open: the test then sees every receipt go by.
            {
                "id": "arrived",
                "agent": "gate_agent",
                "inputs": {"path": str(site.gates / "month")},
            },
            {
                "id": "files",
                "agent": "files_agent",
                "inputs": {"folder": "docs", "pattern": "*"},
                "depends_on": ["arrived"],
            },
            {
                "id": "each",
                "for_each": "${steps.files.files}",
                "max_concurrency": 4,
                "workflow": {"template": "receipt_processing"},
                "inputs": {"receipt_file": "${item}"},
            },
            {
                "id": "approve",
                "agent": "approval_agent",
                "inputs": {
                    "title": f"Lähetä ALV-ilmoitus: {RECEIPTS} kuittia kirjattu",
                    "details": f"Kausi {first.isoformat()} – {last.isoformat()}",
                },
                "depends_on": ["each"],
            },
            {
                "id": "vat",
                "agent": "vat_agent",
                "inputs": {
                    "period_start": first.isoformat(),
                    "period_end": last.isoformat(),
                },
                "depends_on": ["approve"],
            },
        ]
    }


def test_a_months_receipts_are_watched_and_approved_in_the_browser(
    month: tuple[Site, list[Document]], tmp_path: Path
) -> None:
    site, docs = month
    execution_id = site.start(graph(site, docs))
    site.wait_for_step(execution_id, "arrived", "RUNNING")
    traffic = Traffic()
    with open_page(traffic) as page:
        page.set_viewport_size({"width": WIDE[0], "height": WIDE[1]})
        site.open(page, traffic, execution_id, "approver")
        expect(node(page, "arrived")).to_have_attribute("data-status", "RUNNING")
        expect(node(page, "each")).to_have_attribute("data-status", "PENDING")
        (site.gates / "month").touch()

        # Live: the for-each's box fills with the files' elements, and each turns
        # green as its receipt is booked, with no reload.
        cells = node(page, "each").locator(".cell")
        expect(cells).to_have_count(RECEIPTS, timeout=SLOW_MS)
        for index in range(RECEIPTS):
            expect(node(page, f"each[{index}]")).to_have_attribute(
                "data-status", "SUCCEEDED", timeout=SLOW_MS
            )
        expect(node(page, "each")).to_contain_text(f"{RECEIPTS}/{RECEIPTS}")

        # Where it waits and why: the approval's step, its pane and its timeline.
        expect(node(page, "approve")).to_have_attribute(
            "data-status", "WAITING_APPROVAL"
        )
        expect(page.locator("#approval-what")).to_contain_text(
            f"Lähetä ALV-ilmoitus: {RECEIPTS} kuittia kirjattu"
        )
        waiting = page.locator('#timeline .line[data-step-id="approve"] .segment')
        expect(waiting).to_have_class("segment WAITING_APPROVAL open")
        expect(node(page, "vat")).to_have_attribute("data-status", "PENDING")
        # 250 element and inner-step lines: the first 100 shown, the rest counted.
        expect(page.locator("#timeline-hidden")).to_contain_text("150 more")
        page.screenshot(
            path=str(shots(tmp_path) / "month-waiting-1280.png"), full_page=True
        )

        # One receipt's element: its file as input, its booking as output.
        node(page, "each[7]").click()
        element = page.locator('details.step[data-step-id="each[7]"]')
        expect(element).to_have_attribute("open", "")
        expect(element).to_contain_text("docs/")
        # Its receipt_processing's steps inside it, each with the inputs it ran
        # with: the OCR step read that file, the parser got the OCR's text.
        ocr = page.locator('details.step[data-step-id="each[7].ocr"]')
        ocr.locator("summary").first.click()
        inputs = ocr.locator(".io > .json-block").first
        expect(inputs).to_contain_text("file: ")
        expect(inputs).to_contain_text("docs/")
        parse = page.locator('details.step[data-step-id="each[7].parse"]')
        expect(parse.locator(".io > .json-block").first).to_contain_text("text: ")

        page.locator("#approve").click()
        expect(page.locator("#action-status")).to_have_text("Hyväksytty · Approved")
        expect(node(page, "vat")).to_have_attribute("data-status", "SUCCEEDED")
        expect(page.locator("#execution-status")).to_have_attribute(
            "data-status", "SUCCEEDED"
        )
        page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
        assert_fits(page, PHONE[0])
        page.screenshot(
            path=str(shots(tmp_path) / "month-done-390.png"), full_page=True
        )
        traffic.settle(page)
    traffic.assert_clean()

    # What the page showed is what happened: every receipt booked once, and the VAT
    # report counts them all.
    done = site.data(
        """query($id: ID!) { execution(id: $id) { status result
             steps(flat: true) { stepId status } } }""",
        {"id": execution_id},
    )["execution"]
    nested = [s for s in done["steps"] if s["stepId"].startswith("each[")]
    # Each element and the four steps of its receipt_processing.
    assert len(nested) == RECEIPTS * 5
    assert {s["status"] for s in nested} == {"SUCCEEDED"}
    report = done["result"]
    assert report is not None, done
    counted = sum(
        r["purchases_net"] + r["purchases_vat"] for r in report["vat"]["rates"]
    )
    printed = sum(row.gross for doc in docs for row in doc.vat_rows)
    assert round(counted, 2) == float(printed), report
