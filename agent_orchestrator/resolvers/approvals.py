"""Approvals: list them (``approvals(status)``) and decide them (``decideApproval``)."""

from __future__ import annotations

import strawberry

from ..schema.context import Info
from ..schema.enums import ApprovalStatus
from ..schema.types.approval import Approval


@strawberry.type
class ApprovalQuery:
    """Reading approval requests."""

    # Strawberry types its decorators called with arguments as returning Any.
    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The tenant's approval requests, newest first; status PENDING: "
        "those waiting for a decision."
    )
    async def approvals(
        self,
        info: Info,
        status: ApprovalStatus | None = None,
        execution_id: strawberry.ID | None = None,
        first: int = 100,
    ) -> list[Approval]:
        records = await info.context.services.approvals.find(
            info.context.caller,
            status=status,
            execution_id=str(execution_id) if execution_id is not None else None,
            first=first,
        )
        return [Approval.of(r) for r in records]


@strawberry.type
class ApprovalMutation:
    """Deciding approval requests."""

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Approve (the execution continues) or reject (it ends FAILED) a "
        "waiting approval step. The key that started the execution may not decide "
        "it; the role must be at least the step's approverRole; a decision is made "
        "once (CONFLICT after)."
    )
    async def decide_approval(
        self,
        info: Info,
        execution_id: strawberry.ID,
        step_id: str,
        approve: bool,
        comment: str | None = None,
    ) -> Approval:
        record = await info.context.services.approvals.decide(
            info.context.caller,
            str(execution_id),
            step_id,
            approve=approve,
            comment=comment,
        )
        return Approval.of(record)
