"""The copilot: Finnish commands planned (`copilotPlan`) and run (`copilotExecute`)."""

from __future__ import annotations

import strawberry

from ..schema.context import Info
from ..schema.copilot import (
    CopilotCaller,
    CopilotOptions,
    execute_command,
    plan_command,
)
from ..schema.types.copilot import CopilotContextInput, CopilotPlan, CopilotResult
from ..schema.types.execution import Execution
from ..security.permissions import Permission
from .access import agent_role, allow


def _caller(info: Info) -> CopilotCaller:
    principal = allow(info, Permission.COPILOT)
    return CopilotCaller(
        tenant_id=principal.tenant_id,
        role=agent_role(info),
        actor=principal.key_id,
        via="graphql",
        ip_address=info.context.ip_address,
        request_id=info.context.request_id,
    )


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
        caller = _caller(info)
        plan = await plan_command(
            info.context.services, command, caller, _options(context)
        )
        return CopilotPlan.of(plan)


@strawberry.type
class CopilotMutation:
    """Planning and running."""

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Plan a command and start its execution (with dryRun, only plan). "
        "The execution keeps the command and the plan in its metadata."
    )
    async def copilot_execute(
        self,
        info: Info,
        command: str,
        context: CopilotContextInput | None = None,
        dry_run: bool | None = False,
    ) -> CopilotResult:
        caller = _caller(info)
        plan, record = await execute_command(
            info.context.services,
            command,
            caller,
            _options(context),
            dry_run=bool(dry_run),
        )
        return CopilotResult(
            plan=CopilotPlan.of(plan),
            execution=Execution.of(record, with_steps=True) if record else None,
        )
