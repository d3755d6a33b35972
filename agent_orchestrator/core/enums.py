"""Statuses, event types and roles.

See DESIGN.md "Engine semantics" and "GraphQL contract".
"""

from __future__ import annotations

import enum


class ExecutionStatus(enum.StrEnum):
    """Where an execution is in its life."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    WAITING_APPROVAL = "WAITING_APPROVAL"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        """True once nothing will change the execution any more."""
        return self in _FINAL_EXECUTION

    @property
    def is_leased(self) -> bool:
        """True while a runner holds (or may claim) the execution: a final or parked
        (`WAITING_APPROVAL`) one holds no lease, task or worker slot."""
        return self in (ExecutionStatus.PENDING, ExecutionStatus.RUNNING)


_FINAL_EXECUTION = frozenset(
    {ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED}
)


class StepStatus(enum.StrEnum):
    """Where one step of an execution is."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    RETRYING = "RETRYING"
    WAITING_APPROVAL = "WAITING_APPROVAL"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        """True for a step that will not run (again)."""
        return self in _FINAL_STEP

    @property
    def lets_dependents_run(self) -> bool:
        """A dependent may start once this step succeeded or was skipped by `when`."""
        return self in (StepStatus.SUCCEEDED, StepStatus.SKIPPED)


_FINAL_STEP = frozenset(
    {StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.CANCELLED}
)


class EventType(enum.StrEnum):
    """The kinds of execution events, stored append-only and numbered per execution."""

    EXECUTION_STARTED = "EXECUTION_STARTED"
    STEP_STARTED = "STEP_STARTED"
    STEP_PROGRESS = "STEP_PROGRESS"
    STEP_RETRYING = "STEP_RETRYING"
    STEP_SUCCEEDED = "STEP_SUCCEEDED"
    STEP_FAILED = "STEP_FAILED"
    STEP_SKIPPED = "STEP_SKIPPED"
    APPROVAL_REQUESTED = "APPROVAL_REQUESTED"
    APPROVAL_DECIDED = "APPROVAL_DECIDED"
    EXECUTION_SUCCEEDED = "EXECUTION_SUCCEEDED"
    EXECUTION_FAILED = "EXECUTION_FAILED"
    EXECUTION_CANCELLED = "EXECUTION_CANCELLED"

    @property
    def is_final(self) -> bool:
        """True for the last event of an execution's stream."""
        return self in _FINAL_EVENTS


_FINAL_EVENTS = frozenset(
    {
        EventType.EXECUTION_SUCCEEDED,
        EventType.EXECUTION_FAILED,
        EventType.EXECUTION_CANCELLED,
    }
)


class Role(enum.StrEnum):
    """What an API key may do; each role includes the rights of the ones below it."""

    VIEWER = "VIEWER"
    OPERATOR = "OPERATOR"
    ADMIN = "ADMIN"

    @property
    def rank(self) -> int:
        """0 for VIEWER, 1 for OPERATOR, 2 for ADMIN."""
        return _ROLE_RANK[self]

    def includes(self, other: Role) -> bool:
        """True when this role has at least the rights of `other`."""
        return self.rank >= other.rank

    @classmethod
    def parse(cls, text: str) -> Role:
        """Read a role name in any letter case, e.g. ``admin``."""
        try:
            return cls(text.strip().upper())
        except ValueError:
            accepted = ", ".join(r.value.lower() for r in cls)
            raise ValueError(f"unknown role {text!r}; use one of: {accepted}") from None


_ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}
