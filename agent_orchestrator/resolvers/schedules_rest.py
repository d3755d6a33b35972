"""Schedules over REST, thin over the same use cases as `schedules`,
`createSchedule`, `pauseSchedule`, `resumeSchedule` and `deleteSchedule`:
``GET|POST /schedules``, ``GET|DELETE /schedules/{id}``, ``POST /schedules/{id}/pause``
and ``POST /schedules/{id}/resume``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core.errors import Problem, ValidationFailed
from ..security.permissions import Permission
from ..service.caller import Caller
from ..service.container import Services
from ..service.schedules import NewSchedule
from .rest import PREFIX, endpoint, json_body

_FIELDS = (
    "name",
    "cron",
    "timezone",
    "template_id",
    "workflow_id",
    "graph",
    "variables",
)


@endpoint
async def list_schedules(
    request: Request, services: Services, caller: Caller
) -> JSONResponse:
    found = await services.schedules.list(caller)
    return JSONResponse({"schedules": [r.as_json() for r in found]})


@endpoint
async def create_schedule(
    request: Request, services: Services, caller: Caller
) -> JSONResponse:
    # A caller without the right is refused before its body is read.
    await services.access.require(
        caller, Permission.RUN, "schedule.create", resource_type="schedule"
    )
    body = await json_body(request)
    problems = [
        Problem(name, "unknown field; remove it")
        for name in sorted(set(body) - set(_FIELDS))
    ]
    problems.extend(
        Problem(name, "required, a string")
        for name in ("name", "cron")
        if not isinstance(body.get(name), str)
    )
    problems.extend(
        Problem(name, "must be a string")
        for name in ("timezone", "template_id", "workflow_id")
        if body.get(name) is not None and not isinstance(body[name], str)
    )
    if problems:
        raise ValidationFailed(problems)
    record = await services.schedules.create(
        caller,
        NewSchedule(
            name=body["name"],
            cron=body["cron"],
            timezone=body.get("timezone"),
            template_id=body.get("template_id"),
            workflow_id=body.get("workflow_id"),
            graph=body.get("graph"),
            variables=body.get("variables"),
        ),
    )
    return JSONResponse(record.as_json(), status_code=201)


@endpoint
async def get_schedule(
    request: Request, services: Services, caller: Caller
) -> JSONResponse:
    record = await services.schedules.get(caller, request.path_params["schedule_id"])
    return JSONResponse(record.as_json())


@endpoint
async def pause_schedule(
    request: Request, services: Services, caller: Caller
) -> JSONResponse:
    record = await services.schedules.pause(caller, request.path_params["schedule_id"])
    return JSONResponse(record.as_json())


@endpoint
async def resume_schedule(
    request: Request, services: Services, caller: Caller
) -> JSONResponse:
    record = await services.schedules.resume(caller, request.path_params["schedule_id"])
    return JSONResponse(record.as_json())


@endpoint
async def delete_schedule(
    request: Request, services: Services, caller: Caller
) -> Response:
    await services.schedules.delete(caller, request.path_params["schedule_id"])
    return Response(status_code=204)


def schedule_routes() -> list[Route]:
    """The schedules' REST routes."""
    base = f"{PREFIX}/schedules"
    one = f"{base}/{{schedule_id}}"
    return [
        Route(base, list_schedules, methods=["GET"]),
        Route(base, create_schedule, methods=["POST"]),
        Route(one, get_schedule, methods=["GET"]),
        Route(one, delete_schedule, methods=["DELETE"]),
        Route(f"{one}/pause", pause_schedule, methods=["POST"]),
        Route(f"{one}/resume", resume_schedule, methods=["POST"]),
    ]
