"""The composed yardstick (tests/data/planner_compose_dev.jsonl and the cases of our
own in tests/data/planner_compose_cases.jsonl) through the offline planner, judged by
tests/planner/judge.py; and the judge itself, which must refuse wrong plans."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from agent_orchestrator.agents.builtin import create_agent_registry
from agent_orchestrator.config import Settings
from agent_orchestrator.core.enums import Role
from agent_orchestrator.core.errors import PlanningFailed
from agent_orchestrator.core.templates import load_templates
from agent_orchestrator.planner.model import Plan, PlanContext
from agent_orchestrator.planner.offline import OfflinePlanner
from tests.planner.judge import judge

if TYPE_CHECKING:
    from collections.abc import Iterator

    from agent_orchestrator.agents.registry import AgentRegistry

DATA = Path(__file__).parents[1] / "data"
DEV_SET = DATA / "planner_compose_dev.jsonl"
OWN_SET = DATA / "planner_compose_cases.jsonl"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> AgentRegistry:
    files = tmp_path_factory.mktemp("files")
    return create_agent_registry(Settings(_env_file=None, agent_files_dir=files))


@pytest.fixture(scope="module")
def planner(registry: AgentRegistry) -> Iterator[OfflinePlanner]:
    offline = OfflinePlanner(load_templates(), registry)
    yield offline
    offline.close()


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
