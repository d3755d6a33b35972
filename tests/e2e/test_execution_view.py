"""The execution view (`/workflows/executions/<id>`) on the real server in a real
headless Chromium: it follows a running execution live (steps turn green without a
reload, a retry shows in the timeline and the errors), cancels one, approves one with a
second key (four eyes), draws a for-each's elements inside its box, and shows the
copilot's command; at 1,280 px and at phone width, with nothing leaving the machine
and no console error."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
from playwright.sync_api import expect

from tests.api.conftest import make_keys
from tests.support.gql import follow_to_end
from tests.support.server import ServerProcess
from tests.web.browser import TIMEOUT_S, Traffic, open_page
from tests.web.charts import PHONE, WIDE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from playwright.sync_api import Locator, Page

    from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.slow

EXECUTE = "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }"
STATE = """query($id: ID!) { execution(id: $id) { status
  steps(flat: true) { stepId status } } }"""
COPILOT = """mutation($c: String!) { copilotExecute(command: $c,
  context: {referenceDate: "2026-11-24"}) { plan { explanation }
  execution { id } } }"""


class Site:
    """The real server and keys of one tenant: `starter` (operator) starts the
    executions, `approver` (admin) decides, `viewer` only reads."""

    def __init__(self, url: str, keys: dict[str, str], gates: Path) -> None:
        self.url, self.keys, self.gates = url, keys, gates

    def data(
        self, query: str, variables: dict[str, Any], who: str = "starter"
    ) -> dict[str, Any]:
        body = httpx.post(
            self.url + "/graphql",
            json={"query": query, "variables": variables},
            headers={"X-API-Key": self.keys[who]},
            timeout=30,
        ).json()
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data

    def start(self, graph: dict[str, Any]) -> str:
        execution_id: str = self.data(EXECUTE, {"g": graph})["executeWorkflow"]["id"]
        return execution_id

    def steps(self, execution_id: str) -> dict[str, str]:
        execution = self.data(STATE, {"id": execution_id})["execution"]
        return {s["stepId"]: s["status"] for s in execution["steps"]}

    def wait_for_step(self, execution_id: str, step_id: str, status: str) -> None:
        """Return once the API says `step_id` has `status`."""
        deadline = time.monotonic() + TIMEOUT_S
        while (now := self.steps(execution_id).get(step_id)) != status:
            assert time.monotonic() < deadline, (step_id, now)
            anyio.run(anyio.sleep, 0.05)

    def open(
        self, page: Page, traffic: Traffic, execution_id: str, who: str = "starter"
    ) -> None:
        """The view of `execution_id`, connected with `who`'s key as a person would:
        the key typed once into the form."""
        url = f"{self.url}/workflows/executions/{execution_id}"
        if page.url == "about:blank":
            page.goto(url)
        else:
            navigate(page, traffic, lambda: page.goto(url))
        page.fill("#key", self.keys[who])
        page.click("#key-form button[type=submit]")


@pytest.fixture(scope="module")
def site(
    database_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    workdir = tmp_path_factory.mktemp("execution-view")
    url = database_factory.sqlite(workdir)
    keys = make_keys(
        url,
        {
            "starter": ("operator", "acme"),
            "approver": ("admin", "acme"),
            "viewer": ("viewer", "acme"),
        },
    )
    env = {
        "DATABASE_URL": url,
        "AGENT_FILES_DIR": str(workdir),
        "AGENT_PLUGINS": "tests.support.agents,tests.api.gate_agent",
        # A retry's wait is long enough to be seen on the timeline.
        "AGENT_RETRY_INITIAL_MS": "400",
    }
    gates = workdir / "gates"
    gates.mkdir()
    with ServerProcess(env, workdir / "server.log") as process:
        yield Site(process.url, keys, gates)


def shots(tmp_path: Path) -> Path:
    """Where screenshots go: ``SCREENSHOT_DIR`` when set (to look at them), else the
    test's own folder."""
    chosen = os.environ.get("SCREENSHOT_DIR")
    if not chosen:
        return tmp_path
    folder = Path(chosen)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def navigate(page: Page, traffic: Traffic, go: Callable[[], object]) -> None:
    """Leave the page by `go` (a click on a link, a `goto`) once its requests are
    answered; a request it starts in between is cancelled by the browser, as any
    navigation cancels them, and is not counted as a failure."""
    traffic.settle(page)
    before = len(traffic.failures)
    go()
    page.wait_for_load_state()
    left = traffic.failures[before:]
    assert all("net::ERR_ABORTED" in f for f in left), left
    del traffic.failures[before:]


