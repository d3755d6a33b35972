"""`wait_agent`: waits, then succeeds. The Wait state of workflow authors, and the tool
for testing timing, cancellation and crash recovery."""

from __future__ import annotations

import anyio
from pydantic import BaseModel, ConfigDict, Field

from ..core.enums import Role
from ..core.protocols import AgentContext, LocalizedText
from .base import BaseAgent


class WaitInput(BaseModel):
    """How long to wait."""

    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(ge=0, le=86_400, description="Seconds to wait.")
    progress_every_s: float | None = Field(
        default=None, gt=0, description="Report progress at this interval, if set."
    )


class WaitOutput(BaseModel):
    """How long the wait took."""

    waited_s: float = Field(description="Seconds actually waited.")


class WaitAgent(BaseAgent[WaitInput, WaitOutput]):
    """Waits the given number of seconds."""

    id = "wait_agent"
    name = "Wait"
    description = LocalizedText(
        fi="Odottaa annetun määrän sekunteja ja jatkaa sitten "
        "(ajastettu tauko työnkulussa).",
        en="Waits the given number of seconds, then succeeds "
        "(a timed pause in a workflow).",
    )
    input_model = WaitInput
    output_model = WaitOutput
    min_role = Role.OPERATOR

    async def run(self, inputs: WaitInput, ctx: AgentContext) -> WaitOutput:
        """Sleep, reporting progress at `progress_every_s` when asked."""
        start = anyio.current_time()
        total = inputs.seconds
        step = inputs.progress_every_s
        if step is None:
            await anyio.sleep(total)
        else:
            done = 0.0
            while done < total:
                chunk = min(step, total - done)
                await anyio.sleep(chunk)
                done += chunk
                await ctx.report_progress(
                    f"waited {done:g} of {total:g} s",
                    fraction=done / total if total else 1.0,
                )
        return WaitOutput(waited_s=round(anyio.current_time() - start, 6))
