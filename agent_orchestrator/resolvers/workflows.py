"""Saved workflows."""

from __future__ import annotations

import strawberry

from ..schema.context import Info
from ..schema.types.relay import Connection
from ..schema.types.workflow import SaveWorkflowInput, Workflow


@strawberry.type
class WorkflowQuery:
    """Reading saved workflows."""

    # Strawberry types its decorators called with arguments as returning Any (one
    # overload also serves `x: int = strawberry.field(...)`), hence these ignores.
    @strawberry.field(description="Saved workflows, most recently changed first.")  # type: ignore[untyped-decorator]
    async def workflows(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Workflow]:
        page = await info.context.services.saved_workflows.page(
            info.context.caller, first=first, after=after
        )
        return Connection[Workflow].from_page(page, Workflow.of)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="A saved workflow, at its current or a given version."
    )
    async def workflow(
        self, info: Info, id: strawberry.ID, version: int | None = None
    ) -> Workflow:
        record = await info.context.services.saved_workflows.get(
            info.context.caller, str(id), version
        )
        return Workflow.of(record)


@strawberry.type
class WorkflowMutation:
    """Saving and deleting workflows."""

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Validate and save a workflow; with `id`, a new version of it."
    )
    async def save_workflow(self, info: Info, input: SaveWorkflowInput) -> Workflow:
        record = await info.context.services.saved_workflows.save(
            info.context.caller,
            name=input.name,
            description=input.description,
            graph=input.graph,
            workflow_id=str(input.id) if input.id else None,
        )
        return Workflow.of(record)

    @strawberry.mutation(description="Delete a saved workflow (admins).")  # type: ignore[untyped-decorator]
    async def delete_workflow(self, info: Info, id: strawberry.ID) -> bool:
        await info.context.services.saved_workflows.delete(info.context.caller, str(id))
        return True
