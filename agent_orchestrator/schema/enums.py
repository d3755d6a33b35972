"""GraphQL enums: the `core.enums` classes themselves, known to Strawberry.

`strawberry.enum` records the GraphQL definition on the class it is given and returns
that same class, so the names here are the core enums (usable as types everywhere).
"""

from __future__ import annotations

import strawberry

from ..core.approvals import ApprovalStatus
from ..core.enums import EventType, ExecutionStatus, Role, StepStatus

__all__ = ["ApprovalStatus", "EventType", "ExecutionStatus", "Role", "StepStatus"]

strawberry.enum(Role, description="What an API key may do.")
strawberry.enum(ExecutionStatus, description="Execution status.")
strawberry.enum(StepStatus, description="Step status.")
strawberry.enum(EventType, description="Execution event type.")
strawberry.enum(
    ApprovalStatus,
    description="Approval status (CANCELLED: its execution ended undecided).",
)