def node(page: Page, step_id: str) -> Locator:
    """A step's box (or a for-each element's cell) in the drawn graph."""
    return page.locator(f'#graph [data-step-id="{step_id}"]')


def assert_fits(page: Page, width: int) -> None:
    """Nothing is wider than the viewport, and the graph fits its section."""
    sizes: dict[str, float] = page.evaluate(
        """() => ({
          page: document.documentElement.scrollWidth,
          graph: document.querySelector('#graph svg').getBoundingClientRect().width,
          box: document.getElementById('graph').clientWidth,
        })"""
    )
    assert sizes["page"] <= width, sizes
    assert sizes["graph"] <= sizes["box"] + 1, sizes


def test_the_view_follows_a_running_execution_live(site: Site, tmp_path: Path) -> None:
    gate = site.gates / "live"
    graph = {
        "steps": [
            {"id": "fetch", "agent": "wait_agent", "inputs": {"seconds": 0}},
            {
                "id": "flaky",
                "agent": "flaky_agent",
                "inputs": {"fail_times": 1, "message": "pankki ei vastannut"},
            },
            {
                "id": "hold",
                "agent": "gate_agent",
                "inputs": {"path": str(gate), "timeout_s": 60},
                "depends_on": ["fetch", "flaky"],
            },
            {
                "id": "book",
                "agent": "wait_agent",
                "inputs": {"seconds": 0.4},
                "depends_on": ["hold"],
            },
            {
                "id": "report",
                "agent": "echo_agent",
                "inputs": {"value": "${steps.flaky.attempt}"},
                "depends_on": ["book"],
            },
        ]
    }
    execution_id = site.start(graph)
    site.wait_for_step(execution_id, "hold", "RUNNING")
    traffic = Traffic()
    with open_page(traffic) as page:
        page.set_viewport_size({"width": WIDE[0], "height": WIDE[1]})
        site.open(page, traffic, execution_id)
        expect(node(page, "hold")).to_have_attribute("data-status", "RUNNING")
        expect(node(page, "fetch")).to_have_attribute("data-status", "SUCCEEDED")
        expect(node(page, "book")).to_have_attribute("data-status", "PENDING")
        expect(page.locator("#execution-status")).to_have_attribute(
            "data-status", "RUNNING"
        )
        # The retry: a failed attempt and a wait before the next on the timeline,
        # the first attempt's error among the errors.
        flaky = page.locator('#timeline .line[data-step-id="flaky"]')
        expect(flaky.locator(".segment.FAILED")).to_have_count(1)
        expect(flaky.locator(".segment.BACKOFF")).to_have_count(1)
        expect(flaky.locator(".segment.SUCCEEDED")).to_have_count(1)
        expect(page.locator("#errors")).to_contain_text(
            "pankki ei vastannut (attempt 1)"
        )
        # The arrows are the graph's dependencies, each drawn downwards.
        # (`report` refers to `flaky`'s output: that is a dependency too.)
        expect(page.locator("#graph path.edge")).to_have_count(5)
        assert arrows(page) == {
            ("fetch", "hold"),
            ("flaky", "hold"),
            ("hold", "book"),
            ("book", "report"),
            ("flaky", "report"),
        }
        boxes = {s: box(page, s) for s in ("fetch", "flaky", "hold", "book", "report")}
        assert boxes["fetch"]["y"] == boxes["flaky"]["y"] < boxes["hold"]["y"]
        assert boxes["hold"]["y"] < boxes["book"]["y"] < boxes["report"]["y"]
        page.screenshot(
            path=str(shots(tmp_path) / "live-running-1280.png"), full_page=True
        )

        # No reload from here on: a mark on the window would be gone after one.
        page.evaluate("() => { window.stillTheSamePage = true; }")
        requests_before = len(traffic.requests)
        gate.touch()
        expect(node(page, "hold")).to_have_attribute("data-status", "SUCCEEDED")
        expect(node(page, "book")).to_have_attribute("data-status", "SUCCEEDED")
        expect(node(page, "report")).to_have_attribute("data-status", "SUCCEEDED")
        expect(page.locator("#execution-status")).to_have_attribute(
            "data-status", "SUCCEEDED"
        )
        assert page.evaluate("() => window.stillTheSamePage") is True
        assert not any(
            "/workflows/executions/" in r for r in traffic.requests[requests_before:]
        )
        # Green in the page's colours, the arrows into it drawn as done.
        expect(node(page, "hold").locator("rect.box")).to_have_css(
            "fill", "rgb(218, 251, 225)"
        )
        expect(page.locator('#graph path.edge.done[data-to="book"]')).to_have_count(1)
        expect(page.locator("#cancel")).to_be_hidden()
        expect(page.locator("#events tr")).to_have_count(
            len(site.data(EVENTS, {"id": execution_id})["execution"]["events"])
        )

        # A step's inputs as the engine resolved them, and its output.
        node(page, "report").click()
        report = page.locator('details.step[data-step-id="report"]')
        expect(report).to_have_attribute("open", "")
        expect(report.locator(".json-block").first).to_contain_text("value: 2")
        expect(report.locator(".json-block").nth(1)).to_contain_text("value: 2")
        page.screenshot(
            path=str(shots(tmp_path) / "live-done-1280.png"), full_page=True
        )

        page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
        assert_fits(page, PHONE[0])
        page.screenshot(path=str(shots(tmp_path) / "live-done-390.png"), full_page=True)
        traffic.settle(page)
    traffic.assert_clean()
    assert all(r.split(" ", 1)[1].startswith(site.url) for r in traffic.requests)


