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
    steps: Mapping[str, tuple[str, Collection[str], bool]],
    guarded: Collection[str],
) -> list[tuple[str, str]]:
    """The steps that run a `guarded` agent without an approval step before them on
    every path from the start.

    Paths run along dependencies, once those implied by longer ones are left out (the
    transitive reduction): a notification that depends on a report and on an
    approval that itself depends on the report is reached only through the approval.
    An approval with a `when` condition does not count (it may be skipped, and a
    skipped step lets its dependents run).

    Args:
        steps: Step id -> (agent id, the ids it depends on, whether it has `when`).
        guarded: Agent ids that need an approval first (``AGENT_REQUIRE_APPROVAL_FOR``).

    Returns:
        (step id, agent id) of each offending step, in the order of `steps`.
    """
    if not guarded:
        return []
    ancestors: dict[str, frozenset[str]] = {}

    def ancestors_of(step_id: str, trail: frozenset[str]) -> frozenset[str]:
        found = ancestors.get(step_id)
        if found is None:
            deps = [d for d in steps[step_id][1] if d in steps and d not in trail]
            found = frozenset(deps).union(
                *(ancestors_of(d, trail | {step_id}) for d in deps)
            )
            ancestors[step_id] = found
        return found

    def direct(step_id: str) -> list[str]:
        # The dependencies no other dependency already leads through.
        deps = [d for d in steps[step_id][1] if d in steps and d != step_id]
        return [
            d
            for d in deps
            if not any(d in ancestors_of(o, frozenset()) for o in deps if o != d)
        ]

    covered: dict[str, bool] = {}

    def is_covered(step_id: str, trail: frozenset[str]) -> bool:
        # Every path from the start into this step has passed an approval: it is one
        # (unconditional), or each of its direct dependencies is covered; a step
        # without dependencies starts a path that has none.
        if step_id in covered:
            return covered[step_id]
        agent, _, conditional = steps[step_id]
        if agent == APPROVAL_AGENT and not conditional:
            result = True
        else:
            deps = [d for d in direct(step_id) if d not in trail]
            result = bool(deps) and all(is_covered(d, trail | {step_id}) for d in deps)
        covered[step_id] = result
        return result

    gaps = []
    for step_id, (agent, _, _) in steps.items():
        if agent not in guarded:
            continue
        deps = direct(step_id)
        if not deps or not all(is_covered(d, frozenset({step_id})) for d in deps):
            gaps.append((step_id, agent))
    return gaps
