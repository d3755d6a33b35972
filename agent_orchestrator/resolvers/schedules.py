"""Schedules."""

from __future__ import annotations

import strawberry

from ..schema.context import Info
from ..schema.types.schedule import CreateScheduleInput, Schedule
from ..service.schedules import NewSchedule


@strawberry.type
class ScheduleQuery:
    """Reading schedules."""

    # Strawberry types its decorators called with arguments as returning Any (one
    # overload also serves `x: int = strawberry.field(...)`), hence these ignores.
    @strawberry.field(description="The tenant's schedules, oldest first.")  # type: ignore[untyped-decorator]
    async def schedules(self, info: Info) -> list[Schedule]:
        found = await info.context.services.schedules.list(info.context.caller)
        return [Schedule.of(r) for r in found]

    @strawberry.field(description="One of the tenant's schedules.")  # type: ignore[untyped-decorator]
    async def schedule(self, info: Info, id: strawberry.ID) -> Schedule:
        record = await info.context.services.schedules.get(info.context.caller, str(id))
        return Schedule.of(record)


@strawberry.type
class ScheduleMutation:
    """Making, pausing, resuming and deleting schedules."""

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Validate and make a schedule (operators and admins)."
    )
    async def create_schedule(self, info: Info, input: CreateScheduleInput) -> Schedule:
        record = await info.context.services.schedules.create(
            info.context.caller,
            NewSchedule(
                name=input.name,
                cron=input.cron,
                timezone=input.timezone,
                template_id=input.template_id,
                workflow_id=str(input.workflow_id) if input.workflow_id else None,
                graph=input.graph,
                variables=input.variables,
            ),
        )
        return Schedule.of(record)

    @strawberry.mutation(description="Pause a schedule: it fires nothing.")  # type: ignore[untyped-decorator]
    async def pause_schedule(self, info: Info, id: strawberry.ID) -> Schedule:
        record = await info.context.services.schedules.pause(
            info.context.caller, str(id)
        )
        return Schedule.of(record)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Resume a schedule from its next slot after now."
    )
    async def resume_schedule(self, info: Info, id: strawberry.ID) -> Schedule:
        record = await info.context.services.schedules.resume(
            info.context.caller, str(id)
        )
        return Schedule.of(record)

    @strawberry.mutation(description="Delete a schedule.")  # type: ignore[untyped-decorator]
    async def delete_schedule(self, info: Info, id: strawberry.ID) -> bool:
        await info.context.services.schedules.delete(info.context.caller, str(id))
        return True