EVENTS = "query($id: ID!) { execution(id: $id) { events { seq } } }"


def arrows(page: Page) -> set[tuple[str, str]]:
    """The drawn arrows, each as (from, to), checked to point downwards."""
    drawn: list[list[Any]] = page.evaluate(
        """() => [...document.querySelectorAll('#graph path.edge')].map((p) => {
          const length = p.getTotalLength();
          const start = p.getPointAtLength(0), end = p.getPointAtLength(length);
          return [p.dataset.from, p.dataset.to, start.y, end.y];
        })"""
    )
    assert all(start < end for _, _, start, end in drawn), drawn
    return {(a, b) for a, b, _, _ in drawn}


def box(page: Page, step_id: str) -> dict[str, float]:
    """A step's box in the SVG's own units."""
    found: dict[str, float] = page.evaluate(
        """(id) => {
          const g = document.querySelector(`#graph [data-step-id="${id}"]`);
          const m = g.transform.baseVal.consolidate().matrix;
          const r = g.querySelector('rect');
          return {x: m.e, y: m.f, width: r.width.baseVal.value,
                  height: r.height.baseVal.value};
        }""",
        step_id,
    )
    return found


def test_cancel_works_from_the_page(site: Site, tmp_path: Path) -> None:
    graph = {
        "steps": [
            {"id": "first", "agent": "wait_agent", "inputs": {"seconds": 0}},
            {
                "id": "long",
                "agent": "wait_agent",
                "inputs": {"seconds": 120},
                "depends_on": ["first"],
            },
            {
                "id": "after",
                "agent": "wait_agent",
                "inputs": {"seconds": 0},
                "depends_on": ["long"],
            },
        ]
    }
    execution_id = site.start(graph)
    site.wait_for_step(execution_id, "long", "RUNNING")
    traffic = Traffic()
    with open_page(traffic) as page:
        # A viewer sees the execution but may not cancel it.
        site.open(page, traffic, execution_id, "viewer")
        expect(node(page, "long")).to_have_attribute("data-status", "RUNNING")
        expect(page.locator("#cancel")).to_be_disabled()
        expect(page.locator("#cancel-note")).to_contain_text("OPERATOR")

        site.open(page, traffic, execution_id, "starter")
        cancel = page.locator("#cancel")
        expect(cancel).to_be_enabled()
        cancel.click()
        expect(cancel).to_contain_text("Vahvista peruminen")
        cancel.click()
        expect(page.locator("#action-status")).to_have_text(
            "Peruminen pyydetty · Cancellation requested"
        )
        expect(page.locator("#execution-status")).to_have_attribute(
            "data-status", "CANCELLED"
        )
        expect(node(page, "long")).to_have_attribute("data-status", "CANCELLED")
        expect(node(page, "after")).to_have_attribute("data-status", "CANCELLED")
        expect(page.locator("#cancel")).to_be_hidden()
        expect(page.locator("#errors")).to_contain_text("cancelled on request")
        page.screenshot(
            path=str(shots(tmp_path) / "cancelled-1280.png"), full_page=True
        )
        traffic.settle(page)
    traffic.assert_clean()
    assert site.data(STATE, {"id": execution_id})["execution"]["status"] == (
        "CANCELLED"
    )


