"""The deployment guide's REST endpoints under ``/api/v1/agent-orchestrator``: thin over
the same use cases as GraphQL, snake_case bodies, ``X-API-Key`` header."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core.errors import AgentOrchestratorError, Problem, ValidationFailed
from ..core.graph import parent_step
from ..core.protocols import Agent, ExecutionRecord
from ..schema.types.agent import json_schema
from ..security.permissions import Permission
from ..service.caller import Caller, Transport
from ..service.container import Services
from ..service.executions import StartExecution
from .artifacts import download_artifact
from .bodies import BadBody, read_json
from .errors import error_code, error_extensions
from .files import upload_file

PREFIX = "/api/v1/agent-orchestrator"
_STATUS = {
    "VALIDATION_FAILED": 422,
    "NOT_FOUND": 404,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "RATE_LIMITED": 429,
    "QUOTA_EXCEEDED": 413,
    "PLANNING_FAILED": 422,
    "CONFLICT": 409,
    "PLAN_CHANGED": 409,
    "SERVICE_DISABLED": 503,
}
_HOURS = re.compile(r"[0-9]{1,9}")
Handler = Callable[[Request, Services, Caller], Awaitable[Response]]


def rest_caller(request: Request) -> Caller:
    """The caller of a REST request (the gate put its principal on the request)."""
    return Caller(
        request.state.principal,
        Transport.REST,
        request.client.host if request.client else None,
        getattr(request.state, "request_id", None),
    )


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: build the caller, map our errors to 4xx with reasons."""

    async def route(request: Request) -> Response:
        services: Services = request.app.state.services
        try:
            return await handler(request, services, rest_caller(request))
        except AgentOrchestratorError as exc:
            code = error_code(exc)
            if code is None:
                raise
            extensions = error_extensions(exc) or {}
            body = {"error": {"message": str(exc), **extensions}}
            return JSONResponse(body, status_code=_STATUS[code])

    route.__name__ = handler.__name__
    return route


def agent_json(agent: Agent) -> dict[str, Any]:
    """An agent as the guide's REST shows it."""
    return {
        "id": agent.id,
        "name": agent.name,
        "version": agent.version,
        "description": agent.description.fi,
        "description_en": agent.description.en,
        "side_effects": agent.side_effects,
        "min_role": agent.min_role.value,
        "input_schema": json_schema(agent.input_model),
        "output_schema": json_schema(agent.output_model),
    }


@endpoint
async def list_agents(
    request: Request, services: Services, caller: Caller
) -> JSONResponse:
    agents = await services.catalogue.agents(caller)
    return JSONResponse({"agents": [agent_json(a) for a in agents]})


@endpoint
async def get_agent(
    request: Request, services: Services, caller: Caller
) -> JSONResponse:
    agent = await services.catalogue.agent(caller, request.path_params["agent_id"])
    return JSONResponse(agent_json(agent))


