"""The agent registry and the shipped templates, as callers read them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.errors import NotFound
from ..core.protocols import AgentHealth
from ..security.permissions import Permission
from .starting import find_template

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..core.protocols import Agent, AgentCatalogue
    from ..core.templates import WorkflowTemplate
    from .access import Access
    from .caller import Caller


class Catalogue:
    """The agent and template use cases.

    Args:
        access: Rights and the audit trail.
        agents: The registered agents.
        templates: The shipped templates by id.
    """

    def __init__(
        self,
        access: Access,
        agents: AgentCatalogue,
        templates: Mapping[str, WorkflowTemplate],
    ) -> None:
        self.access = access
        self.registry = agents
        self.shipped = templates

    async def agents(self, caller: Caller) -> list[Agent]:
        """Every registered agent, ordered by id."""
        await self.access.require(
            caller, Permission.READ, "agent.list", resource_type="agent"
        )
        return list(self.registry)

    async def agent(self, caller: Caller, agent_id: str) -> Agent:
        """One agent.

        Raises:
            NotFound: No agent has this id.
        """
        await self.access.require(
            caller,
            Permission.READ,
            "agent.read",
            resource_type="agent",
            resource_id=agent_id,
        )
        agent = self.registry.get(agent_id)
        if agent is None:
            raise NotFound(f"agent '{agent_id}' not found")
        return agent

    async def health(self, caller: Caller, agent_id: str) -> AgentHealth:
        """Run an agent's own health check now; a check that fails is itself the
        answer (not ok, naming the error's kind).

        Raises:
            NotFound: No agent has this id.
        """
        agent = await self.agent(caller, agent_id)
        try:
            return await agent.health()
        except Exception as exc:
            return AgentHealth(
                ok=False, detail=f"health check failed: {type(exc).__name__}"
            )

    async def template(self, caller: Caller, template_id: str) -> WorkflowTemplate:
        """One shipped template.

        Raises:
            NotFound: No template has this id (the message lists those that do).
        """
        await self.access.require(
            caller,
            Permission.READ,
            "template.read",
            resource_type="template",
            resource_id=template_id,
        )
        return find_template(self.shipped, template_id)

    async def templates(self, caller: Caller) -> list[WorkflowTemplate]:
        """The shipped workflow templates."""
        await self.access.require(
            caller, Permission.READ, "template.list", resource_type="template"
        )
        return list(self.shipped.values())
