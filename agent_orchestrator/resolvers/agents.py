"""Agents and templates."""

from __future__ import annotations

import strawberry

from ..schema.context import Info
from ..schema.types.agent import Agent, WorkflowTemplate


@strawberry.type
class AgentQuery:
    """Reading the agent registry and the shipped templates."""

    # Strawberry types its decorators called with arguments as returning Any (one
    # overload also serves `x: int = strawberry.field(...)`), hence these ignores.
    @strawberry.field(description="Every registered agent.")  # type: ignore[untyped-decorator]
    async def agents(self, info: Info) -> list[Agent]:
        catalogue = info.context.services.catalogue
        return [Agent.of(a) for a in await catalogue.agents(info.context.caller)]

    @strawberry.field(description="One agent by id.")  # type: ignore[untyped-decorator]
    async def agent(self, info: Info, id: strawberry.ID) -> Agent:
        catalogue = info.context.services.catalogue
        return Agent.of(await catalogue.agent(info.context.caller, str(id)))

    @strawberry.field(description="The shipped workflow templates.")  # type: ignore[untyped-decorator]
    async def templates(self, info: Info) -> list[WorkflowTemplate]:
        catalogue = info.context.services.catalogue
        return [
            WorkflowTemplate.of(t)
            for t in await catalogue.templates(info.context.caller)
        ]