def test_an_api_refusal_is_shown_on_the_page(site: Site) -> None:
    """What the API says when it refuses (here: the key was revoked while the page
    was open) is shown, in the page's words and the server's."""
    created = site.data(
        """mutation { createApiKey(name: "lyhyt", role: OPERATOR) {
          key apiKey { id } } }""",
        {},
        "approver",
    )["createApiKey"]
    site.keys["short"] = created["key"]
    execution_id = site.start(
        {"steps": [{"id": "w", "agent": "wait_agent", "inputs": {"seconds": 120}}]}
    )
    traffic = Traffic()
    try:
        with open_page(traffic) as page:
            site.open(page, traffic, execution_id, "short")
            expect(node(page, "w")).to_have_attribute("data-status", "RUNNING")
            expect(page.locator("#cancel")).to_be_enabled()
            site.data(
                "mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
                {"id": created["apiKey"]["id"]},
                "approver",
            )
            page.locator("#cancel").click()
            page.locator("#cancel").click()
            expect(page.locator("#action-status")).to_contain_text(
                "API-avain ei kelpaa · The API key was refused"
            )
            expect(page.locator("#action-status")).to_have_class("error")
            expect(node(page, "w")).to_have_attribute("data-status", "RUNNING")
    finally:
        site.data(
            "mutation($id: ID!) { cancelExecution(id: $id) { id } }",
            {"id": execution_id},
        )
    # The refusal itself is all that went wrong.
    assert traffic.failures and all("HTTP 401" in f for f in traffic.failures), (
        traffic.failures
    )
    assert all("401" in e for e in traffic.errors), traffic.errors


