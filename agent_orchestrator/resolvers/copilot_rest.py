"""``POST /api/v1/agent-orchestrator/copilot/execute``: the deployment guide's copilot
route, thin over the same service as `copilotExecute`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..core.errors import Problem, ValidationFailed
from ..planner.model import Plan
from ..security.permissions import Permission
from ..service.caller import Caller
from ..service.container import Services
from ..service.copilot import CopilotOptions, fingerprint_problem, plan_fingerprint
from .rest import PREFIX, endpoint, json_body

_FIELDS = {"command", "context", "dry_run", "expect_fingerprint"}
_CONTEXT_FIELDS = {"tenant_id", "user_id", "reference_date", "timezone", "language"}


def plan_json(plan: Plan) -> dict[str, Any]:
    """A plan as the REST API shows it (snake_case)."""
    return {
        "template_id": plan.template_id,
        "variables": dict(plan.variables),
        "graph": dict(plan.graph),
        "explanation": plan.explanation,
        "planner": plan.planner,
        "warnings": list(plan.warnings),
        "language": plan.language,
        "model_calls": plan.model_calls,
        "tokens": plan.tokens,
        "schedule": None
        if plan.schedule is None
        else {
            "cron": plan.schedule.cron,
            "timezone": plan.schedule.timezone,
            "description": plan.schedule.description,
        },
        "fingerprint": plan_fingerprint(plan),
    }


def _read(body: dict[str, Any]) -> tuple[str, CopilotOptions, bool, str | None]:
    problems: list[Problem] = []
    command = body.get("command")
    if not isinstance(command, str):
        problems.append(
            Problem(
                "command",
                'required: the command as text, e.g. "Luo talousraportti viime kuulta"',
            )
        )
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        problems.append(Problem("dry_run", "must be true or false"))
    expect = body.get("expect_fingerprint")
    if expect is not None:
        wrong = fingerprint_problem(
            expect if isinstance(expect, str) else "", "expect_fingerprint"
        )
        if wrong is not None:
            problems.append(wrong)
            expect = None
    context = body.get("context") or {}
    if not isinstance(context, dict):
        problems.append(Problem("context", "must be a JSON object"))
        context = {}
    problems.extend(
        Problem(name, "unknown field; remove it")
        for name in sorted(set(body) - _FIELDS)
    )
    problems.extend(
        Problem(
            f"context.{name}",
            f"unknown field; use {', '.join(sorted(_CONTEXT_FIELDS))}",
        )
        for name in sorted(set(context) - _CONTEXT_FIELDS)
    )
    texts: dict[str, str | None] = {}
    for name in _CONTEXT_FIELDS:
        value = context.get(name)
        if value is not None and not isinstance(value, str):
            problems.append(Problem(f"context.{name}", "must be a string"))
            value = None
        texts[name] = value
    reference_date = None
    if texts["reference_date"] is not None:
        try:
            reference_date = dt.date.fromisoformat(texts["reference_date"])
        except ValueError:
            problems.append(
                Problem("context.reference_date", "must be an ISO date YYYY-MM-DD")
            )
    if problems:
        raise ValidationFailed(problems)
    options = CopilotOptions(
        tenant_id=texts["tenant_id"],
        user_id=texts["user_id"],
        reference_date=reference_date,
        timezone=texts["timezone"],
        language=texts["language"],
    )
    return str(command), options, dry_run, expect


@endpoint
async def copilot_execute(
    request: Request, services: Services, caller: Caller
) -> JSONResponse:
    # A caller without the right is refused before its body is read.
    await services.access.require(
        caller, Permission.COPILOT, "copilot.execute", resource_type="execution"
    )
    command, options, dry_run, expect = _read(await json_body(request))
    outcome = await services.copilot.execute(
        caller, command, options, dry_run=dry_run, expect=expect
    )
    record, schedule = outcome.execution, outcome.schedule
    status = record.status.value if record else "SCHEDULED" if schedule else "PLANNED"
    return JSONResponse(
        {
            "plan": plan_json(outcome.plan),
            "execution_id": record.id if record else None,
            "schedule_id": schedule.id if schedule else None,
            "status": status,
        },
        status_code=202 if record else 201 if schedule else 200,
    )


def copilot_routes() -> list[Route]:
    """The copilot's REST routes."""
    return [Route(f"{PREFIX}/copilot/execute", copilot_execute, methods=["POST"])]
