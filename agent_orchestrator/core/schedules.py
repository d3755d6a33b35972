"""Schedules: a workflow fired on a cron expression in a time zone (DESIGN.md "Engine
semantics", Schedules)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .enums import Role

#: The time zone a schedule without one runs in.
DEFAULT_TIMEZONE = "Europe/Helsinki"
#: The idempotency keys of schedules' executions start with this (and only theirs).
SCHEDULE_KEY_PREFIX = "schedule:"


def slot_key(schedule_id: str, slot: dt.datetime) -> str:
    """The idempotency key of the execution one slot of a schedule fires:
    ``schedule:<id>:<slot as UTC ISO time>``, the same in every process."""
    return f"{SCHEDULE_KEY_PREFIX}{schedule_id}:{slot.astimezone(dt.UTC).isoformat()}"


@dataclass(frozen=True, slots=True)
class ScheduleRecord:
    """A stored schedule.

    Attributes:
        id: The schedule's id.
        tenant_id: Whose it is.
        name: A name to tell it apart.
        cron: A five-field cron expression, read in `timezone`.
        timezone: An IANA time zone name (default ``Europe/Helsinki``).
        enabled: False while paused: a paused schedule fires nothing.
        template_id: The shipped template it runs, or None.
        workflow_id: The saved workflow it runs (its current version), or None.
        graph: The workflow document it runs, or None.
        variables: The execution's variables; ``${period.<name>.start|end}`` in them
            is resolved at fire time.
        next_run_at: The next slot to fire (UTC); None while paused.
        last_run_at: The last slot fired (UTC), or None.
        last_execution_id: The execution the last slot started, if it started one.
        last_error: Why the last slot failed to start, or None.
        created_by: The API key (or ``cli``) that made it; its executions are started
            in that name.
        origin: What made it, given to each execution it fires as metadata:
            ``{"copilot": {...}}`` (the command and its plan) when the copilot
            made it from a command; None otherwise.
        role: The role of its maker: graphs are validated against it at fire time.
        created_at: When it was made.
        updated_at: When it last changed.
    """

    id: str
    tenant_id: str
    name: str
    cron: str
    timezone: str
    enabled: bool
    role: Role
    created_at: dt.datetime
    updated_at: dt.datetime
    template_id: str | None = None
    workflow_id: str | None = None
    graph: Mapping[str, Any] | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    next_run_at: dt.datetime | None = None
    last_run_at: dt.datetime | None = None
    last_execution_id: str | None = None
    last_error: str | None = None
    created_by: str | None = None
    origin: Mapping[str, Any] | None = None

    @property
    def command(self) -> str | None:
        """The copilot command that made the schedule, if one did."""
        copilot = (self.origin or {}).get("copilot")
        command = copilot.get("command") if isinstance(copilot, Mapping) else None
        return command if isinstance(command, str) else None

    def as_json(self) -> dict[str, Any]:
        """The schedule as the REST API and ``schedules list --json`` show it
        (snake_case, ISO times)."""

        def iso(when: dt.datetime | None) -> str | None:
            return when.isoformat() if when is not None else None

        return {
            "id": self.id,
            "name": self.name,
            "cron": self.cron,
            "timezone": self.timezone,
            "enabled": self.enabled,
            "next_run_at": iso(self.next_run_at),
            "last_run_at": iso(self.last_run_at),
            "template_id": self.template_id,
            "workflow_id": self.workflow_id,
            "graph": dict(self.graph) if self.graph is not None else None,
            "variables": dict(self.variables),
            "last_execution_id": self.last_execution_id,
            "last_error": self.last_error,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "command": self.command,
        }


@dataclass(frozen=True, slots=True)
class SlotOutcome:
    """What firing one slot came to, stored on the schedule with its next slot.

    Attributes:
        slot: The slot fired (UTC).
        next_run_at: The slot after it.
        execution_id: The execution started, or None when it could not start.
        error: Why it could not start, or None.
    """

    slot: dt.datetime
    next_run_at: dt.datetime
    execution_id: str | None = None
    error: str | None = None
