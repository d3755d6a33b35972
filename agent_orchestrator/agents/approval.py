"""`approval_agent`: a step that waits for a person's decision (DESIGN.md "Engine
semantics", Approval).

The engine never runs it: it reads the step's inputs into an approval request and
parks the execution (`engine.approval`). `decideApproval` approves or rejects it; the
step's output is the decision.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..core.approvals import APPROVAL_AGENT, DEFAULT_EXPIRES_IN_HOURS
from ..core.enums import Role
from ..core.errors import NonRetryableAgentError
from ..core.protocols import AgentContext, LocalizedText
from .base import BaseAgent
from .notification import check_recipients


class ApprovalInput(BaseModel):
    """What waits for a decision, who may decide, and for how long."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(
        min_length=1, max_length=500, description="What is to be approved, one line."
    )
    details: str = Field(
        default="", max_length=10_000, description="More for the approver."
    )
    approver_role: Role = Field(
        default=Role.ADMIN, description="The lowest role that may decide."
    )
    expires_in_hours: float = Field(
        default=DEFAULT_EXPIRES_IN_HOURS,
        gt=0,
        le=24 * 366,
        description="Hours to wait; then the approval expires and the step fails.",
    )
    notify: Annotated[list[str], AfterValidator(check_recipients)] = Field(
        default_factory=list,
        max_length=50,
        description="E-mail addresses told of the request (besides "
        "AGENT_APPROVAL_RECIPIENTS).",
    )


class ApprovalOutput(BaseModel):
    """The decision."""

    approved: bool = Field(description="True: approved (a rejection fails the step).")
    decided_by: str | None = Field(
        default=None, description="The id of the API key that decided."
    )
    comment: str | None = Field(default=None, description="The decider's words.")


class ApprovalAgent(BaseAgent[ApprovalInput, ApprovalOutput]):
    """Parks the execution until an approver decides."""

    id = APPROVAL_AGENT
    name = "Approval"
    description = LocalizedText(
        fi="Pysäyttää työnkulun odottamaan ihmisen hyväksyntää (esim. ennen "
        "lähettämistä); hylkäys tai vanheneminen lopettaa työnkulun.",
        en="Pauses the workflow until a person approves it (e.g. before sending); "
        "a rejection or expiry ends the workflow.",
    )
    input_model = ApprovalInput
    output_model = ApprovalOutput

    async def run(self, inputs: ApprovalInput, ctx: AgentContext) -> ApprovalOutput:
        """Never called by the engine, which parks approval steps instead."""
        raise NonRetryableAgentError(
            "approval_agent steps wait for a decision; the engine parks them and "
            "does not run them"
        )
