"""Agents for the command-line tests, loaded with ``AGENT_PLUGINS=tests.cli.agents``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import anyio
from pydantic import BaseModel

from agent_orchestrator.agents.base import BaseAgent
from agent_orchestrator.core.enums import Role
from agent_orchestrator.core.protocols import AgentContext, LocalizedText

if TYPE_CHECKING:
    from agent_orchestrator.agents.resources import AgentResources
    from agent_orchestrator.core.protocols import Agent

# A built-in agent logs under the product's logger; a third-party one under its own.
PRODUCT_LOG = logging.getLogger("agent_orchestrator.agents.chatty")
PLUGIN_LOG = logging.getLogger("chatty_plugin")


class ChattyInput(BaseModel):
    message: str
    go_file: str | None = None


class ChattyOutput(BaseModel):
    said: str


class ChattyAgent(BaseAgent[ChattyInput, ChattyOutput]):
    """Logs a warning in the middle of its run, through both kinds of logger.

    With `go_file`, it first waits until that file exists, so that a test can let the
    live display draw before the warning comes.
    """

    id = "chatty_agent"
    name = "Chatty"
    description = LocalizedText(
        fi="Kirjoittaa varoituksen lokiin kesken ajon.",
        en="Logs a warning in the middle of its run.",
    )
    input_model = ChattyInput
    output_model = ChattyOutput
    min_role = Role.VIEWER

    async def run(self, inputs: ChattyInput, ctx: AgentContext) -> ChattyOutput:
        if inputs.go_file is not None:
            go = anyio.Path(inputs.go_file)
            with anyio.fail_after(60):
                while not await go.exists():
                    await anyio.sleep(0.02)
        PRODUCT_LOG.warning("%s (product logger)", inputs.message)
        PLUGIN_LOG.warning("%s (plugin logger)", inputs.message)
        return ChattyOutput(said=inputs.message)


def create_agents(resources: AgentResources | None) -> list[Agent]:
    """The AGENT_PLUGINS factory."""
    del resources
    return [ChattyAgent()]
