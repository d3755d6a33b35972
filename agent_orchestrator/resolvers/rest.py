"""The deployment guide's REST endpoints under ``/api/v1/agent-orchestrator``: thin over
the same services as GraphQL, snake_case bodies, ``X-API-Key`` header."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core.auth import Principal
from ..core.errors import AgentOrchestratorError, NotFound, Problem, ValidationFailed
from ..core.protocols import Agent, ExecutionRecord
from ..engine.service import ExecuteRequest
from ..schema.scalars import NUL_MESSAGE, has_nul
from ..schema.services import Services
from ..schema.types.agent import json_schema
from ..security.permissions import Permission, effective_role, require
from .artifacts import download_artifact
from .errors import error_code, error_extensions
from .files import upload_file

PREFIX = "/api/v1/agent-orchestrator"
_STATUS = {
    "VALIDATION_FAILED": 422,
    "NOT_FOUND": 404,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "RATE_LIMITED": 429,
    "PLANNING_FAILED": 422,
    "CONFLICT": 409,
}
Handler = Callable[[Request, Services, Principal], Awaitable[Response]]


def endpoint(
    permission: Permission,
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler: check the permission, map our errors to 4xx with reasons."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def route(request: Request) -> Response:
            services: Services = request.app.state.services
            try:
                principal: Principal = request.state.principal
                require(
                    principal, permission, rbac=services.settings.agent_rbac_enabled
                )
                return await handler(request, services, principal)
            except AgentOrchestratorError as exc:
                code = error_code(exc)
                if code is None:
                    raise
                extensions = error_extensions(exc) or {}
                body = {"error": {"message": str(exc), **extensions}}
                return JSONResponse(body, status_code=_STATUS[code])

        route.__name__ = handler.__name__
        return route

    return wrap


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


def _agent(services: Services, agent_id: str) -> Agent:
    agent = services.registry.get(agent_id)
    if agent is None:
        raise NotFound(f"agent '{agent_id}' not found")
    return agent


@endpoint(Permission.READ)
async def list_agents(
    request: Request, services: Services, principal: Principal
) -> JSONResponse:
    return JSONResponse({"agents": [agent_json(a) for a in services.registry]})


@endpoint(Permission.READ)
async def get_agent(
    request: Request, services: Services, principal: Principal
) -> JSONResponse:
    return JSONResponse(agent_json(_agent(services, request.path_params["agent_id"])))


@endpoint(Permission.READ)
async def agent_health(
    request: Request, services: Services, principal: Principal
) -> JSONResponse:
    agent = _agent(services, request.path_params["agent_id"])
    try:
        health = await agent.health()
        body = {
            "agent_id": agent.id,
            "healthy": health.ok,
            "detail": health.detail,
            "checks": dict(health.checks),
        }
    except Exception as exc:
        body = {
            "agent_id": agent.id,
            "healthy": False,
            "detail": f"health check failed: {type(exc).__name__}",
            "checks": {},
        }
    return JSONResponse(body, status_code=200 if body["healthy"] else 503)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationFailed(
            [Problem("body", "not valid JSON", "bad_json")]
        ) from None
    if not isinstance(body, dict):
        raise ValidationFailed([Problem("body", "must be a JSON object", "bad_json")])
    if has_nul(body):
        raise ValidationFailed([Problem("body", NUL_MESSAGE, "bad_text")])
    return body


@endpoint(Permission.RUN)
async def execute(
    request: Request, services: Services, principal: Principal
) -> JSONResponse:
    body = await _json_body(request)
    problems = []
    template_id = body.get("template_id")
    if not isinstance(template_id, str) or not template_id:
        problems.append(
            Problem("template_id", "required: the id of a template, e.g. vat_report")
        )
    variables = body.get("initial_variables", {})
    if not isinstance(variables, dict):
        problems.append(Problem("initial_variables", "must be a JSON object"))
    key = body.get("idempotency_key")
    if key is not None and not isinstance(key, str):
        problems.append(Problem("idempotency_key", "must be a string"))
    unknown = set(body) - {"template_id", "initial_variables", "idempotency_key"}
    problems.extend(
        Problem(name, "unknown field; remove it") for name in sorted(unknown)
    )
    if problems:
        raise ValidationFailed(problems)
    audit = None
    if services.settings.agent_audit_enabled:
        from ..core.records import AuditEntry

        audit = AuditEntry(
            tenant_id=principal.tenant_id,
            action="execution.start",
            user_id=principal.key_id,
            resource_type="execution",
            details={"source": template_id, "via": "rest"},
            ip_address=request.client.host if request.client else None,
            request_id=request.state.request_id,
        )
    record, created = await services.workflows.execute(
        ExecuteRequest(
            tenant_id=principal.tenant_id,
            template_id=template_id,
            variables=variables,
            idempotency_key=key,
            actor=principal.key_id,
            role=effective_role(principal, rbac=services.settings.agent_rbac_enabled),
            metadata={"source": "rest"},
            audit=audit,
        )
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
                "agent_id": s.agent_id,
                "status": s.status.value,
                "attempts": s.attempts,
                "duration_ms": s.duration_ms,
                "error": s.error,
            }
            for s in record.steps
        ],
    }


@endpoint(Permission.READ)
async def status(
    request: Request, services: Services, principal: Principal
) -> JSONResponse:
    record = await services.runs.load_execution(
        request.path_params["execution_id"], principal.tenant_id
    )
    return JSONResponse(_status_json(record))


@endpoint(Permission.READ)
async def result(
    request: Request, services: Services, principal: Principal
) -> JSONResponse:
    record = await services.runs.load_execution(
        request.path_params["execution_id"], principal.tenant_id
    )
    return JSONResponse(
        {
            "execution_id": record.id,
            "status": record.status.value,
            "finished": record.status.is_final,
            "result": record.result,
            "error_message": record.error_message,
        }
    )


@endpoint(Permission.READ)
async def metrics(
    request: Request, services: Services, principal: Principal
) -> JSONResponse:
    raw = request.query_params.get("hours_back", "24")
    if not raw.isdigit():
        raise ValidationFailed(
            [Problem("hours_back", "must be a whole number of hours")]
        )
    snap = await services.metrics.snapshot(principal.tenant_id, int(raw))
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
    from .copilot_rest import copilot_routes  # it builds on this module's helpers

    return [
        Route(f"{PREFIX}/agents", list_agents, methods=["GET"]),
        Route(f"{PREFIX}/agents/{{agent_id}}", get_agent, methods=["GET"]),
        Route(f"{PREFIX}/agents/{{agent_id}}/health", agent_health, methods=["GET"]),
        Route(f"{PREFIX}/workflows/execute", execute, methods=["POST"]),
        Route(f"{PREFIX}/workflows/{{execution_id}}/status", status, methods=["GET"]),
        Route(f"{PREFIX}/workflows/{{execution_id}}/result", result, methods=["GET"]),
        Route(f"{PREFIX}/metrics", metrics, methods=["GET"]),
        Route(
            f"{PREFIX}/files",
            endpoint(Permission.UPLOAD)(upload_file),
            methods=["POST"],
        ),
        Route(
            f"{PREFIX}/artifacts/{{artifact_id}}",
            endpoint(Permission.READ)(download_artifact),
            methods=["GET"],
        ),
        *copilot_routes(),
    ]
