"""Saved workflows."""

from __future__ import annotations

import strawberry

from ..core.errors import Problem, ValidationFailed
from ..core.validation import validate_workflow
from ..schema.context import Info
from ..schema.types.relay import Connection
from ..schema.types.workflow import SaveWorkflowInput, Workflow
from ..security.permissions import Permission
from .access import agent_role, allow


@strawberry.type
class WorkflowQuery:
    """Reading saved workflows."""

    # Strawberry types its decorators called with arguments as returning Any (one
    # overload also serves `x: int = strawberry.field(...)`), hence these ignores.
    @strawberry.field(description="Saved workflows, most recently changed first.")  # type: ignore[untyped-decorator]
    async def workflows(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Workflow]:
        principal = allow(info, Permission.READ)
        page = await info.context.services.saved_workflows.page(
            principal.tenant_id, first=first, after=after
        )
        return Connection[Workflow].from_page(page, Workflow.of)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="A saved workflow, at its current or a given version."
    )
    async def workflow(
        self, info: Info, id: strawberry.ID, version: int | None = None
    ) -> Workflow:
        principal = allow(info, Permission.READ)
        record = await info.context.services.saved_workflows.get(
            str(id), principal.tenant_id, version
        )
        return Workflow.of(record)


@strawberry.type
class WorkflowMutation:
    """Saving and deleting workflows."""

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Validate and save a workflow; with `id`, a new version of it."
    )
    async def save_workflow(self, info: Info, input: SaveWorkflowInput) -> Workflow:
        principal = allow(info, Permission.SAVE_WORKFLOW)
        name = input.name.strip()
        if not 1 <= len(name) <= 200:
            raise ValidationFailed(
                [Problem("input.name", "give a name of 1 to 200 characters")]
            )
        if not isinstance(input.graph, dict):
            raise ValidationFailed([Problem("input.graph", "must be a JSON object")])
        graph = validate_workflow(
            input.graph, info.context.services.registry, role=agent_role(info)
        )
        record = await info.context.services.saved_workflows.save(
            tenant_id=principal.tenant_id,
            name=name,
            description=input.description,
            graph=graph.to_document(),
            created_by=principal.key_id,
            workflow_id=str(input.id) if input.id else None,
            audit=info.context.audit(
                "workflow.save", resource_type="workflow", details={"name": name}
            ),
        )
        return Workflow.of(record)

    @strawberry.mutation(description="Delete a saved workflow (admins).")  # type: ignore[untyped-decorator]
    async def delete_workflow(self, info: Info, id: strawberry.ID) -> bool:
        principal = allow(info, Permission.DELETE_WORKFLOW)
        await info.context.services.saved_workflows.delete(
            str(id),
            principal.tenant_id,
            audit=info.context.audit(
                "workflow.delete", resource_type="workflow", resource_id=str(id)
            ),
        )
        return True
