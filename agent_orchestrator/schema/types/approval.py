"""Approval requests as GraphQL types."""

from __future__ import annotations

import datetime as dt

import strawberry

from ...core.approvals import ApprovalRecord  # noqa: TC001 (read at run time)
from ..enums import ApprovalStatus, Role


@strawberry.type(description="A step that waits (or waited) for a person's decision.")
class Approval:
    """An approval request and its decision."""

    id: strawberry.ID
    execution_id: strawberry.ID
    step_id: str
    title: str
    details: str
    approver_role: Role = strawberry.field(
        description="The lowest role that may decide."
    )
    status: ApprovalStatus
    requested_by: str | None = strawberry.field(
        description="The key that started the execution (it may not decide)."
    )
    created_at: dt.datetime
    expires_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    comment: str | None
    execution_status: str | None

    @classmethod
    def of(cls, record: ApprovalRecord) -> Approval:
        """The GraphQL view of an approval."""
        request = record.request
        return cls(
            id=strawberry.ID(request.id),
            execution_id=strawberry.ID(request.execution_id),
            step_id=request.step_id,
            title=request.title,
            details=request.details,
            approver_role=request.approver_role,
            status=record.status,
            requested_by=request.requested_by,
            created_at=request.created_at,
            expires_at=request.expires_at,
            decided_by=record.decided_by,
            decided_at=record.decided_at,
            comment=record.comment,
            execution_status=record.execution_status,
        )
