"""Agents and workflow templates as GraphQL types."""

from __future__ import annotations

import functools
import weakref
from typing import Any

import strawberry
from pydantic import BaseModel

from ...core.protocols import Agent as AgentProtocol
from ...core.templates import WorkflowTemplate as Template
from ..context import Info  # noqa: TC001 (Strawberry reads annotations at run time)
from ..enums import Role
from ..scalars import JSON


@functools.cache
def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON schema, made once (pydantic builds it anew on every call)."""
    return model.model_json_schema()


@strawberry.type
class AgentHealth:
    """What the agent's own health check found."""

    ok: bool
    detail: str
    checks: JSON


@strawberry.type
class Agent:
    """A registered agent, with the JSON schemas of its inputs and outputs."""

    id: strawberry.ID
    name: str
    version: str
    description_fi: str
    description_en: str
    side_effects: bool
    min_role: Role
    input_schema: JSON
    output_schema: JSON

    # Strawberry types its decorators called with arguments as returning Any (one
    # overload also serves `x: int = strawberry.field(...)`), hence these ignores.
    @strawberry.field(description="The description in a language (fi or en).")  # type: ignore[untyped-decorator]
    def description(self, language: str = "fi") -> str:
        return self.description_en if language.startswith("en") else self.description_fi

    @strawberry.field(description="Runs the agent's health check now.")  # type: ignore[untyped-decorator]
    async def health(self, info: Info) -> AgentHealth:
        catalogue = info.context.services.catalogue
        found = await catalogue.health(info.context.caller, str(self.id))
        return AgentHealth(
            ok=found.ok, detail=found.detail, checks=JSON(dict(found.checks))
        )

    @classmethod
    def of(cls, agent: AgentProtocol) -> Agent:
        """The GraphQL view of an agent, made once per agent: the registry's agents
        live as long as the process and do not change, and `agents` lists them all
        on every request."""
        view = _AGENT_VIEWS.get(agent)
        if view is None:
            view = _AGENT_VIEWS[agent] = cls._view(agent)
        return view

    @classmethod
    def _view(cls, agent: AgentProtocol) -> Agent:
        return cls(
            id=strawberry.ID(agent.id),
            name=agent.name,
            version=agent.version,
            description_fi=agent.description.fi,
            description_en=agent.description.en,
            side_effects=agent.side_effects,
            min_role=agent.min_role,
            input_schema=JSON(json_schema(agent.input_model)),
            output_schema=JSON(json_schema(agent.output_model)),
        )


_AGENT_VIEWS: weakref.WeakKeyDictionary[AgentProtocol, Agent] = (
    weakref.WeakKeyDictionary()
)


@strawberry.type
class WorkflowTemplate:
    """A shipped workflow template."""

    id: strawberry.ID
    name: str
    name_en: str
    description: str
    description_en: str
    graph: JSON
    variables: JSON

    @classmethod
    def of(cls, template: Template) -> WorkflowTemplate:
        """The GraphQL view of a template."""
        graph: dict[str, Any] = template.graph.to_document()
        return cls(
            id=strawberry.ID(template.id),
            name=template.name.fi,
            name_en=template.name.en,
            description=template.description.fi,
            description_en=template.description.en,
            graph=JSON(graph),
            variables=JSON(graph.get("variables", {})),
        )
