"""Approvals over REST, thin over the same use cases as `approvals` and
`decideApproval`: ``GET /approvals?status=PENDING`` and
``POST /workflows/{execution_id}/approvals/{step_id}`` (``approve``, ``comment``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..core.approvals import ApprovalRecord, ApprovalStatus
from ..core.errors import Problem, ValidationFailed
from ..security.permissions import Permission
from ..service.caller import Caller
from ..service.container import Services
from .rest import PREFIX, endpoint, json_body


def approval_json(record: ApprovalRecord) -> dict[str, Any]:
    """An approval as the REST API shows it (snake_case)."""
    request = record.request
    return {
        "id": request.id,
        "execution_id": request.execution_id,
        "step_id": request.step_id,
        "title": request.title,
        "details": request.details,
        "approver_role": request.approver_role.value,
        "status": record.status.value,
        "requested_by": request.requested_by,
        "created_at": request.created_at.isoformat(),
        "expires_at": request.expires_at.isoformat(),
        "decided_by": record.decided_by,
        "decided_at": record.decided_at.isoformat() if record.decided_at else None,
        "comment": record.comment,
        "execution_status": record.execution_status,
    }


@endpoint
async def list_approvals(
    request: Request, services: Services, caller: Caller
) -> JSONResponse:
    raw = request.query_params.get("status")
    status = None
    if raw:
        try:
            status = ApprovalStatus(raw.strip().upper())
        except ValueError:
            allowed = ", ".join(s.value for s in ApprovalStatus)
            raise ValidationFailed(
                [Problem("status", f"unknown status {raw!r}; use one of {allowed}")]
            ) from None
    records = await services.approvals.find(caller, status=status)
    return JSONResponse({"approvals": [approval_json(r) for r in records]})


@endpoint
async def decide_approval(
    request: Request, services: Services, caller: Caller
) -> JSONResponse:
    execution_id = request.path_params["execution_id"]
    step_id = request.path_params["step_id"]
    # A caller without the right is refused before its body is read.
    await services.access.require(
        caller,
        Permission.READ,
        "approval.decide",
        resource_type="approval",
        resource_id=f"{execution_id}/{step_id}",
    )
    body = await json_body(request)
    problems = []
    approve = body.get("approve")
    if not isinstance(approve, bool):
        problems.append(
            Problem("approve", "required: true to approve, false to reject")
        )
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        problems.append(Problem("comment", "must be a string"))
    unknown = set(body) - {"approve", "comment"}
    problems.extend(
        Problem(name, "unknown field; remove it") for name in sorted(unknown)
    )
    if problems:
        raise ValidationFailed(problems)
    assert isinstance(approve, bool)
    record = await services.approvals.decide(
        caller, execution_id, step_id, approve=approve, comment=comment
    )
    return JSONResponse(approval_json(record))


def approval_routes() -> list[Route]:
    """The approvals' REST routes."""
    return [
        Route(f"{PREFIX}/approvals", list_approvals, methods=["GET"]),
        Route(
            f"{PREFIX}/workflows/{{execution_id}}/approvals/{{step_id}}",
            decide_approval,
            methods=["POST"],
        ),
    ]
