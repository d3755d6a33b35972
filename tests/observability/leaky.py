"""A plugin agent (``AGENT_PLUGINS=tests.observability.leaky``) that does what careless
code does: it logs the secrets of its process and the caller's key, then fails with
them in its exception. The log tests check that none of it reaches the output."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from pydantic import BaseModel

from agent_orchestrator.agents.base import BaseAgent
from agent_orchestrator.core.enums import Role
from agent_orchestrator.core.protocols import LocalizedText

if TYPE_CHECKING:
    from agent_orchestrator.agents.resources import AgentResources
    from agent_orchestrator.core.protocols import Agent, AgentContext

#: A logger of its own: its lines get the step's ids from the engine's log fields
#: alone (`ctx.logger` also carries them as record attributes).
log = logging.getLogger("tests.observability.leaky")
SECRET_VARIABLES = (
    "DATABASE_URL",
    "OPENAI_API_KEY",
    "AGENT_SMTP_PASSWORD",
    "AGENT_WEBHOOK_SECRET",
)


class LeakyInput(BaseModel):
    token: str = ""


class LeakyOutput(BaseModel):
    done: bool = True


class LeakyAgent(BaseAgent[LeakyInput, LeakyOutput]):
    """Logs secrets, then fails unexpectedly (a RuntimeError, retried by the engine)."""

    id = "leaky_agent"
    name = "Leaky"
    description = LocalizedText(fi="Vuotaa salaisuuksia.", en="Leaks secrets.")
    input_model = LeakyInput
    output_model = LeakyOutput
    min_role = Role.VIEWER

    async def run(self, inputs: LeakyInput, ctx: AgentContext) -> LeakyOutput:
        leaked = " ".join(os.environ.get(name, "") for name in SECRET_VARIABLES)
        log.warning("leaky agent at work")
        ctx.logger.warning(
            "connecting with %s for caller %s", leaked, inputs.token or "nobody"
        )
        raise RuntimeError(f"could not connect: {leaked} (caller {inputs.token})")


def create_agents(resources: AgentResources | None) -> list[Agent]:
    """The AGENT_PLUGINS factory."""
    del resources
    return [LeakyAgent()]
