"""Saved workflows as GraphQL types."""

from __future__ import annotations

import datetime as dt

import strawberry

from ...core.records import WorkflowRecord
from ..context import Info  # noqa: TC001 (Strawberry reads annotations at run time)
from ..scalars import JSON


@strawberry.type
class Workflow:
    """A saved, versioned workflow."""

    id: strawberry.ID
    name: str
    description: str
    version: int
    graph: JSON
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str | None

    # Strawberry types its decorators called with arguments as returning Any (one
    # overload also serves `x: int = strawberry.field(...)`), hence these ignores.
    @strawberry.field(description="Every saved version, oldest first.")  # type: ignore[untyped-decorator]
    async def versions(self, info: Info) -> list[Workflow]:
        found = await info.context.services.saved_workflows.versions(
            info.context.caller, str(self.id)
        )
        return [Workflow.of(r) for r in found]

    @classmethod
    def of(cls, record: WorkflowRecord) -> Workflow:
        """The GraphQL view of a saved workflow."""
        return cls(
            id=strawberry.ID(record.id),
            name=record.name,
            description=record.description,
            version=record.version,
            graph=JSON(dict(record.graph)),
            created_at=record.created_at,
            updated_at=record.updated_at,
            created_by=record.created_by,
        )


@strawberry.input
class SaveWorkflowInput:
    """A workflow to save; with `id`, a new version of that workflow."""

    name: str
    graph: JSON
    description: str = ""
    id: strawberry.ID | None = None