def test_approve_works_from_the_page_with_a_second_key(
    site: Site, tmp_path: Path
) -> None:
    graph = {
        "steps": [
            {"id": "prepare", "agent": "wait_agent", "inputs": {"seconds": 0}},
            {
                "id": "approve",
                "agent": "approval_agent",
                "inputs": {
                    "title": "Maksa lasku 1 234,50 €",
                    "details": "Toimittaja Oy, eräpäivä 2026-12-01",
                },
                "depends_on": ["prepare"],
            },
            {
                "id": "pay",
                "agent": "wait_agent",
                "inputs": {"seconds": 0},
                "depends_on": ["approve"],
            },
        ]
    }
    execution_id = site.start(graph)
    site.wait_for_step(execution_id, "approve", "WAITING_APPROVAL")
    traffic = Traffic()
    with open_page(traffic) as page:
        # The key that started it may not decide it (four eyes): said, not offered.
        site.open(page, traffic, execution_id, "starter")
        expect(page.locator("#approval")).to_be_visible()
        expect(page.locator("#approval-what")).to_contain_text("Maksa lasku 1 234,50 €")
        expect(page.locator("#approve")).to_be_disabled()
        expect(page.locator("#approval-note")).to_contain_text("four eyes")
        expect(node(page, "approve")).to_have_attribute(
            "data-status", "WAITING_APPROVAL"
        )
        waiting = page.locator('#timeline .line[data-step-id="approve"] .segment')
        expect(waiting).to_have_class("segment WAITING_APPROVAL open")

        # A viewer's role is below the step's approver role (ADMIN by default).
        site.open(page, traffic, execution_id, "viewer")
        expect(page.locator("#approval-note")).to_have_text(
            "Päätös vaatii roolin ADMIN · Deciding needs role ADMIN"
        )
        expect(page.locator("#reject")).to_be_disabled()

        site.open(page, traffic, execution_id, "approver")
        expect(page.locator("#approve")).to_be_enabled()
        expect(page.locator("#approval-note")).to_have_text("")
        page.screenshot(path=str(shots(tmp_path) / "approval-1280.png"), full_page=True)
        page.fill("#approval-comment", "Tarkistettu")
        page.locator("#approve").click()
        expect(page.locator("#action-status")).to_have_text("Hyväksytty · Approved")
        expect(node(page, "approve")).to_have_attribute("data-status", "SUCCEEDED")
        expect(node(page, "pay")).to_have_attribute("data-status", "SUCCEEDED")
        expect(page.locator("#execution-status")).to_have_attribute(
            "data-status", "SUCCEEDED"
        )
        expect(page.locator("#approval")).to_be_hidden()
        line = page.locator('#timeline .line[data-step-id="approve"]')
        expect(line.locator(".segment.WAITING_APPROVAL.approved")).to_have_count(1)
        expect(page.locator("#events")).to_contain_text("APPROVAL_DECIDED")
        page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
        assert_fits(page, PHONE[0])
        page.screenshot(path=str(shots(tmp_path) / "approved-390.png"), full_page=True)
        traffic.settle(page)
    traffic.assert_clean()
    approval = site.data(
        "query($id: ID!) { approvals(executionId: $id) { status comment decidedBy } }",
        {"id": execution_id},
    )["approvals"]
    assert [a["status"] for a in approval] == ["APPROVED"]
    assert approval[0]["comment"] == "Tarkistettu"


INNER = {
    "steps": [
        {"id": "check", "agent": "wait_agent", "inputs": {"seconds": 0}},
        {
            "id": "note",
            "agent": "wait_agent",
            "inputs": {"seconds": 0},
            "depends_on": ["check"],
        },
    ]
}


def test_a_for_each_is_drawn_with_its_elements_inside_its_box(
    site: Site, tmp_path: Path
) -> None:
    seconds = [0.1, 0.3, 0.2, 0.1, 0.4, 0.2, 0.1]
    graph = {
        "steps": [
            {"id": "list", "agent": "echo_agent", "inputs": {"value": seconds}},
            {
                "id": "each",
                "for_each": "${steps.list.value}",
                "max_concurrency": 3,
                "agent": "wait_agent",
                "inputs": {"seconds": "${item}"},
            },
            {
                "id": "sum",
                "agent": "wait_agent",
                "inputs": {"seconds": 0},
                "depends_on": ["each"],
            },
            # A for-each of a sub-workflow, and a sub-workflow alone.
            {
                "id": "checks",
                "for_each": [1, 2],
                "workflow": {"graph": INNER},
                "depends_on": ["list"],
            },
            {"id": "wrap", "workflow": {"graph": INNER}, "depends_on": ["checks"]},
        ]
    }
    execution_id = site.start(graph)
    anyio.run(follow_to_end, site.url, site.keys["starter"], execution_id)
    traffic = Traffic()
    with open_page(traffic) as page:
        page.set_viewport_size({"width": WIDE[0], "height": WIDE[1]})
        site.open(page, traffic, execution_id)
        expect(page.locator("#execution-status")).to_have_attribute(
            "data-status", "SUCCEEDED"
        )
        group = node(page, "each")
        cells = group.locator(".cell")
        expect(cells).to_have_count(len(seconds))
        for index in range(len(seconds)):
            expect(node(page, f"each[{index}]")).to_have_attribute(
                "data-status", "SUCCEEDED"
            )
        # Every element's cell lies inside its for-each's box.
        outer = group.locator("rect.box").bounding_box()
        assert outer is not None
        for index in range(len(seconds)):
            inner = node(page, f"each[{index}]").bounding_box()
            assert inner is not None
            assert outer["x"] <= inner["x"] and outer["y"] <= inner["y"]
            assert inner["x"] + inner["width"] <= outer["x"] + outer["width"]
            assert inner["y"] + inner["height"] <= outer["y"] + outer["height"]
        expect(group).to_contain_text("7/7")
        assert arrows(page) == {
            ("list", "each"),
            ("each", "sum"),
            ("list", "checks"),
            ("checks", "wrap"),
        }
        # An element that runs a sub-workflow shows its steps as dots; a
        # sub-workflow's box holds its steps.
        expect(node(page, "checks").locator(".cell")).to_have_count(2)
        expect(node(page, "checks[1]").locator(".dot.SUCCEEDED")).to_have_count(2)
        expect(node(page, "wrap").locator(".cell")).to_have_count(2)
        expect(node(page, "wrap.check")).to_have_attribute("data-status", "SUCCEEDED")

        # An element's own inputs: its item.
        node(page, "each[4]").click()
        element = page.locator('details.step[data-step-id="each[4]"]')
        expect(element).to_have_attribute("open", "")
        expect(element.locator(".json-block").first).to_contain_text("seconds: 0.4")
        expect(page.locator('#timeline .line[data-step-id="each[6]"]')).to_have_count(1)
        page.screenshot(path=str(shots(tmp_path) / "for-each-1280.png"), full_page=True)
        page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
        assert_fits(page, PHONE[0])
        page.screenshot(path=str(shots(tmp_path) / "for-each-390.png"), full_page=True)
        traffic.settle(page)
    traffic.assert_clean()


