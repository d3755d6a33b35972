"""The copilot's plan preview (`/workflows/copilot`) on the real server with the
offline Finnish planner, in a real headless Chromium: a Finnish command is planned and
drawn (the boxes and arrows are the plan the API gives, and the engine's reading of
what each step waits for), nothing runs until "Suorita", which opens the new
execution's view where it is followed to its end; a command the copilot will not plan
and an empty one are answered on the page; at 1,280 px and at phone width, with nothing
leaving the machine and no console error. Behind a balancer, a run that reaches an API
process which plans the command otherwise (a model, a fake OpenAI server here) starts
nothing: the page draws the new plan, and only that one runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.sync_api import expect

from agent_orchestrator.core.graph import WorkflowGraph
from tests.api.conftest import make_keys
from tests.e2e.test_execution_view import arrows, assert_fits, node, shots
from tests.support.fake_openai import fake_openai
from tests.support.intent_answers import answer
from tests.support.server import ServerProcess
from tests.web.browser import Traffic, open_page
from tests.web.charts import PHONE, WIDE

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Page, Route

    from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.slow

REFERENCE = "2026-11-24"
PLAN = """query($c: String!, $d: Date) { copilotPlan(command: $c,
  context: {referenceDate: $d}) { graph explanation templateId } }"""
COUNT = "query { executions(first: 100) { edges { node { id } } } }"
#: A plan of several steps: a report, an approval before sending it, the sending.
COMPOSED = (
    "Tee talousraportti viime kuulta PDF:nä ja lähetä se osoitteeseen "
    "hallitus@firma.fi, mutta pyydä hyväksyntä ennen lähettämistä"
)
SIMPLE = "Luo talousraportti viime kuulta"


class Site:
    def __init__(self, url: str, keys: dict[str, str]) -> None:
        self.url, self.keys = url, keys

    def data(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        body = httpx.post(
            self.url + "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"X-API-Key": self.keys["operator"]},
            timeout=30,
        ).json()
        assert not body.get("errors"), body
        return body["data"]

    def executions(self) -> set[str]:
        return {e["node"]["id"] for e in self.data(COUNT)["executions"]["edges"]}

    def open(self, page: Page) -> None:
        """The page, the operator's key typed once into its form."""
        page.goto(self.url + "/workflows/copilot")
        page.fill("#key", self.keys["operator"])
        page.click("#key-form button[type=submit]")
        expect(page.locator("#status")).to_contain_text("Key kept")
        page.fill("#reference-date", REFERENCE)

    def plan(self, page: Page, command: str) -> None:
        page.fill("#command", command)
        page.click("#plan")


