"""Executions: read, start, cancel, follow live."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from ..core.errors import NotFound, Problem, ValidationFailed
from ..engine.service import ExecuteRequest
from ..schema.context import Info
from ..schema.types.execution import (
    ExecuteWorkflowInput,
    Execution,
    ExecutionEvent,
    ExecutionFilter,
)
from ..schema.types.relay import Connection
from ..security.permissions import Permission
from .access import agent_role, allow, key_guard
from .event_stream import socket_delivery

# Strawberry types its decorators called with arguments as returning Any (one overload
# also serves `x: int = strawberry.field(...)`), hence the untyped-decorator ignores.


@strawberry.type
class ExecutionQuery:
    """Reading executions."""

    @strawberry.field(description="One execution with its steps.")  # type: ignore[untyped-decorator]
    async def execution(self, info: Info, id: strawberry.ID) -> Execution:
        principal = allow(info, Permission.READ)
        record = await info.context.services.runs.load_execution(
            str(id), principal.tenant_id, with_seq=False
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
        principal = allow(info, Permission.READ)
        f = filter or ExecutionFilter()
        page = await info.context.services.executions.page(
            principal.tenant_id,
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
        principal = allow(info, Permission.RUN)
        services = info.context.services
        given = [
            x is not None for x in (input.template_id, input.workflow_id, input.graph)
        ]
        if sum(given) != 1:
            raise ValidationFailed(
                [
                    Problem(
                        "input",
                        "give exactly one of templateId, workflowId or graph",
                        "bad_request",
                    )
                ]
            )
        variables: Any = (
            input.initial_variables if input.initial_variables is not None else {}
        )
        if not isinstance(variables, dict):
            raise ValidationFailed(
                [
                    Problem(
                        "input.initialVariables", "must be a JSON object", "bad_request"
                    )
                ]
            )
        graph: Any = input.graph
        workflow_id = workflow_version = None
        if input.workflow_id is not None:
            saved = await services.saved_workflows.get(
                str(input.workflow_id), principal.tenant_id, input.workflow_version
            )
            graph, workflow_id, workflow_version = saved.graph, saved.id, saved.version
        source = input.template_id or workflow_id or "graph"
        record, created = await services.workflows.execute(
            ExecuteRequest(
                tenant_id=principal.tenant_id,
                template_id=input.template_id,
                graph=graph,
                variables=variables,
                idempotency_key=input.idempotency_key,
                workflow_id=workflow_id,
                workflow_version=workflow_version,
                actor=principal.key_id,
                role=agent_role(info),
                metadata={"source": "graphql"},
                audit=info.context.audit(
                    "execution.start",
                    resource_type="execution",
                    details={
                        "source": source,
                        "idempotency_key": input.idempotency_key,
                    },
                ),
            )
        )
        return Execution.of(record, with_steps=True)

    @strawberry.mutation(description="Cancel an execution: running steps stop at once.")  # type: ignore[untyped-decorator]
    async def cancel_execution(self, info: Info, id: strawberry.ID) -> Execution:
        principal = allow(info, Permission.RUN)
        runner = info.context.services.runner
        await runner.cancel_execution(
            str(id),
            principal.tenant_id,
            audit=info.context.audit(
                "execution.cancel", resource_type="execution", resource_id=str(id)
            ),
        )
        record = await info.context.services.runs.load_execution(
            str(id), principal.tenant_id, with_seq=False
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
        principal = allow(info, Permission.READ)
        services = info.context.services
        if not await services.runs.exists(str(execution_id), principal.tenant_id):
            raise NotFound(f"execution {execution_id} not found")
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
