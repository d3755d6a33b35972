"""Executions: read, start, cancel, follow live."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from ..schema.context import Info
from ..schema.types.execution import (
    ExecuteWorkflowInput,
    Execution,
    ExecutionEvent,
    ExecutionFilter,
)
from ..schema.types.relay import Connection
from ..service.executions import StartExecution
from .access import key_guard
from .event_stream import socket_delivery


@strawberry.type
class ExecutionQuery:
    """Reading executions."""

    # Strawberry types its decorators called with arguments as returning Any (one
    # overload also serves `x: int = strawberry.field(...)`), hence these ignores.
    @strawberry.field(description="One execution with its steps.")  # type: ignore[untyped-decorator]
    async def execution(self, info: Info, id: strawberry.ID) -> Execution:
        record = await info.context.services.executions.get(
            info.context.caller, str(id)
        )
        return Execution.of(record, with_steps=True)

    @strawberry.field(description="Executions, newest first, filtered.")  # type: ignore[untyped-decorator]
    async def executions(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        filter: ExecutionFilter | None = None,
    ) -> Connection[Execution]:
        f = filter or ExecutionFilter()
        page = await info.context.services.executions.page(
            info.context.caller,
            first=first,
            after=after,
            statuses=f.status or (),
            template_id=f.template_id,
            workflow_id=str(f.workflow_id) if f.workflow_id else None,
            since=f.since,
            until=f.until,
        )
        return Connection[Execution].from_page(page, Execution.of)


@strawberry.type
class ExecutionMutation:
    """Starting and cancelling executions."""

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Validate and start a workflow; returns at once (PENDING or "
        "RUNNING)."
    )
    async def execute_workflow(
        self, info: Info, input: ExecuteWorkflowInput
    ) -> Execution:
        record, _ = await info.context.services.executions.start(
            info.context.caller,
            StartExecution(
                template_id=input.template_id,
                workflow_id=(
                    str(input.workflow_id) if input.workflow_id is not None else None
                ),
                workflow_version=input.workflow_version,
                graph=input.graph,
                variables=input.initial_variables,
                idempotency_key=input.idempotency_key,
            ),
        )
        return Execution.of(record, with_steps=True)

    @strawberry.mutation(description="Cancel an execution: running steps stop at once.")  # type: ignore[untyped-decorator]
    async def cancel_execution(self, info: Info, id: strawberry.ID) -> Execution:
        record = await info.context.services.executions.cancel(
            info.context.caller, str(id)
        )
        return Execution.of(record, with_steps=True)


@strawberry.type
class ExecutionSubscription:
    """Following executions live."""

    @strawberry.subscription(  # type: ignore[untyped-decorator]
        description="Stored events after `afterSeq`, then live ones, without gap or "
        "duplicate; completes after the final event."
    )
    async def execution_events(
        self, info: Info, execution_id: strawberry.ID, after_seq: int | None = None
    ) -> AsyncGenerator[ExecutionEvent, None]:
        services = info.context.services
        await services.executions.require_readable(
            info.context.caller, str(execution_id)
        )
        await services.hub.push(
            str(execution_id),
            after_seq or 0,
            socket_delivery(info),
            heartbeat=key_guard(info),
            heartbeat_s=services.settings.agent_key_recheck_s,
        )
        # The events went to the client from the hub (see `event_stream`): nothing to
        # yield. The unreachable `yield` makes this an async generator, a subscription.
        return
        yield
