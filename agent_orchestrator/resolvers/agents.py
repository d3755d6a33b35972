"""Agents and templates."""

from __future__ import annotations

import strawberry

from ..core.errors import NotFound
from ..schema.context import Info
from ..schema.types.agent import Agent, WorkflowTemplate
from ..security.permissions import Permission
from .access import allow


@strawberry.type
class AgentQuery:
    """Reading the agent registry and the shipped templates."""

    # Strawberry types its decorators called with arguments as returning Any (one
    # overload also serves `x: int = strawberry.field(...)`), hence these ignores.
    @strawberry.field(description="Every registered agent.")  # type: ignore[untyped-decorator]
    def agents(self, info: Info) -> list[Agent]:
        allow(info, Permission.READ)
        return [Agent.of(a) for a in info.context.services.registry]

    @strawberry.field(description="One agent by id.")  # type: ignore[untyped-decorator]
    def agent(self, info: Info, id: strawberry.ID) -> Agent:
        allow(info, Permission.READ)
        agent = info.context.services.registry.get(str(id))
        if agent is None:
            raise NotFound(f"agent '{id}' not found")
        return Agent.of(agent)

    @strawberry.field(description="The shipped workflow templates.")  # type: ignore[untyped-decorator]
    def templates(self, info: Info) -> list[WorkflowTemplate]:
        allow(info, Permission.READ)
        return [
            WorkflowTemplate.of(t) for t in info.context.services.templates.values()
        ]
