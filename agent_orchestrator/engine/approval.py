"""What the engine does at an approval step (DESIGN.md "Engine semantics", Approval):
no agent runs; the step's inputs become a stored `ApprovalRequest` and the step waits.

`ExecutionRun` calls `request_approval` when an approval step becomes ready; once no
other step of the execution runs, the run parks the execution (``WAITING_APPROVAL``,
no lease) and ends. A decision brings the execution back to a runner, which applies it
(`core.approvals.Decision`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..core.approvals import DEFAULT_EXPIRES_IN_HOURS, ApprovalRequest
from ..core.enums import Role
from ..core.errors import NonRetryableAgentError
from ..core.ids import new_id

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..core.protocols import Agent, ExecutionRecord


def request_approval(
    record: ExecutionRecord,
    step_id: str,
    agent: Agent | None,
    inputs: Mapping[str, Any],
    now: dt.datetime,
) -> ApprovalRequest:
    """The approval request of step `step_id` from its resolved inputs.

    Raises:
        NonRetryableAgentError: The approval agent is not registered here, or the
            inputs do not fit it.
    """
    if agent is None:
        raise NonRetryableAgentError(
            f"agent 'approval_agent' of step '{step_id}' is not registered here"
        )
    try:
        model = agent.input_model.model_validate(dict(inputs))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}"
            for e in exc.errors(include_url=False)[:5]
        )
        raise NonRetryableAgentError(
            f"inputs of step '{step_id}' do not fit agent 'approval_agent': {problems}"
        ) from None
    hours = float(getattr(model, "expires_in_hours", DEFAULT_EXPIRES_IN_HOURS))
    role = getattr(model, "approver_role", Role.ADMIN)
    return ApprovalRequest(
        id=new_id(),
        tenant_id=record.tenant_id,
        execution_id=record.id,
        step_id=step_id,
        title=str(getattr(model, "title", "")),
        details=str(getattr(model, "details", "") or ""),
        approver_role=Role(role),
        requested_by=record.created_by,
        created_at=now,
        expires_at=now + dt.timedelta(hours=hours),
        notify=tuple(str(a) for a in getattr(model, "notify", ()) or ()),
    )


def requested_event_data(request: ApprovalRequest) -> dict[str, Any]:
    """The data of the ``APPROVAL_REQUESTED`` event."""
    return {
        "approval_id": request.id,
        "title": request.title,
        "details": request.details,
        "approver_role": request.approver_role.value,
        "expires_at": request.expires_at.isoformat(),
    }