def test_an_execution_from_the_copilot_shows_its_command(
    site: Site, tmp_path: Path
) -> None:
    command = "Laske ALV viime kuulta"
    made = site.data(COPILOT, {"c": command})["copilotExecute"]
    execution_id = made["execution"]["id"]
    traffic = Traffic()
    with open_page(traffic) as page:
        site.open(page, traffic, execution_id)
        expect(page.locator("#copilot")).to_be_visible()
        expect(page.locator("#copilot-command")).to_have_text(command)
        expect(page.locator("#copilot-explanation")).to_have_text(
            made["plan"]["explanation"]
        )
        expect(page.locator("#copilot-meta")).to_contain_text("2026-11-24")
        expect(page.locator("#execution-source")).to_contain_text("copilot")
        expect(page.locator("#execution-status")).to_have_attribute(
            "data-status", "SUCCEEDED"
        )
        page.screenshot(path=str(shots(tmp_path) / "copilot-1280.png"), full_page=True)
        traffic.settle(page)
    traffic.assert_clean()


def test_the_dashboard_links_each_execution_to_its_view(site: Site) -> None:
    """From the dashboard's list, one click opens the view, which goes on with the
    key the dashboard was given (this tab's sessionStorage); the page itself needs
    no key, and an unknown execution is said to be so."""
    execution_id = site.start(
        {"steps": [{"id": "w", "agent": "wait_agent", "inputs": {"seconds": 0}}]}
    )
    anyio.run(follow_to_end, site.url, site.keys["starter"], execution_id)
    page_alone = httpx.get(f"{site.url}/workflows/executions/{execution_id}")
    assert page_alone.status_code == 200
    assert page_alone.headers["content-type"].startswith("text/html")
    traffic = Traffic()
    with open_page(traffic) as page:
        page.goto(site.url + "/workflows/metrics")
        page.fill("#key", site.keys["starter"])
        page.click("#key-form button[type=submit]")
        link = page.locator(f'#executions a[title="{execution_id}"]')
        expect(link).to_be_visible()
        navigate(page, traffic, link.click)
        page.wait_for_url(f"**/workflows/executions/{execution_id}")
        expect(node(page, "w")).to_have_attribute("data-status", "SUCCEEDED")
        expect(page.locator("#status")).to_have_text(
            "Suoritus on päättynyt · The execution has ended"
        )

        unknown = f"{site.url}/workflows/executions/{execution_id[:-4]}0000"
        navigate(page, traffic, lambda: page.goto(unknown))
        expect(page.locator("#status")).to_contain_text(
            "Suoritusta ei löydy tältä avaimelta · No such execution for this key"
        )
        expect(page.locator("#status")).to_have_class("error")
        traffic.settle(page)
    traffic.assert_clean()
