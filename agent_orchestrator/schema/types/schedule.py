"""Schedules as GraphQL types."""

from __future__ import annotations

import datetime as dt

import strawberry

from ...core.schedules import ScheduleRecord
from ..scalars import JSON


@strawberry.type
class Schedule:
    """A workflow fired on a cron expression in a time zone."""

    id: strawberry.ID
    name: str
    cron: str
    timezone: str
    enabled: bool = strawberry.field(description="False while paused.")
    next_run_at: dt.datetime | None = strawberry.field(
        description="The next slot (null while paused)."
    )
    last_run_at: dt.datetime | None = strawberry.field(
        description="The last slot fired, if any."
    )
    template_id: str | None
    workflow_id: strawberry.ID | None
    graph: JSON | None
    variables: JSON
    last_execution_id: strawberry.ID | None = strawberry.field(
        description="The execution the last slot started."
    )
    last_error: str | None = strawberry.field(
        description="Why the last slot could not start (its graph no longer "
        "validates, ...), or null."
    )
    created_by: str | None
    created_at: dt.datetime
    command: str | None = strawberry.field(
        description="The copilot command that made the schedule (its executions "
        "keep it, with the plan, in their metadata), or null."
    )

    @classmethod
    def of(cls, record: ScheduleRecord) -> Schedule:
        """The GraphQL view of a schedule."""
        return cls(
            id=strawberry.ID(record.id),
            name=record.name,
            cron=record.cron,
            timezone=record.timezone,
            enabled=record.enabled,
            next_run_at=record.next_run_at,
            last_run_at=record.last_run_at,
            template_id=record.template_id,
            workflow_id=(
                strawberry.ID(record.workflow_id) if record.workflow_id else None
            ),
            graph=JSON(dict(record.graph)) if record.graph is not None else None,
            variables=JSON(dict(record.variables)),
            last_execution_id=(
                strawberry.ID(record.last_execution_id)
                if record.last_execution_id
                else None
            ),
            last_error=record.last_error,
            created_by=record.created_by,
            created_at=record.created_at,
            command=record.command,
        )


@strawberry.input
class CreateScheduleInput:
    """A schedule to make: exactly one of `templateId`, `workflowId` or `graph`."""

    name: str
    cron: str = strawberry.field(
        description="Five cron fields (minute hour day-of-month month day-of-week), "
        "e.g. '0 8 1 * *' for 08:00 on the 1st of every month."
    )
    timezone: str | None = strawberry.field(
        default=None, description="IANA time zone; default Europe/Helsinki."
    )
    template_id: str | None = None
    workflow_id: strawberry.ID | None = None
    graph: JSON | None = None
    variables: JSON | None = strawberry.field(
        default=None,
        description="Variables of each execution; ${period.previous_month.start} "
        "and the like are resolved when a slot fires.",
    )
