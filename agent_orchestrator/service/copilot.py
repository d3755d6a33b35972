"""The copilot: plan a command (a dry run) or plan it and start its execution.

The tenant is always the caller's: a context naming another tenant is refused, never
followed. Every command leaves one audit entry: ``copilot.execute`` in the same
transaction as the execution it starts, ``copilot.plan`` for a dry run, a ``denied``
``copilot.plan`` for a command the copilot refused and a ``failed`` one for a bad
command or context.

A caller that shows a plan before running it (the plan preview, the CLI) passes the
plan's fingerprint to `Copilot.execute`: what runs is then the plan the person saw, the
one this process remembers from the preview or, planned again, one with the same
fingerprint; a plan that came out otherwise is refused (`PlanChanged`) and nothing runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import time
import zoneinfo
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import PlanChanged, PlanningFailed, Problem, ValidationFailed
from ..core.protocols import ExecutionRecord
from ..core.schedules import ScheduleRecord
from ..planner import messages
from ..planner.model import Plan, PlanContext
from ..security.permissions import Permission
from .schedules import NewSchedule
from .starting import ExecuteRequest
from .switch import ensure_enabled

if TYPE_CHECKING:
    from ..core.enums import Role
    from ..core.records import AuditEntry
    from ..planner.model import Planner
    from .access import Access
    from .caller import Caller
    from .schedules import Schedules
    from .starting import ExecutionStarter

MAX_COMMAND_CHARS = 2_000
DEFAULT_TIMEZONE = "Europe/Helsinki"
#: The reference dates a command may be planned against.
EARLIEST_REFERENCE = dt.date(1900, 1, 1)
LATEST_REFERENCE = dt.date(2999, 12, 31)
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")
#: How long, and how many, previewed plans a process remembers for running them.
PLAN_MEMORY_S = 15 * 60
PLAN_MEMORY_SIZE = 256


@dataclass(frozen=True, slots=True)
class CopilotOptions:
    """The request's context as the caller gives it (`CopilotContextInput`).

    Attributes:
        tenant_id: Must be the caller's own tenant when given.
        user_id: A label of the person asking, kept in the audit trail.
        reference_date: "Today" for period words (default: today in `timezone`).
        timezone: IANA zone (default Europe/Helsinki).
        language: ``fi``, ``en`` or ``sv``; detected from the command when absent.
    """

    tenant_id: str | None = None
    user_id: str | None = None
    reference_date: dt.date | None = None
    timezone: str | None = None
    language: str | None = None


def plan_context(
    command: str, caller: Caller, options: CopilotOptions, role: Role
) -> PlanContext:
    """The planner's context for a command, after checking what the caller gave.

    Raises:
        ValidationFailed: An empty or too long command, an unknown time zone or
            language, a reference date outside `EARLIEST_REFERENCE` ..
            `LATEST_REFERENCE`; every problem at once.
        PlanningFailed: The context names another tenant.
    """
    problems: list[Problem] = []
    if not command.strip():
        problems.append(
            Problem(
                "command",
                'write a command, e.g. "Luo talousraportti viime kuulta"',
                "bad_request",
            )
        )
    elif len(command) > MAX_COMMAND_CHARS:
        problems.append(
            Problem(
                "command",
                f"at most {MAX_COMMAND_CHARS} characters; say one thing at a time",
                "bad_request",
            )
        )
    timezone = (options.timezone or DEFAULT_TIMEZONE).strip()
    try:
        zone = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # A key is a path under the zone directories: "Europe" is a directory
        # (IsADirectoryError), a long one is too long a file name (OSError).
        zone = None
        problems.append(
            Problem(
                "context.timezone",
                f"unknown time zone '{timezone}'; use an IANA name such as "
                f"{DEFAULT_TIMEZONE}",
                "bad_request",
            )
        )
    day = options.reference_date
    if day is not None and not EARLIEST_REFERENCE <= day <= LATEST_REFERENCE:
        # Period words count back years from it (at most ten) and forward to the
        # end of its year: the calendar ends at years 1 and 9999.
        problems.append(
            Problem(
                "context.reference_date",
                f"must be between {EARLIEST_REFERENCE} and {LATEST_REFERENCE}; "
                "leave it out for today",
                "bad_request",
            )
        )
    language = None
    if options.language is not None and options.language.strip():
        language = options.language.strip().lower()[:2]
        if language not in messages.LANGUAGES:
            problems.append(
                Problem(
                    "context.language",
                    f"'{options.language}' is not supported; use fi, en or sv",
                    "bad_request",
                )
            )
    if problems:
        raise ValidationFailed(problems)
    if options.tenant_id is not None and options.tenant_id != caller.tenant_id:
        # Never widen: a key works in its own tenant only (DESIGN.md "planner's
        # yardstick": commands that try to reach further are refused).
        raise PlanningFailed(messages.text("tenant", language or "fi"))
    assert zone is not None
    return PlanContext(
        tenant_id=caller.tenant_id,
        role=role,
        reference_date=options.reference_date or dt.datetime.now(zone).date(),
        timezone=timezone,
        language=language,
        user_id=options.user_id,
    )


def plan_metadata(command: str, plan: Plan, context: PlanContext) -> dict[str, Any]:
    """What an execution keeps of the copilot request that started it (its graph is
    the plan's graph)."""
    return {
        "command": command,
        "template_id": plan.template_id,
        "variables": dict(plan.variables),
        "explanation": plan.explanation,
        "planner": plan.planner,
        "language": plan.language,
        "warnings": list(plan.warnings),
        "model": plan.model,
        "model_calls": plan.model_calls,
        "tokens": plan.tokens,
        "repairs": [list(r) for r in plan.repairs],
        "reference_date": context.reference_date.isoformat(),
        "timezone": context.timezone,
        "user_id": context.user_id,
    }


@dataclasses.dataclass(frozen=True, slots=True)
class CopilotOutcome:
    """What `Copilot.execute` did: the plan, and the execution it started or the
    schedule it created (neither on a dry run)."""

    plan: Plan
    execution: ExecutionRecord | None = None
    schedule: ScheduleRecord | None = None


def graph_hash(graph: Any) -> str:
    """The SHA-256 of a graph's canonical JSON (sorted keys, compact)."""
    canonical = json.dumps(graph, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def plan_fingerprint(plan: Plan) -> str:
    """The SHA-256 of what running a plan does: its graph, variables and schedule."""
    schedule = None
    if plan.schedule is not None:
        schedule = [plan.schedule.cron, plan.schedule.timezone]
    return graph_hash(
        {"graph": plan.graph, "variables": plan.variables, "schedule": schedule}
    )


def fingerprint_problem(value: str, path: str) -> Problem | None:
    """Why `value` cannot be a plan's fingerprint (None when it can)."""
    if _FINGERPRINT.fullmatch(value):
        return None
    return Problem(
        path,
        "must be a plan's fingerprint, the 64 lower-case hexadecimal characters "
        "copilotPlan gives in `fingerprint`",
        "bad_request",
    )


#: Whose plan of what: tenant, actor, role, command, the options given, the day used.
PlanKey = tuple[str, str | None, str, str, CopilotOptions, dt.date]


class PlanMemory:
    """The plans this process made lately, per caller, command and context, so that
    running a previewed plan runs that plan without asking the model again.

    Bounded: at most `size` plans, each for `ttl_s` seconds.
    """

    def __init__(
        self, *, size: int = PLAN_MEMORY_SIZE, ttl_s: float = PLAN_MEMORY_S
    ) -> None:
        self.size = size
        self.ttl_s = ttl_s
        # key -> (when it is forgotten, its fingerprint, the plan)
        self._plans: OrderedDict[PlanKey, tuple[float, str, Plan]] = OrderedDict()

    def keep(self, key: PlanKey, plan: Plan) -> None:
        """Remember `plan` for `key` (the newest replaces an older one)."""
        self._plans.pop(key, None)
        expires = time.monotonic() + self.ttl_s
        self._plans[key] = (expires, plan_fingerprint(plan), plan)
        while len(self._plans) > self.size:
            self._plans.popitem(last=False)

    def find(self, key: PlanKey, fingerprint: str) -> Plan | None:
        """The remembered plan for `key` when it has `fingerprint` and is fresh."""
        found = self._plans.get(key)
        if found is None:
            return None
        expires, kept, plan = found
        if time.monotonic() >= expires:
            del self._plans[key]
            return None
        return plan if kept == fingerprint else None


class Copilot:
    """The copilot use cases.

    Args:
        access: Rights and the audit trail.
        planner: Turns a command into a validated plan.
        starter: Starts a plan's execution.
        enabled: ``AGENT_ORCHESTRATOR_ENABLED``; switched off, nothing is planned.
    """

    def __init__(
        self,
        access: Access,
        planner: Planner,
        starter: ExecutionStarter,
        *,
        enabled: bool = True,
        schedules: Schedules | None = None,
    ) -> None:
        self.access = access
        self.planner = planner
        self.starter = starter
        self.enabled = enabled
        self.schedules = schedules
        self.memory = PlanMemory()

    async def plan(
        self, caller: Caller, command: str, options: CopilotOptions | None = None
    ) -> Plan:
        """Plan a command without running it; ``copilot.plan`` is written.

        Raises:
            Forbidden: The caller may not use the copilot.
            ServiceDisabled: The service is switched off.
            ValidationFailed: A bad command or context.
            PlanningFailed: The copilot cannot or may not plan the command.
        """
        options = options or CopilotOptions()
        await self.access.require(
            caller, Permission.COPILOT, "copilot.plan", resource_type="copilot"
        )
        plan, _ = await self._plan(caller, command, options)
        await self.access.record(
            self._entry(caller, "copilot.plan", command, plan, options)
        )
        return plan

    async def execute(
        self,
        caller: Caller,
        command: str,
        options: CopilotOptions | None = None,
        *,
        dry_run: bool = False,
        expect: str | None = None,
    ) -> CopilotOutcome:
        """Plan a command and, unless `dry_run`, start the plan's execution, or
        create its schedule when the command asks to run repeatedly.

        Args:
            expect: The fingerprint (`plan_fingerprint`) of the plan the caller saw:
                only that plan runs.

        Returns:
            The plan and the new execution or schedule (neither on a dry run).

        Raises:
            Forbidden: The caller may not use the copilot.
            ServiceDisabled: The service is switched off.
            ValidationFailed: A bad command or context, or a plan the engine refuses.
            PlanningFailed: The copilot cannot or may not plan the command.
            PlanChanged: Planned again, the plan is not the one `expect` names.
        """
        if dry_run:
            return CopilotOutcome(await self.plan(caller, command, options))
        plan, request = await self.prepare(caller, command, options, expect=expect)
        if plan.schedule is not None and self.schedules is not None:
            # The schedule's own audit entry (schedule.create) names the graph; the
            # copilot's entry keeps the command that made it.
            schedule = await self.schedules.create(
                caller,
                NewSchedule(
                    name=command.strip()[:200],
                    cron=plan.schedule.cron,
                    timezone=plan.schedule.timezone,
                    graph=plan.graph,
                    variables=dict(plan.variables),
                    origin={"copilot": request.metadata["copilot"]},
                ),
            )
            if request.audit is not None:
                await self.access.record(request.audit)
            return CopilotOutcome(plan, schedule=schedule)
        async with self.access.attempt(caller, "copilot.execute", "execution"):
            record, _ = await self.starter.execute(request)
        return CopilotOutcome(plan, execution=record)

    async def prepare(
        self,
        caller: Caller,
        command: str,
        options: CopilotOptions | None = None,
        *,
        expect: str | None = None,
    ) -> tuple[Plan, ExecuteRequest]:
        """Plan a command and make the request that runs it (for callers that show
        the plan first, then start it with ``starter.execute``), with the
        ``copilot.execute`` entry the new execution's transaction writes.

        Args:
            expect: The fingerprint of the plan the caller saw; the remembered plan
                with it is taken without planning again.

        Raises:
            Forbidden: The caller may not use the copilot.
            ServiceDisabled: The service is switched off.
            ValidationFailed: A bad command or context.
            PlanningFailed: The copilot cannot or may not plan the command.
            PlanChanged: Planned again, the plan is not the one `expect` names.
        """
        options = options or CopilotOptions()
        await self.access.require(
            caller, Permission.COPILOT, "copilot.execute", resource_type="execution"
        )
        plan, context = await self._plan(caller, command, options, expect=expect)
        if expect is not None and (made := plan_fingerprint(plan)) != expect:
            changed = PlanChanged(
                messages.text("plan_changed", plan.language), fingerprint=made
            )
            await self.access.refused(
                caller,
                "copilot.execute",
                changed,
                resource_type="execution",
                details=self._details(command, plan, options),
            )
            raise changed
        request = ExecuteRequest(
            tenant_id=caller.tenant_id,
            graph=plan.graph,
            variables=plan.variables,
            actor=caller.actor,
            role=self.access.role(caller),
            metadata={
                "source": "copilot",
                "via": caller.via.value,
                "copilot": plan_metadata(command, plan, context),
            },
            audit=self._entry(caller, "copilot.execute", command, plan, options),
            made_from_template=plan.template_id,
        )
        return plan, request

    async def _plan(
        self,
        caller: Caller,
        command: str,
        options: CopilotOptions,
        *,
        expect: str | None = None,
    ) -> tuple[Plan, PlanContext]:
        ensure_enabled(self.enabled)
        try:
            if expect is not None:
                wrong = fingerprint_problem(expect, "expectFingerprint")
                if wrong is not None:
                    raise ValidationFailed([wrong])
            role = self.access.role(caller)
            context = dataclasses.replace(
                plan_context(command, caller, options, role),
                require_approval_for=self.starter.require_approval_for,
            )
            key: PlanKey = (
                caller.tenant_id,
                caller.actor,
                role.value,
                command,
                options,
                context.reference_date,
            )
            if expect is not None:
                seen = self.memory.find(key, expect)
                if seen is not None:
                    return seen, context
            plan = await self.planner.plan(command, context)
            self.memory.keep(key, plan)
            return plan, context
        except (PlanningFailed, ValidationFailed) as exc:
            # Refusals are kept too: they show what was tried (e.g. to widen rights).
            await self.access.refused(
                caller,
                "copilot.plan",
                exc,
                resource_type="copilot",
                details=self._details(command, None, options),
            )
            raise

    def _entry(
        self,
        caller: Caller,
        action: str,
        command: str,
        plan: Plan,
        options: CopilotOptions,
    ) -> AuditEntry | None:
        return self.access.entry(
            caller,
            action,
            resource_type="execution" if action == "copilot.execute" else "copilot",
            details=self._details(command, plan, options),
        )

    @staticmethod
    def _details(
        command: str, plan: Plan | None, options: CopilotOptions
    ) -> dict[str, Any]:
        details: dict[str, Any] = {
            "command": command[:MAX_COMMAND_CHARS],
            "template": plan.template_id if plan else None,
            "planner": plan.planner if plan else None,
        }
        if plan is not None:
            details["graph_sha256"] = graph_hash(plan.graph)
            if plan.model is not None:
                details["model"] = plan.model
            details["model_calls"] = plan.model_calls
            if plan.repairs:
                details["repairs"] = [list(r) for r in plan.repairs]
            if plan.schedule is not None:
                details["schedule"] = plan.schedule.cron
        if plan is not None and plan.warnings:
            details["warnings"] = list(plan.warnings)
        if options.user_id:
            details["context_user_id"] = options.user_id
        return details