@endpoint
async def agent_health(
    request: Request, services: Services, caller: Caller
) -> JSONResponse:
    agent_id = request.path_params["agent_id"]
    health = await services.catalogue.health(caller, agent_id)
    body = {
        "agent_id": agent_id,
        "healthy": health.ok,
        "detail": health.detail,
        "checks": dict(health.checks),
    }
    return JSONResponse(body, status_code=200 if health.ok else 503)


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (`bodies.read_json`).

    Lone surrogates (``\ud800`` escapes) in its text are replaced (`core.text`).

    Raises:
        ValidationFailed: Not UTF-8, not JSON, not an object, too deep, or text with
            NUL or a lone surrogate; the problem's path says where.
    """
    try:
        body = read_json(await request.body() or b"{}")
    except BadBody as exc:
        raise ValidationFailed(
            [Problem(exc.path or "body", exc.reason, exc.code)]
        ) from None
    if not isinstance(body, dict):
        raise ValidationFailed([Problem("body", "must be a JSON object", "bad_json")])
    return body


@endpoint
async def execute(request: Request, services: Services, caller: Caller) -> JSONResponse:
    # A caller without the right is refused before its body is read.
    await services.access.require(
        caller, Permission.RUN, "execution.start", resource_type="execution"
    )
    body = await json_body(request)
    problems = []
    # One of a template, a saved workflow or a graph (with sub-workflows and
    # for-each steps like any other), as executeWorkflow takes them.
    template_id = body.get("template_id")
    workflow_id = body.get("workflow_id")
    version = body.get("workflow_version")
    graph = body.get("graph")
    given = [x for x in (template_id, workflow_id, graph) if x is not None]
    if len(given) != 1:
        problems.append(
            Problem(
                "template_id",
                "required: the id of a template, e.g. vat_report (or instead "
                "workflow_id of a saved workflow, or a graph)",
            )
        )
    for name, value in (("template_id", template_id), ("workflow_id", workflow_id)):
        if value is not None and (not isinstance(value, str) or not value):
            problems.append(Problem(name, "must be a non-empty string"))
    if graph is not None and not isinstance(graph, dict):
        problems.append(Problem("graph", "must be a JSON object (a workflow graph)"))
    if version is not None and (
        workflow_id is None or not isinstance(version, int) or isinstance(version, bool)
    ):
        problems.append(
            Problem("workflow_version", "an integer, given with workflow_id")
        )
    variables = body.get("initial_variables", {})
    if not isinstance(variables, dict):
        problems.append(Problem("initial_variables", "must be a JSON object"))
    key = body.get("idempotency_key")
    if key is not None and not isinstance(key, str):
        problems.append(Problem("idempotency_key", "must be a string"))
    unknown = set(body) - {
        "template_id",
        "workflow_id",
        "workflow_version",
        "graph",
        "initial_variables",
        "idempotency_key",
    }
    problems.extend(
        Problem(name, "unknown field; remove it") for name in sorted(unknown)
    )
    if problems:
        raise ValidationFailed(problems)
    record, created = await services.executions.start(
        caller,
        StartExecution(
            template_id=template_id,
            workflow_id=workflow_id,
            workflow_version=version,
            graph=graph,
            variables=variables,
            idempotency_key=key,
        ),
    )
    return JSONResponse(
        {"execution_id": record.id, "status": record.status.value, "created": created},
        status_code=202 if created else 200,
    )


def _status_json(record: ExecutionRecord) -> dict[str, Any]:
    return {
        "execution_id": record.id,
        "status": record.status.value,
        "template_id": record.template_id,
        "created_at": record.created_at.isoformat(),
        "started_at": record.started_at.isoformat() if record.started_at else None,
        "completed_at": record.completed_at.isoformat()
        if record.completed_at
        else None,
        "duration_ms": record.duration_ms,
        "error_message": record.error_message,
        "steps": [
            {
                "step_id": s.step_id,
                # Elements and sub-workflow steps name the step they belong to.
                "parent_step_id": parent_step(s.step_id)[0],
                "index": parent_step(s.step_id)[1],
                "agent_id": s.agent_id,
                "status": s.status.value,
                "attempts": s.attempts,
                "duration_ms": s.duration_ms,
                "error": s.error,
            }
            for s in record.steps
        ],
    }


@endpoint
async def status(request: Request, services: Services, caller: Caller) -> JSONResponse:
    record = await services.executions.get(caller, request.path_params["execution_id"])
    return JSONResponse(_status_json(record))


@endpoint
async def result(request: Request, services: Services, caller: Caller) -> JSONResponse:
    record = await services.executions.get(caller, request.path_params["execution_id"])
    return JSONResponse(
        {
            "execution_id": record.id,
            "status": record.status.value,
            "finished": record.status.is_final,
            "result": record.result,
            "error_message": record.error_message,
        }
    )


@endpoint
async def metrics(request: Request, services: Services, caller: Caller) -> JSONResponse:
    raw = request.query_params.get("hours_back", "24")
    # ASCII digits only: `str.isdigit` takes "²" and "٣", and `int` refuses the first
    # and more than 4,300 digits; the service checks the range.
    if not _HOURS.fullmatch(raw):
        raise ValidationFailed(
            [Problem("hours_back", "must be a whole number of hours, e.g. 24")]
        )
    snap = await services.metrics.snapshot(caller, int(raw))
    return JSONResponse(
        {
            "hours_back": snap.hours_back,
            "total_executions": snap.total_executions,
            "success_rate": snap.success_rate,
            "avg_duration_ms": snap.avg_duration_ms,
            "p95_duration_ms": snap.p95_duration_ms,
            "error_rate": snap.error_rate,
            "by_status": dict(snap.by_status),
            "agents": {
                a.agent_id: {
                    "executions": a.executions,
                    "success_rate": a.success_rate,
                    "avg_duration_ms": a.avg_duration_ms,
                }
                for a in snap.agents
            },
        }
    )


def rest_routes() -> list[Route]:
    """The REST routes, ready to mount."""
    # They build on this module's helpers.
    from .approvals_rest import approval_routes
    from .copilot_rest import copilot_routes
    from .review_rest import review_routes
    from .schedules_rest import schedule_routes

    return [
        Route(f"{PREFIX}/agents", list_agents, methods=["GET"]),
        Route(f"{PREFIX}/agents/{{agent_id}}", get_agent, methods=["GET"]),
        Route(f"{PREFIX}/agents/{{agent_id}}/health", agent_health, methods=["GET"]),
        Route(f"{PREFIX}/workflows/execute", execute, methods=["POST"]),
        Route(f"{PREFIX}/workflows/{{execution_id}}/status", status, methods=["GET"]),
        Route(f"{PREFIX}/workflows/{{execution_id}}/result", result, methods=["GET"]),
        Route(f"{PREFIX}/metrics", metrics, methods=["GET"]),
        Route(f"{PREFIX}/files", endpoint(upload_file), methods=["POST"]),
        Route(
            f"{PREFIX}/artifacts/{{artifact_id}}",
            endpoint(download_artifact),
            methods=["GET"],
        ),
        *copilot_routes(),
        *review_routes(),
        *approval_routes(),
        *schedule_routes(),
    ]
