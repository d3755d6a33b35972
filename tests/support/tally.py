"""An agent whose every run leaves a row in a table, for tests across processes
(loaded with ``AGENT_PLUGINS=tests.support.tally``; PostgreSQL only)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import anyio
from pydantic import BaseModel

from agent_orchestrator.agents.base import BaseAgent
from agent_orchestrator.core.protocols import AgentContext, LocalizedText

if TYPE_CHECKING:
    from agent_orchestrator.agents.resources import AgentResources
    from agent_orchestrator.core.protocols import Agent

#: The table the test makes: one row per run of a step, by whichever process ran it.
TABLE_SQL = """
CREATE TABLE IF NOT EXISTS test_side_effects (
    execution_id text NOT NULL,
    step_id text NOT NULL,
    attempt integer NOT NULL,
    pid integer NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""


def plain_dsn(url: str) -> str:
    """The asyncpg form of a SQLAlchemy PostgreSQL URL."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgresql") else url


class TallyInput(BaseModel):
    seconds: float = 0.0


class TallyOutput(BaseModel):
    pid: int


class TallyAgent(BaseAgent[TallyInput, TallyOutput]):
    """Records its run (execution, step, attempt, process) in ``test_side_effects``,
    then waits `seconds`: a side effect a test can count."""

    id = "tally_agent"
    name = "Tally"
    description = LocalizedText(
        fi="Kirjaa ajon tauluun.", en="Records each run in a table."
    )
    input_model = TallyInput
    output_model = TallyOutput
    side_effects = True

    async def run(self, inputs: TallyInput, ctx: AgentContext) -> TallyOutput:
        import asyncpg

        conn = await asyncpg.connect(plain_dsn(os.environ["DATABASE_URL"]))
        try:
            await conn.execute(
                "INSERT INTO test_side_effects (execution_id, step_id, attempt, pid) "
                "VALUES ($1, $2, $3, $4)",
                ctx.execution_id,
                ctx.step_id,
                ctx.attempt,
                os.getpid(),
            )
        finally:
            await conn.close()
        await anyio.sleep(inputs.seconds)
        return TallyOutput(pid=os.getpid())


def create_agents(resources: AgentResources | None) -> list[Agent]:
    """The AGENT_PLUGINS factory."""
    del resources
    return [TallyAgent()]
