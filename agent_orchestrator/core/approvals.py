"""Approvals: the vocabulary of a step that waits for a person's decision (DESIGN.md
"Engine semantics", Approval).

A step of `APPROVAL_AGENT` parks its execution: the engine stores an
`ApprovalRequest` with the step's ``WAITING_APPROVAL`` and the ``APPROVAL_REQUESTED``
event, and the execution, once nothing else of it runs, becomes ``WAITING_APPROVAL``
and holds no lease, task or worker slot. A decision (or the request's expiry) is
stored on the request and on the step as a `Decision`; the execution then returns to
``PENDING``, a runner claims it and applies the decision: approved, the step succeeds
with the decision as its output; rejected or expired, it fails without retry.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .enums import Role

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

#: The agent id whose steps park their execution until someone decides.
APPROVAL_AGENT = "approval_agent"
#: Hours an approval waits by default before it expires.
DEFAULT_EXPIRES_IN_HOURS = 72.0


class ApprovalStatus(enum.StrEnum):
    """Where an approval request is.

    ``CANCELLED``: its execution ended (cancelled, or failed elsewhere) before anyone
    decided; it is derived on read, never decided.
    """

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """What the engine stores when a step starts to wait for a decision.

    Attributes:
        id: The request's id.
        tenant_id: The execution's tenant.
        execution_id: The waiting execution.
        step_id: The approval step.
        title: What is to be approved, one line.
        details: More for the approver (may be empty).
        approver_role: The lowest role that may decide.
        requested_by: Who started the execution (the key that may not decide it).
        created_at: When the step started to wait.
        expires_at: After this the request counts as rejected (expired).
        notify: E-mail addresses told of the request (besides the configured ones).
    """

    id: str
    tenant_id: str
    execution_id: str
    step_id: str
    title: str
    details: str
    approver_role: Role
    requested_by: str | None
    created_at: dt.datetime
    expires_at: dt.datetime
    notify: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision on an approval as the step keeps it until the engine applies it,
    and (when approved) the step's output.

    Attributes:
        approved: True to continue the execution.
        decided_by: The deciding API key's id (``cli`` for the command line; None for
            an expiry).
        comment: The decider's words, if any.
        expired: True when nobody decided in time.
    """

    approved: bool
    decided_by: str | None
    comment: str | None = None
    expired: bool = False
    decided_by_name: str | None = None

    def as_output(self) -> dict[str, Any]:
        """The step's output (``{approved, decided_by, comment}``, plus ``expired``
        when so)."""
        output: dict[str, Any] = {
            "approved": self.approved,
            "decided_by": self.decided_by,
            "comment": self.comment,
        }
        if self.decided_by_name:
            output["decided_by_name"] = self.decided_by_name
        if self.expired:
            output["expired"] = True
        return output

    @classmethod
    def from_output(cls, output: Mapping[str, Any]) -> Decision:
        """Read a decision back from a waiting step's stored output."""
        return cls(
            approved=bool(output.get("approved")),
            decided_by=output.get("decided_by"),
            comment=output.get("comment"),
            expired=bool(output.get("expired")),
            decided_by_name=output.get("decided_by_name"),
        )

    def refusal(self) -> str:
        """Why the execution stops, in Finnish and English, naming who and why."""
        if self.expired:
            return (
                "hyväksyntä vanheni: kukaan ei päättänyt siitä ajoissa / the approval "
                "expired: nobody decided in time"
            )
        why = (
            f": {self.comment}"
            if self.comment
            else " (ei perustelua / no reason given)"
        )
        who = (
            f"'{self.decided_by_name}' ({self.decided_by})"
            if self.decided_by_name
            else (self.decided_by or "unknown")
        )
        return f"hyväksyntä hylätty / approval rejected by {who}{why}"


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    """A stored approval request with its decision, as the API shows it.

    Attributes:
        request: What was asked.
        status: Where it is (``CANCELLED`` when its execution ended undecided).
        decided_by: Who decided (None: nobody yet, or it expired).
        decided_at: When it was decided or expired.
        comment: The decider's words.
        execution_status: The status of its execution now.
    """

    request: ApprovalRequest
    status: ApprovalStatus
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    comment: str | None = None
    execution_status: str | None = None


def approval_gaps(
    steps: Mapping[str, tuple[str, Collection[str]]], guarded: Collection[str]
) -> list[tuple[str, str]]:
    """The steps that run a `guarded` agent with no approval step before them on
    every path from the start.

    Args:
        steps: Step id -> (agent id, the ids it depends on).
        guarded: Agent ids that need an approval first (``AGENT_REQUIRE_APPROVAL_FOR``).

    Returns:
        (step id, agent id) of each offending step, in the order of `steps`.
    """
    if not guarded:
        return []
    covered: dict[str, bool] = {}

    def is_covered(step_id: str, trail: frozenset[str]) -> bool:
        # A step is covered when it is an approval or every one of its dependencies
        # is covered; a step without dependencies that is no approval is a start of
        # a path that has none. (Cycles are the validator's other problem.)
        if step_id in covered:
            return covered[step_id]
        agent, deps = steps[step_id]
        if agent == APPROVAL_AGENT:
            result = True
        else:
            known = [d for d in deps if d in steps and d not in trail]
            result = bool(known) and all(
                is_covered(d, trail | {step_id}) for d in known
            )
        covered[step_id] = result
        return result

    gaps = []
    for step_id, (agent, deps) in steps.items():
        if agent not in guarded:
            continue
        known = [d for d in deps if d in steps]
        if not known or not all(is_covered(d, frozenset({step_id})) for d in known):
            gaps.append((step_id, agent))
    return gaps
