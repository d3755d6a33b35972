"""The agent registry: built-ins plus third-party agents found through the entry-point
group ``agent_orchestrator.agents`` (or named in ``AGENT_PLUGINS``).

An entry point may name an agent instance, an agent class (instantiated without
arguments), or a factory called with the `AgentResources` that returns one agent or
several.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Iterable, Iterator, Sequence
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ..core.errors import ConfigurationError
from ..core.protocols import Agent

if TYPE_CHECKING:
    from .resources import AgentResources

ENTRY_POINT_GROUP = "agent_orchestrator.agents"
log = logging.getLogger(__name__)


class AgentRegistry:
    """Agents by id; implements `core.protocols.AgentCatalogue`."""

    def __init__(self, agents: Iterable[Agent] = ()) -> None:
        self._agents: dict[str, Agent] = {}
        for agent in agents:
            self.register(agent)

    def register(self, agent: Agent) -> None:
        """Add an agent.

        Raises:
            ConfigurationError: The object is not an agent, or its id is taken.
        """
        _check_agent(agent)
        if agent.id in self._agents:
            raise ConfigurationError(
                f"agent id '{agent.id}' is registered twice "
                f"({self._agents[agent.id]!r} and {agent!r}); "
                "give the plugin agent another id"
            )
        self._agents[agent.id] = agent

    def get(self, agent_id: str) -> Agent | None:
        """The agent with this id, or None."""
        return self._agents.get(agent_id)

    def __iter__(self) -> Iterator[Agent]:
        return iter(sorted(self._agents.values(), key=lambda a: a.id))

    def __len__(self) -> int:
        return len(self._agents)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._agents


def create_registry(
    resources: AgentResources,
    *,
    builtins: Iterable[Agent] = (),
    plugins: Sequence[str] = (),
    discover: bool = True,
) -> AgentRegistry:
    """A registry with the built-ins, then entry-point agents, then `plugins`.

    Args:
        resources: Handed to plugin factories.
        builtins: The built-in agents.
        plugins: ``module`` or ``module:attribute`` names (``AGENT_PLUGINS``).
        discover: Whether to load the entry-point group.
    """
    registry = AgentRegistry(builtins)
    if discover:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = ep.load()
            except Exception as exc:
                raise ConfigurationError(
                    f"cannot load agent entry point '{ep.name} = {ep.value}': {exc}"
                ) from exc
            for agent in _materialise(loaded, resources, ep.value):
                registry.register(agent)
    for name in plugins:
        for agent in _materialise(_import(name), resources, name):
            registry.register(agent)
    return registry


def _import(name: str) -> Any:
    module_name, _, attribute = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(
            f"AGENT_PLUGINS names '{name}', which cannot be imported: {exc}"
        ) from exc
    if not attribute:
        factory = getattr(module, "create_agents", None)
        if factory is None:
            raise ConfigurationError(
                f"AGENT_PLUGINS module '{module_name}' has no "
                "create_agents(resources); name an attribute as module:attribute"
            )
        return factory
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ConfigurationError(
            f"AGENT_PLUGINS names '{name}', but '{module_name}' has no '{attribute}'"
        ) from None


def _materialise(obj: Any, resources: AgentResources, origin: str) -> list[Agent]:
    if inspect.isclass(obj):
        return [_check_agent(obj())]
    if isinstance(obj, Agent):
        return [obj]
    if callable(obj):
        made = obj(resources)
        if isinstance(made, Agent):
            return [made]
        if isinstance(made, Iterable):
            return [_check_agent(agent) for agent in made]
    raise ConfigurationError(
        f"'{origin}' is neither an agent, an agent class nor a factory of agents"
    )


def _check_agent(agent: object) -> Agent:
    """`agent` itself once it is known to be one.

    Raises:
        ConfigurationError: It lacks a member of `core.protocols.Agent`, or a model
            is not a pydantic model.
    """
    missing = [
        attr
        for attr in (
            "id",
            "name",
            "description",
            "version",
            "input_model",
            "output_model",
            "side_effects",
            "min_role",
            "run",
            "health",
        )
        if not hasattr(agent, attr)
    ]
    if missing:
        raise ConfigurationError(
            f"{agent!r} is not an agent: it lacks {', '.join(missing)}"
        )
    # The Protocol's isinstance() looks for the very members checked above.
    assert isinstance(agent, Agent)
    for attr in ("input_model", "output_model"):
        model = getattr(agent, attr)
        if not (inspect.isclass(model) and issubclass(model, BaseModel)):
            raise ConfigurationError(
                f"agent '{agent.id}': {attr} must be a pydantic model"
            )
    return agent
