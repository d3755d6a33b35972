"""Planner benchmark: the offline planner's latency over the planner's yardstick, and
the OpenAI planner's model calls per plan against a fake OpenAI server on loopback.

    python bench/planner.py --repeat 50 --repair-every 3

Prints one JSON line per planner:
``{"planner": "offline", "plans", "correct", "p50_ms", "p95_ms", "max_ms",
"goal_p95_ms", "goal_met"}`` (the goal: p95 under 5 ms per plan) and
the same for the composed yardsticks (``"offline (composed)"``, goal: p95 under
10 ms), and
``{"planner": "openai", "plans", "correct", "model_calls_per_plan",
"tokens_per_plan", "repaired", "fallbacks", "p50_ms", "p95_ms"}``.

The fake model answers every command with the plan the yardstick expects (the period
written out as dates), except that every ``--repair-every``-th answer first names a
task that does not exist, so that the plan needs one repair.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent_orchestrator.agents.builtin import create_agent_registry  # noqa: E402
from agent_orchestrator.config import ModelSettings, load_settings  # noqa: E402
from agent_orchestrator.core.enums import Role  # noqa: E402
from agent_orchestrator.core.errors import PlanningFailed  # noqa: E402
from agent_orchestrator.planner.model import Plan, PlanContext, Planner  # noqa: E402
from agent_orchestrator.planner.offline import OfflinePlanner  # noqa: E402
from agent_orchestrator.planner.openai_planner import OpenAIPlanner  # noqa: E402
from agent_orchestrator.wiring.services import load_checked_templates  # noqa: E402
from tests.support.fake_openai import fake_openai  # noqa: E402

DEV_SET = ROOT / "tests" / "data" / "planner_dev.jsonl"
COMPOSED_SETS = (
    ROOT / "tests" / "data" / "planner_compose_dev.jsonl",
    ROOT / "tests" / "data" / "planner_compose_cases.jsonl",
)
GOAL_P95_MS = 5.0
GOAL_COMPOSED_P95_MS = 10.0


def load_cases(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def context(case: dict[str, Any]) -> PlanContext:
    return PlanContext(
        tenant_id="bench",
        role=Role.OPERATOR,
        reference_date=dt.date.fromisoformat(case["reference_date"]),
        language=case.get("language"),
    )


def correct(case: dict[str, Any], plan: Plan | None) -> bool:
    expect = case["expect"]
    if "error" in expect:
        return plan is None
    if plan is None or plan.template_id != expect["template"]:
        return False
    if any(plan.variables.get(k) != v for k, v in expect.get("variables", {}).items()):
        return False
    sent = [
        address
        for step in plan.graph["steps"]
        if step["agent"] == "notification_agent"
        for address in step["inputs"]["recipients"]
    ]
    return bool(sent == expect.get("notify", []))


async def plan_or_none(planner: Planner, case: dict[str, Any]) -> Plan | None:
    try:
        return await planner.plan(case["command"], context(case))
    except PlanningFailed:
        return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def bench_offline(
    planner: OfflinePlanner, cases: list[dict[str, Any]], repeat: int
) -> dict[str, Any]:
    right = sum([correct(c, await plan_or_none(planner, c)) for c in cases])  # warm-up
    timings: list[float] = []
    for _ in range(repeat):
        for case in cases:
            began = time.perf_counter()
            await plan_or_none(planner, case)
            timings.append((time.perf_counter() - began) * 1000)
    p95 = percentile(timings, 0.95)
    return {
        "planner": "offline",
        "plans": len(timings),
        "correct": f"{right}/{len(cases)}",
        "p50_ms": round(statistics.median(timings), 3),
        "p95_ms": round(p95, 3),
        "max_ms": round(max(timings), 3),
        "goal_p95_ms": GOAL_P95_MS,
        "goal_met": p95 < GOAL_P95_MS,
    }


def model_answer(case: dict[str, Any]) -> str:
    """The intents a good model answers for `case` (the period as dates)."""
    expect = case["expect"]
    language = case.get("language") or "fi"
    if "error" in expect:
        return _answer([], language, refusal="off_topic")
    tasks = {
        "receipt_processing": "process_receipts",
        "invoice_processing": "process_invoices",
    }
    variables = dict(expect.get("variables", {}))
    work = _intent(tasks.get(expect["template"], expect["template"]))
    if "period_start" in variables:
        work["period"] = {
            **dict.fromkeys(("year", "month", "to_month", "quarter", "count")),
            "kind": "explicit",
            "start": variables.pop("period_start"),
            "end": variables.pop("period_end"),
        }
    work["file"] = variables.pop("receipt_file", None) or variables.pop(
        "invoice_file", None
    )
    work["format"] = variables.pop("format", None)
    parts = [work]
    if expect.get("notify"):
        parts.append(_intent("send", recipients=expect["notify"]))
    return _answer(parts, language)


def _intent(task: str, **fields: Any) -> dict[str, Any]:
    names = ("file", "folder", "pattern", "added", "period", "format", "recipients",
             "approver", "after", "condition")  # fmt: skip
    return {"task": task, **dict.fromkeys(names), **fields}


def _answer(
    parts: list[dict[str, Any]], language: str, refusal: str | None = None
) -> str:
    return json.dumps(
        {
            "intents": parts,
            "schedule": None,
            "language": language,
            "refusal": refusal,
            "refusal_quote": None,
        }
    )


async def bench_openai(
    catalogue: Any,
    templates: Any,
    cases: list[dict[str, Any]],
    repair_every: int,
) -> dict[str, Any]:
    first = json.loads(model_answer(cases[0]))
    wrong = json.dumps(
        {**first, "intents": [{**_intent("no_such_task"), "task": "no_such_task"}]}
    )
    with fake_openai() as fake:
        for i, case in enumerate(cases):
            if "error" not in case["expect"] and repair_every and i % repair_every == 0:
                fake.reply(wrong)
            fake.reply(model_answer(case))
        model = ModelSettings(
            api_key=SecretStr(fake.api_key),
            base_url=fake.base_url,
            model="gpt-4o-mini",
            timeout_s=10.0,
        )
        async with OpenAIPlanner(
            catalogue,
            templates,
            model=model,
            max_retries=3,
            fallback=OfflinePlanner(templates, catalogue),
        ) as planner:
            plans: list[Plan | None] = []
            timings: list[float] = []
            for case in cases:
                began = time.perf_counter()
                plans.append(await plan_or_none(planner, case))
                timings.append((time.perf_counter() - began) * 1000)
        calls = len(fake.requests)
    made = [p for p in plans if p is not None]
    return {
        "planner": "openai",
        "plans": len(cases),
        "correct": f"{sum(map(correct, cases, plans))}/{len(cases)}",
        "model_calls_per_plan": round(calls / len(cases), 3),
        "tokens_per_plan": round(sum(p.tokens for p in made) / max(1, len(made)), 1),
        "repaired": sum(1 for p in made if p.repairs),
        "fallbacks": sum(1 for p in made if p.planner != "openai"),
        "p50_ms": round(statistics.median(timings), 3),
        "p95_ms": round(percentile(timings, 0.95), 3),
    }


def bench_composed(planner: OfflinePlanner, repeat: int) -> dict[str, Any]:
    """The offline planner over the composed yardsticks, judged as the tests judge."""
    from tests.planner.judge import judge

    cases = [
        case
        for path in COMPOSED_SETS
        for case in load_cases(path)[1:]  # the first line describes the format
    ]

    def run(case: dict[str, Any]) -> str | None:
        ctx = dataclasses.replace(context(case), language=case.get("lang"))
        try:
            plan = planner.plan_now(case["command"], ctx)
        except PlanningFailed:
            return judge(case, None, "PLANNING_FAILED")
        shown = {
            "templateId": plan.template_id,
            "variables": plan.variables,
            "graph": plan.graph,
            "schedule": None
            if plan.schedule is None
            else {"cron": plan.schedule.cron, "timezone": plan.schedule.timezone},
        }
        return judge(case, shown, None)

    right = sum(run(case) is None for case in cases)
    timings: list[float] = []
    for _ in range(repeat):
        for case in cases:
            began = time.perf_counter()
            run(case)
            timings.append((time.perf_counter() - began) * 1000)
    p95 = percentile(timings, 0.95)
    return {
        "planner": "offline (composed)",
        "plans": len(timings),
        "correct": f"{right}/{len(cases)}",
        "p50_ms": round(statistics.median(timings), 3),
        "p95_ms": round(p95, 3),
        "max_ms": round(max(timings), 3),
        "goal_p95_ms": GOAL_COMPOSED_P95_MS,
        "goal_met": p95 < GOAL_COMPOSED_P95_MS,
    }


async def main(args: argparse.Namespace) -> None:
    cases = load_cases(args.cases)
    with tempfile.TemporaryDirectory() as files:
        registry = create_agent_registry(load_settings(agent_files_dir=Path(files)))
        templates = load_checked_templates(registry)
        offline = OfflinePlanner(templates, registry)
        print(json.dumps(await bench_offline(offline, cases, args.repeat)))
        print(json.dumps(bench_composed(offline, args.repeat)))
        print(
            json.dumps(
                await bench_openai(registry, templates, cases, args.repair_every)
            )
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, default=DEV_SET)
    parser.add_argument(
        "--repeat", type=int, default=50, help="Passes over the cases (offline)."
    )
    parser.add_argument(
        "--repair-every",
        type=int,
        default=3,
        help="Every N-th model answer first needs a repair (0: none).",
    )
    return parser.parse_args()


if __name__ == "__main__":
    anyio.run(main, parse_args())
