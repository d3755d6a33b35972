"""The README's pictures: the dashboard, the execution view and the plan preview,
taken from a real server in a headless Chromium (`make screenshots`).

A server on a fresh SQLite database in a temporary folder gets a day's work: receipts
booked one by one (text receipts made by the test suite's generator), a few that fail
(a file that is not there) or are cancelled, financial reports, and a month's 50
receipts in a for-each waiting for approval before the VAT report. The single
executions' creation times are then spread over the last 23 hours (a picture of a day
cannot wait a day), and the pages are photographed at 1,280 px, cropped and reduced to
256 colours into docs/images/.

    .venv/bin/python scripts/screenshots.py [--out docs/images]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.api.conftest import make_keys  # noqa: E402
from tests.support.databases import DatabaseFactory  # noqa: E402
from tests.support.documents import make_receipt  # noqa: E402
from tests.support.gql import follow_to_end  # noqa: E402
from tests.support.scans import place  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402
from tests.web.browser import open_page  # noqa: E402

TENANT = "acme"
WIDTH = 1280
EXECUTE = """mutation($t: String, $g: JSON, $v: JSON) { executeWorkflow(input:
  {templateId: $t, graph: $g, initialVariables: $v}) { id } }"""
CANCEL = "mutation($id: ID!) { cancelExecution(id: $id) { id } }"
STEPS = "query($id: ID!) { execution(id: $id) { steps(flat: true) { stepId status } } }"
COMPOSED = (
    "Tee talousraportti viime kuulta PDF:nä ja lähetä se osoitteeseen "
    "hallitus@firma.fi, mutta pyydä hyväksyntä ennen lähettämistä"
)


class Api:
    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key

    def data(self, query: str, variables: dict[str, Any]) -> Any:
        body = httpx.post(
            self.url + "/graphql",
            json={"query": query, "variables": variables},
            headers={"X-API-Key": self.key},
            timeout=60,
        ).json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return body["data"]

    def start(
        self,
        template: str | None = None,
        graph: dict[str, Any] | None = None,
        variables: dict[str, Any] | None = None,
    ) -> str:
        started = self.data(EXECUTE, {"t": template, "g": graph, "v": variables})
        execution_id: str = started["executeWorkflow"]["id"]
        return execution_id

    def follow(self, execution_id: str) -> None:
        anyio.run(follow_to_end, self.url, self.key, execution_id)

    def wait_for(self, execution_id: str, step_id: str, status: str) -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            steps = self.data(STEPS, {"id": execution_id})["execution"]["steps"]
            if any(s["stepId"] == step_id and s["status"] == status for s in steps):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{step_id} never became {status}")


def a_day_of_work(api: Api, area: Path, rng: random.Random) -> tuple[list[str], str]:
    """Executions of all kinds; returns the single ones and the month's for-each."""
    singles: list[str] = []
    month = []
    for _ in range(50):
        month.append(make_receipt(rng))
        place(month[-1], area / "kuitit", "txt", rng)
    first = min(doc.date for doc in month).isoformat()
    last = max(doc.date for doc in month).isoformat()
    month_id = api.start(
        graph={
            "steps": [
                {
                    "id": "files",
                    "agent": "files_agent",
                    "inputs": {"folder": "kuitit/docs", "pattern": "*.txt"},
                },
                {
                    "id": "receipts",
                    "for_each": "${steps.files.files}",
                    "max_concurrency": 4,
                    "workflow": {"template": "receipt_processing"},
                    "inputs": {"receipt_file": "${item}"},
                },
                {
                    "id": "approve",
                    "agent": "approval_agent",
                    "inputs": {
                        "title": "Lähetä ALV-ilmoitus: 50 kuittia kirjattu",
                        "details": f"Kausi {first} – {last}",
                    },
                    "depends_on": ["receipts"],
                },
                {
                    "id": "vat",
                    "agent": "vat_agent",
                    "inputs": {"period_start": first, "period_end": last},
                    "depends_on": ["approve"],
                },
            ]
        }
    )
    for index in range(70):
        doc = make_receipt(rng)
        name = place(doc, area, "txt", rng)
        if index % 9 == 4:
            name = "puuttuu/kuitti.jpg"  # not there: the execution fails
        singles.append(
            api.start(template="receipt_processing", variables={"receipt_file": name})
        )
    october = {"period_start": "2026-10-01", "period_end": "2026-10-31"}
    singles.extend(
        api.start(template="financial_report", variables=october) for _ in range(6)
    )
    for _ in range(3):
        waiting = api.start(
            graph={
                "steps": [
                    {
                        "id": "approve",
                        "agent": "approval_agent",
                        "inputs": {"title": "Maksa lasku"},
                    }
                ]
            }
        )
        api.wait_for(waiting, "approve", "WAITING_APPROVAL")
        api.data(CANCEL, {"id": waiting})
        singles.append(waiting)
    for execution_id in singles:
        api.follow(execution_id)
    api.wait_for(month_id, "approve", "WAITING_APPROVAL")
    return singles, month_id


