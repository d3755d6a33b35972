"""GraphQL enums, mirroring `core.enums`."""

from __future__ import annotations

import strawberry

from ..core import enums

Role = strawberry.enum(enums.Role, description="What an API key may do.")
ExecutionStatus = strawberry.enum(
    enums.ExecutionStatus, description="Execution status."
)
StepStatus = strawberry.enum(enums.StepStatus, description="Step status.")
EventType = strawberry.enum(enums.EventType, description="Execution event type.")
