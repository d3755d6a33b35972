"""A convenient base for agents: class attributes declare what `core.Agent` asks for."""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel

from ..core.enums import Role
from ..core.protocols import AgentContext, AgentHealth, LocalizedText

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)


class BaseAgent(Generic[In, Out]):
    """Subclass, set the class attributes and implement `run`.

    Example::

        class WaitAgent(BaseAgent[WaitInput, WaitOutput]):
            id = "wait_agent"
            ...
            async def run(self, inputs: WaitInput, ctx: AgentContext) -> WaitOutput: ...
    """

    id: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[LocalizedText]
    version: ClassVar[str] = "1.0.0"
    input_model: ClassVar[type[BaseModel]]
    output_model: ClassVar[type[BaseModel]]
    side_effects: ClassVar[bool] = False
    min_role: ClassVar[Role] = Role.OPERATOR

    async def run(self, inputs: In, ctx: AgentContext) -> Out:
        """Do the work; see `core.protocols.Agent.run`."""
        raise NotImplementedError

    async def health(self) -> AgentHealth:
        """Healthy unless a subclass knows better."""
        return AgentHealth(ok=True, detail="ready")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.version}>"
