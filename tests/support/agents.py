"""Agents for engine tests. Loaded into server processes with
``AGENT_PLUGINS=tests.support.agents`` (its `create_agents`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio
from pydantic import BaseModel

from agent_orchestrator.agents.base import BaseAgent
from agent_orchestrator.core.enums import Role
from agent_orchestrator.core.errors import AgentError, NonRetryableAgentError
from agent_orchestrator.core.protocols import AgentContext, LocalizedText

if TYPE_CHECKING:
    from agent_orchestrator.agents.resources import AgentResources
    from agent_orchestrator.core.protocols import Agent


class FlakyInput(BaseModel):
    fail_times: int = 0
    retryable: bool = True
    #: Fail as an agent's bug would: an exception that is no `AgentError`.
    unexpected: bool = False
    message: str = "simulated failure"


class FlakyOutput(BaseModel):
    attempt: int


class FlakyAgent(BaseAgent[FlakyInput, FlakyOutput]):
    """Fails on its first `fail_times` attempts, then succeeds."""

    id = "flaky_agent"
    name = "Flaky"
    description = LocalizedText(fi="Epäonnistuu testissä.", en="Fails in tests.")
    input_model = FlakyInput
    output_model = FlakyOutput

    async def run(self, inputs: FlakyInput, ctx: AgentContext) -> FlakyOutput:
        if ctx.attempt <= inputs.fail_times:
            if inputs.unexpected:
                raise RuntimeError(f"{inputs.message} (attempt {ctx.attempt})")
            if inputs.retryable:
                raise AgentError(f"{inputs.message} (attempt {ctx.attempt})")
            raise NonRetryableAgentError(f"{inputs.message} (attempt {ctx.attempt})")
        return FlakyOutput(attempt=ctx.attempt)


class TouchInput(BaseModel):
    path: str
    seconds: float = 0.0


class TouchOutput(BaseModel):
    runs: int
    value: str


class TouchAgent(BaseAgent[TouchInput, TouchOutput]):
    """Appends a line to a file for every run (so a test can count runs across
    processes), then waits `seconds`."""

    id = "touch_agent"
    name = "Touch"
    description = LocalizedText(
        fi="Kirjaa ajon tiedostoon.", en="Logs each run to a file."
    )
    input_model = TouchInput
    output_model = TouchOutput

    async def run(self, inputs: TouchInput, ctx: AgentContext) -> TouchOutput:
        line = f"{ctx.execution_id} {ctx.step_id} {ctx.attempt} {os.getpid()}\n"
        path = Path(inputs.path)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line)
        await anyio.sleep(inputs.seconds)
        runs = sum(
            1 for row in path.read_text().splitlines() if row.split()[1] == ctx.step_id
        )
        return TouchOutput(runs=runs, value=f"{ctx.step_id}-done")


class EchoInput(BaseModel):
    value: Any = None
    text: str | None = None


class EchoOutput(BaseModel):
    value: Any = None
    text: str | None = None
    number: float = 1.0


class EchoAgent(BaseAgent[EchoInput, EchoOutput]):
    """Returns its inputs."""

    id = "echo_agent"
    name = "Echo"
    description = LocalizedText(fi="Palauttaa syötteensä.", en="Returns its inputs.")
    input_model = EchoInput
    output_model = EchoOutput
    min_role = Role.VIEWER

    async def run(self, inputs: EchoInput, ctx: AgentContext) -> EchoOutput:
        return EchoOutput(value=inputs.value, text=inputs.text)


class PoisonInput(BaseModel):
    kind: Literal["nul", "surrogate", "nan", "progress_nan"] = "nul"


class PoisonOutput(BaseModel):
    text: str = ""
    number: float = 0.0


class PoisonAgent(BaseAgent[PoisonInput, PoisonOutput]):
    """Returns what the databases refuse: text with NUL or a lone surrogate, a number
    JSON cannot hold (NaN), or reports progress with such a number."""

    id = "poison_agent"
    name = "Poison"
    description = LocalizedText(
        fi="Palauttaa tallentumatonta dataa.", en="Returns unstorable data."
    )
    input_model = PoisonInput
    output_model = PoisonOutput

    async def run(self, inputs: PoisonInput, ctx: AgentContext) -> PoisonOutput:
        if inputs.kind == "nul":
            return PoisonOutput(text="kuitti\x00 12,00")
        if inputs.kind == "surrogate":
            return PoisonOutput(text="kuitti \ud800 12,00")
        if inputs.kind == "progress_nan":
            await ctx.report_progress("half", data={"ratio": float("nan")})
            return PoisonOutput(text="done")
        return PoisonOutput(number=float("nan"))


class AdminInput(BaseModel):
    pass


class AdminOnlyAgent(BaseAgent[AdminInput, EchoOutput]):
    """An agent only admins may use (for role checks)."""

    id = "admin_only_agent"
    name = "Admin only"
    description = LocalizedText(fi="Vain ylläpitäjille.", en="Admins only.")
    input_model = AdminInput
    output_model = EchoOutput
    min_role = Role.ADMIN

    async def run(self, inputs: AdminInput, ctx: AgentContext) -> EchoOutput:
        return EchoOutput(text="admin")


def create_agents(resources: AgentResources | None) -> list[Agent]:
    """Every test agent (the AGENT_PLUGINS factory)."""
    del resources
    return [FlakyAgent(), TouchAgent(), EchoAgent(), AdminOnlyAgent(), PoisonAgent()]