@pytest.fixture(scope="module")
def site(
    database_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    workdir = tmp_path_factory.mktemp("plan-preview")
    url = database_factory.sqlite(workdir)
    keys = make_keys(url, {"operator": ("operator", "acme")})
    env = {"DATABASE_URL": url, "AGENT_FILES_DIR": str(workdir), "OPENAI_API_KEY": ""}
    with ServerProcess(env, workdir / "server.log") as process:
        yield Site(process.url, keys)


def expected_arrows(graph: dict[str, Any]) -> set[tuple[str, str]]:
    """What each step waits for, as the engine reads the graph."""
    read = WorkflowGraph.model_validate(graph)
    return {
        (before, step)
        for step, found in read.dependencies().items()
        for before in found
    }


def test_a_finnish_command_is_drawn_explained_and_nothing_runs(
    site: Site, tmp_path: Path
) -> None:
    before = site.executions()
    expected = site.data(PLAN, {"c": COMPOSED, "d": REFERENCE})["copilotPlan"]
    steps = [step["id"] for step in expected["graph"]["steps"]]
    assert len(steps) >= 3, expected
    traffic = Traffic()
    with open_page(traffic) as page:
        page.set_viewport_size({"width": WIDE[0], "height": WIDE[1]})
        site.open(page)
        site.plan(page, COMPOSED)
        expect(page.locator("#plan-status")).to_contain_text("nothing has run yet")
        expect(page.locator("#plan-explanation")).to_have_text(expected["explanation"])
        # The boxes are the plan's steps, all still to run; the arrows what each
        # waits for.
        for step_id in steps:
            expect(node(page, step_id)).to_have_attribute("data-status", "PENDING")
        assert page.locator("#graph [data-step-id]").count() == len(steps)
        assert arrows(page) == expected_arrows(expected["graph"])
        # A box opens its step's JSON.
        node(page, steps[-1]).click()
        expect(
            page.locator(f'#plan-step [data-step-id="{steps[-1]}"]')
        ).to_contain_text("hallitus@firma.fi")
        page.screenshot(path=str(shots(tmp_path) / "plan-1280.png"), full_page=True)
        page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
        assert_fits(page, PHONE[0])
        page.screenshot(path=str(shots(tmp_path) / "plan-390.png"), full_page=True)
        traffic.settle(page)
    traffic.assert_clean()
    assert site.executions() == before  # a preview runs nothing


def test_run_starts_the_previewed_plan_and_opens_its_view(site: Site) -> None:
    before = site.executions()
    expected = site.data(PLAN, {"c": SIMPLE, "d": REFERENCE})["copilotPlan"]
    traffic = Traffic()
    with open_page(traffic) as page:
        page.set_viewport_size({"width": WIDE[0], "height": WIDE[1]})
        site.open(page)
        site.plan(page, SIMPLE)
        expect(page.locator("#plan-meta")).to_contain_text(expected["templateId"])
        traffic.settle(page)
        page.click("#run")
        page.wait_for_url("**/workflows/executions/*")
        started = page.url.rsplit("/", 1)[1]
        # The execution view, with the dashboard's key from this tab, follows it.
        expect(page.locator("#execution-status")).to_have_attribute(
            "data-status", "SUCCEEDED"
        )
        expect(page.locator("#copilot-command")).to_have_text(SIMPLE)
        traffic.settle(page)
    traffic.assert_clean()
    assert site.executions() - before == {started}
    graph = site.data(
        "query($id: ID!) { execution(id: $id) { graph } }", {"id": started}
    )["execution"]["graph"]
    assert [s["id"] for s in graph["steps"]] == [
        s["id"] for s in expected["graph"]["steps"]
    ]


def test_a_command_it_will_not_plan_is_answered_on_the_page(site: Site) -> None:
    before = site.executions()
    traffic = Traffic()
    with open_page(traffic) as page:
        site.open(page)
        # Empty: said before anything is sent.
        page.click("#plan")
        expect(page.locator("#plan-status")).to_contain_text("Kirjoita komento")
        # Something the product does not do: the planner's Finnish refusal, quoted.
        site.plan(page, "Maksa kaikki avoimet laskut pankissa huomenna")
        expect(page.locator("#plan-status")).to_contain_text(
            "Komentoa ei voitu suunnitella"
        )
        expect(page.locator("#plan-status")).to_have_class("error")
        expect(page.locator("#plan-section")).to_be_hidden()
        expect(page.locator("#run")).to_be_disabled()
        traffic.settle(page)
    traffic.assert_clean()
    assert site.executions() == before


def test_a_plan_that_changed_before_the_run_is_shown_and_nothing_runs(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    url = database_factory.sqlite(tmp_path)
    keys = make_keys(url, {"operator": ("operator", "acme")})
    command = "Tee ALV-laskelma viime kuulta"
    with fake_openai() as fake:
        env = {"DATABASE_URL": url, "AGENT_FILES_DIR": str(tmp_path), **fake.env()}
        with (
            ServerProcess(env, tmp_path / "first.log") as first,
            ServerProcess(env, tmp_path / "second.log") as second,
        ):
            site = Site(first.url, keys)

            def balance(route: Route) -> None:
                """The balancer sends the runs to the second API process."""
                if "copilotExecute" not in (route.request.post_data or ""):
                    route.continue_()
                    return
                route.fulfill(response=route.fetch(url=second.url + "/graphql"))

            # The preview's model answer; the second process's, otherwise; the
            # page's new preview, as the second process planned it.
            fake.reply(
                answer(template_id="vat_report", period_kind="previous_month"),
                answer(template_id="vat_report", period_kind="current_month"),
                answer(template_id="vat_report", period_kind="current_month"),
            )
            traffic = Traffic()
            with open_page(traffic) as page:
                page.route("**/graphql", balance)
                site.open(page)
                site.plan(page, command)
                expect(page.locator("#plan-variables")).to_contain_text("2026-10-01")
                page.click("#run")
                expect(page.locator("#action-status")).to_contain_text(
                    "Suunnitelma muuttui"
                )
                expect(page.locator("#action-status")).to_have_class("error")
                # Nothing ran; the page shows what the command now plans to.
                expect(page.locator("#plan-variables")).to_contain_text("2026-11-01")
                assert site.executions() == set()
                assert len(fake.requests) == 3
                page.click("#run")
                page.wait_for_url("**/workflows/executions/*")
                started = page.url.rsplit("/", 1)[1]
                traffic.settle(page)
            traffic.assert_clean()
            # The run took the plan the second process had made: no model call more.
            assert len(fake.requests) == 3
            assert site.executions() == {started}
            ran = site.data(
                "query($id: ID!) { execution(id: $id) { variables } }", {"id": started}
            )["execution"]["variables"]
            assert ran["period_start"] == "2026-11-01", ran
