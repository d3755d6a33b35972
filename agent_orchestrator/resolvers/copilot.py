"""The copilot: Finnish commands planned (`copilotPlan`) and run (`copilotExecute`)."""

from __future__ import annotations

import strawberry

from ..schema.context import Info
from ..schema.types.copilot import CopilotContextInput, CopilotPlan, CopilotResult
from ..schema.types.execution import Execution
from ..schema.types.schedule import Schedule
from ..service.copilot import CopilotOptions


def _options(context: CopilotContextInput | None) -> CopilotOptions:
    return context.options() if context is not None else CopilotOptions()


@strawberry.type
class CopilotQuery:
    """Planning without running."""

    # Strawberry types its decorators called with arguments as returning Any (one
    # overload also serves `x: int = strawberry.field(...)`), hence these ignores.
    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Plan a command (a dry run): the validated graph, nothing runs. "
        "A command the copilot cannot or may not plan is a PLANNING_FAILED error."
    )
    async def copilot_plan(
        self,
        info: Info,
        command: str,
        context: CopilotContextInput | None = None,
    ) -> CopilotPlan:
        plan = await info.context.services.copilot.plan(
            info.context.caller, command, _options(context)
        )
        return CopilotPlan.of(plan)


@strawberry.type
class CopilotMutation:
    """Planning and running."""

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Plan a command and start its execution (with dryRun, only plan). "
        "The execution keeps the command and the plan in its metadata. With "
        "expectFingerprint (a copilotPlan's fingerprint), only that plan runs: one "
        "planned otherwise is a PLAN_CHANGED error and nothing runs."
    )
    async def copilot_execute(
        self,
        info: Info,
        command: str,
        context: CopilotContextInput | None = None,
        dry_run: bool | None = False,
        expect_fingerprint: str | None = None,
    ) -> CopilotResult:
        outcome = await info.context.services.copilot.execute(
            info.context.caller,
            command,
            _options(context),
            dry_run=bool(dry_run),
            expect=expect_fingerprint,
        )
        record, schedule = outcome.execution, outcome.schedule
        return CopilotResult(
            plan=CopilotPlan.of(outcome.plan),
            execution=Execution.of(record, with_steps=True) if record else None,
            schedule=Schedule.of(schedule) if schedule else None,
        )
