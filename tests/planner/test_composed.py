"""The composed yardstick (tests/data/planner_compose_dev.jsonl and the cases of our
own in tests/data/planner_compose_cases.jsonl) through the offline planner, judged by
tests/planner/judge.py; and the judge itself, which must refuse wrong plans."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from agent_orchestrator.core.enums import Role
from agent_orchestrator.core.errors import PlanningFailed
from agent_orchestrator.planner.model import Plan, PlanContext
from tests.planner.judge import judge

if TYPE_CHECKING:
    from agent_orchestrator.planner.offline import OfflinePlanner

DATA = Path(__file__).parents[1] / "data"
DEV_SET = DATA / "planner_compose_dev.jsonl"
OWN_SET = DATA / "planner_compose_cases.jsonl"


def read_cases(path: Path) -> list[dict[str, Any]]:
    assert path.is_file(), f"the composed yardstick {path} is missing"
    lines = path.read_text("utf-8").splitlines()
    assert "planner_compose v1" in json.loads(lines[0])["format"]
    return [json.loads(line) for line in lines[1:] if line.strip()]


def as_json(plan: Plan) -> dict[str, Any]:
    """The plan as CopilotPlan gives it."""
    schedule = plan.schedule
    return {
        "templateId": plan.template_id,
        "variables": plan.variables,
        "graph": plan.graph,
        "explanation": plan.explanation,
        "schedule": None
        if schedule is None
        else {"cron": schedule.cron, "timezone": schedule.timezone},
    }


def run_context() -> PlanContext:
    return PlanContext(
        tenant_id="default", role=Role.OPERATOR, reference_date=dt.date(2026, 11, 24)
    )


def run(planner: OfflinePlanner, case: dict[str, Any]) -> str | None:
    context = PlanContext(
        tenant_id="default",
        role=Role.OPERATOR,
        reference_date=dt.date.fromisoformat(case["reference_date"]),
        language=case.get("lang"),
    )
    try:
        plan = planner.plan_now(case["command"], context)
    except PlanningFailed as exc:
        return judge(case, None, "PLANNING_FAILED") and f"{exc}"
    return judge(case, as_json(plan), None)


@pytest.mark.parametrize("path", [DEV_SET, OWN_SET], ids=["dev", "own"])
def test_every_composed_case_plans_right(planner: OfflinePlanner, path: Path) -> None:
    cases = read_cases(path)
    misses = []
    for case in cases:
        reason = run(planner, case)
        if reason is not None:
            misses.append(f"{case['command']}: {reason}")
    hits = len(cases) - len(misses)
    print(f"{path.name}: {hits}/{len(cases)}")
    assert not misses, "\n".join(misses)


CASE = {
    "command": "Käsittele kansion kuitit/k kuitit ja lähetä ALV lokakuulta a@b.fi",
    "reference_date": "2026-11-24",
    "expect": {
        "steps": [
            {"agent": "files_agent", "inputs": {"folder": "kuitit/k"}},
            {"template": "receipt_processing", "for_each": True},
            {"agent": "vat_agent", "inputs": {"period_start": "2026-10-01"}},
            {
                "agent": "notification_agent",
                "inputs": {"recipients": ["a@b.fi"]},
                "when": {"number": 500, "refs": ["vat_agent"]},
            },
        ],
        "order": [
            ["receipt_processing", "vat_agent"],
            ["vat_agent", "notification_agent"],
        ],
        "exact": True,
        "schedule": {"minute": 0, "hour": 8, "dom": "1", "dow": "*"},
    },
}
INLINED = ["ocr_agent", "receipt_parser_agent", "categorizer_agent", "ledger_agent"]


def right_plan(*, inline: bool = False) -> dict[str, Any]:
    if inline:
        chain = [
            {
                "id": f"s{i}",
                "agent": a,
                "inputs": {"file": "${vars.f}"} if i == 0 else {},
            }
            | ({"depends_on": [f"s{i - 1}"]} if i else {})
            for i, a in enumerate(INLINED)
        ]
        each: dict[str, Any] = {
            "id": "each",
            "for_each": "${steps.files.files}",
            "workflow": {"graph": {"steps": chain}},
            "inputs": {"f": "${item}"},
        }
    else:
        each = {
            "id": "each",
            "for_each": "${steps.files.files}",
            "workflow": {"template": "receipt_processing"},
        }
    return {
        "templateId": None,
        "variables": {"a": "2026-10-01"},
        "graph": {
            "variables": {"a": {"type": "date", "default": "2026-10-01"}},
            "steps": [
                {
                    "id": "files",
                    "agent": "files_agent",
                    "inputs": {"folder": "./kuitit/k/"},
                },
                each,
                {
                    "id": "vat",
                    "agent": "vat_agent",
                    "inputs": {"period_start": "${vars.a}"},
                    "depends_on": ["each"],
                },
                {
                    "id": "mail",
                    "agent": "notification_agent",
                    "inputs": {"recipients": ["A@b.fi"]},
                    "when": "${steps.vat.payable} > 500",
                },
            ],
        },
        "schedule": {"cron": "0 8 1 * mon-sun", "timezone": "Europe/Helsinki"},
    }


@pytest.mark.parametrize("inline", [False, True])
def test_the_judge_accepts_any_right_spelling(inline: bool) -> None:
    assert judge(CASE, right_plan(inline=inline), None) is None


def _break(change: str) -> dict[str, Any]:
    plan = right_plan()
    steps = plan["graph"]["steps"]
    if change == "missing step":
        del steps[0]
    elif change == "order":
        steps[2].pop("depends_on")
    elif change == "extra step":
        steps.append({"id": "x", "agent": "report_agent"})
    elif change == "input":
        plan["variables"]["a"] = "2026-09-01"
    elif change == "for_each":
        steps[1].pop("for_each")
    elif change == "when":
        steps[3].pop("when")
    elif change == "amount":
        steps[3]["when"] = "${steps.vat.payable} > 5000"
    elif change == "cron":
        plan["schedule"]["cron"] = "0 9 1 * *"
    elif change == "now":
        plan["schedule"] = None
    return plan


@pytest.mark.parametrize(
    "change",
    ["missing step", "order", "extra step", "input", "for_each", "when", "amount",
     "cron", "now"],
)  # fmt: skip
def test_the_judge_refuses_a_wrong_plan(change: str) -> None:
    assert judge(CASE, _break(change), None) is not None
    assert judge({"expect": {"error": True}}, right_plan(), None) is not None
    assert judge({"expect": {"error": True}}, None, "PLANNING_FAILED") is None


@pytest.mark.parametrize(
    ("words", "operator"),
    [
        ("on negatiivinen", "< 0"),
        ("on yli 5 000 €", "> 5000"),
        ("on vähintään 1.000,50 €", ">= 1000.5"),
        ("jää alle tuhannen euron", "< "),
    ],
)
def test_a_condition_compares_the_way_the_command_says(
    planner: OfflinePlanner, words: str, operator: str
) -> None:
    command = (
        f"Tee talousraportti lokakuulta ja jos tulos {words}, lähetä se "
        "osoitteeseen a@firma.fi"
    )
    plan = planner.plan_now(command, run_context())
    [notify] = [s for s in plan.graph["steps"] if s["id"] == "notify"]
    assert notify["when"].startswith("${steps.report.totals.result} " + operator)