def spread_over_the_day(database: Path, ids: list[str], rng: random.Random) -> None:
    """Move each execution (its times together) to a moment of the last 23 hours."""
    with sqlite3.connect(database) as conn:
        columns = {
            row[1]
            for row in conn.execute("PRAGMA table_info(agent_workflow_executions)")
            if row[1].endswith("_at") and row[1] != "lease_expires_at"
        }
        for execution_id in ids:
            back = dt.timedelta(minutes=rng.uniform(10, 23 * 60))
            seconds = f"-{int(back.total_seconds())} seconds"
            for column in sorted(columns):
                # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff': the seconds move, the
                # fraction stays.
                conn.execute(
                    f"UPDATE agent_workflow_executions SET {column} = "
                    f"strftime('%Y-%m-%d %H:%M:%S', {column}, ?) "
                    f"|| substr({column}, 20) WHERE id = ? AND {column} IS NOT NULL",
                    (seconds, execution_id),
                )


def keep(shot: Path, out: Path, height: int) -> None:
    """The top `height` pixels of `shot`, in 256 colours, as `out`."""
    with Image.open(shot) as image:
        top = image.crop((0, 0, image.width, min(height, image.height)))
        top.convert("RGB").quantize(colors=256).save(out, optimize=True)
    print(f"{out}: {out.stat().st_size // 1024} KB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        url = DatabaseFactory(work).sqlite(work)
        database = Path(url.removeprefix("sqlite+aiosqlite:///"))
        keys = make_keys(url, {"readme": ("admin", TENANT)})
        area = work / "files" / TENANT
        env = {
            "DATABASE_URL": url,
            "AGENT_FILES_DIR": str(work / "files"),
            "OPENAI_API_KEY": "",
        }
        with ServerProcess(env, work / "server.log") as server:
            api = Api(server.url, keys["readme"])
            print("running a day's work…")
            singles, month_id = a_day_of_work(api, area, rng)
            spread_over_the_day(database, singles, rng)
            with open_page() as page:
                page.set_viewport_size({"width": WIDTH, "height": 900})
                page.goto(server.url + "/workflows/metrics")
                page.fill("#key", api.key)
                page.click("#key-form button[type=submit]")
                page.wait_for_function(
                    "() => window.dashboardCharts && "
                    "Object.keys(window.dashboardCharts.instances).length > 0"
                )
                page.wait_for_timeout(1500)  # the charts' first frame, for a picture
                page.screenshot(path=str(work / "dashboard.png"), full_page=True)
                keep(work / "dashboard.png", out / "dashboard.png", 1500)

                page.goto(f"{server.url}/workflows/executions/{month_id}")
                page.wait_for_selector('#graph [data-step-id="approve"]')
                page.wait_for_timeout(1500)
                page.screenshot(path=str(work / "execution.png"), full_page=True)
                keep(work / "execution.png", out / "execution-view.png", 1250)

                page.goto(server.url + "/workflows/copilot")
                page.fill("#reference-date", "2026-11-24")
                page.fill("#command", COMPOSED)
                page.click("#plan")
                page.wait_for_selector('#graph [data-step-id="notify"]')
                page.screenshot(path=str(work / "plan.png"), full_page=True)
                keep(work / "plan.png", out / "plan-preview.png", 1200)


if __name__ == "__main__":
    main()
