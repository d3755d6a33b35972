"""`gate_agent` holds its step until a test lets it go: it waits until the file its
`path` input names exists (a condition the test controls from its own process).
A server loads it with ``AGENT_PLUGINS=tests.support.agents,tests.api.gate_agent``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import BaseModel, Field

from agent_orchestrator.agents.base import BaseAgent
from agent_orchestrator.core.protocols import AgentContext, LocalizedText

if TYPE_CHECKING:
    from agent_orchestrator.agents.resources import AgentResources


class GateInput(BaseModel):
    path: str
    timeout_s: float = Field(20.0, gt=0)


class GateOutput(BaseModel):
    opened: bool


class GateAgent(BaseAgent[GateInput, GateOutput]):
    """Succeeds once the file at `path` exists; fails after `timeout_s` without it."""

    id = "gate_agent"
    name = "Gate"
    description = LocalizedText(
        fi="Odottaa, kunnes testi avaa portin.", en="Waits until a test opens it."
    )
    input_model = GateInput
    output_model = GateOutput

    async def run(self, inputs: GateInput, ctx: AgentContext) -> GateOutput:
        gate = Path(inputs.path)
        with anyio.fail_after(inputs.timeout_s):
            while not gate.exists():  # the test's process makes it: poll
                await anyio.sleep(0.02)
        return GateOutput(opened=True)


def create_agents(resources: AgentResources) -> list[Any]:
    """The AGENT_PLUGINS factory."""
    del resources
    return [GateAgent()]
