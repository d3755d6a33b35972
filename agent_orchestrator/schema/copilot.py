"""The copilot as the API, REST and CLI share it: build the request's context, plan the
command, and run the plan with the command and plan kept beside the execution.

The tenant is always the caller's: a context naming another tenant is refused, never
followed. Every command leaves an audit entry: ``copilot.execute`` in the same
transaction as the execution it starts, ``copilot.plan`` for a dry run, and a
``denied`` ``copilot.plan`` for a command the copilot refused.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.enums import Role
from ..core.errors import PlanningFailed, Problem, ValidationFailed
from ..core.records import AuditEntry
from ..engine.service import ExecuteRequest
from ..planner import messages
from ..planner.model import Plan, PlanContext

if TYPE_CHECKING:
    from ..core.protocols import ExecutionRecord
    from .services import Services

MAX_COMMAND_CHARS = 2_000
DEFAULT_TIMEZONE = "Europe/Helsinki"


@dataclass(frozen=True, slots=True)
class CopilotCaller:
    """Who sends a command, and from where (for rights and the audit trail).

    Attributes:
        tenant_id: The caller's key's tenant: the only tenant a plan can touch.
        role: The role agents are checked against.
        actor: The key id (or ``cli``).
        via: ``graphql``, ``rest`` or ``cli``.
        ip_address: The client's address, if any.
        request_id: Correlates logs and audit records.
    """

    tenant_id: str
    role: Role
    actor: str | None
    via: str
    ip_address: str | None = None
    request_id: str | None = None


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
    command: str, caller: CopilotCaller, options: CopilotOptions
) -> PlanContext:
    """The planner's context for a command, after checking what the caller gave.

    Raises:
        ValidationFailed: An empty or too long command, an unknown time zone or
            language; every problem at once.
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
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = None
        problems.append(
            Problem(
                "context.timezone",
                f"unknown time zone '{timezone}'; use an IANA name such as "
                f"{DEFAULT_TIMEZONE}",
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
        role=caller.role,
        reference_date=options.reference_date or dt.datetime.now(zone).date(),
        timezone=timezone,
        language=language,
        user_id=options.user_id,
    )


async def plan_command(
    services: Services,
    command: str,
    caller: CopilotCaller,
    options: CopilotOptions,
) -> Plan:
    """Plan a command without running it; the audit trail gets ``copilot.plan``.

    Raises:
        ValidationFailed: A bad command or context.
        PlanningFailed: The copilot cannot or may not plan the command.
    """
    plan, _ = await _plan(services, command, caller, options)
    await _record(
        services, _audit(services, caller, "copilot.plan", command, plan, options)
    )
    return plan


async def execute_command(
    services: Services,
    command: str,
    caller: CopilotCaller,
    options: CopilotOptions,
    *,
    dry_run: bool = False,
) -> tuple[Plan, ExecutionRecord | None]:
    """Plan a command and, unless `dry_run`, start the plan's execution.

    Returns:
        The plan and the new execution (None on a dry run).

    Raises:
        ValidationFailed: A bad command or context, or a plan the engine refuses.
        PlanningFailed: The copilot cannot or may not plan the command.
    """
    if dry_run:
        return await plan_command(services, command, caller, options), None
    plan, request = await prepare_command(services, command, caller, options)
    record, _ = await services.workflows.execute(request)
    return plan, record


async def prepare_command(
    services: Services,
    command: str,
    caller: CopilotCaller,
    options: CopilotOptions,
) -> tuple[Plan, ExecuteRequest]:
    """Plan a command and make the request that runs it, with the ``copilot.execute``
    audit entry that the new execution's transaction writes.

    Raises:
        ValidationFailed: A bad command or context.
        PlanningFailed: The copilot cannot or may not plan the command.
    """
    plan, context = await _plan(services, command, caller, options)
    request = ExecuteRequest(
        tenant_id=caller.tenant_id,
        graph=plan.graph,
        variables=plan.variables,
        actor=caller.actor,
        role=caller.role,
        metadata={
            "source": "copilot",
            "via": caller.via,
            "copilot": plan_metadata(command, plan, context),
        },
        audit=_audit(services, caller, "copilot.execute", command, plan, options),
        made_from_template=plan.template_id,
    )
    return plan, request


async def _plan(
    services: Services, command: str, caller: CopilotCaller, options: CopilotOptions
) -> tuple[Plan, PlanContext]:
    try:
        context = plan_context(command, caller, options)
        return await services.planner.plan(command, context), context
    except PlanningFailed as exc:
        # Refusals are kept too: they show what was tried (e.g. to widen rights).
        await _record(
            services,
            _audit(
                services,
                caller,
                "copilot.plan",
                command,
                None,
                options,
                result="denied",
                reason=str(exc),
            ),
        )
        raise


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
        "model_calls": plan.model_calls,
        "tokens": plan.tokens,
        "repairs": [list(r) for r in plan.repairs],
        "reference_date": context.reference_date.isoformat(),
        "timezone": context.timezone,
        "user_id": context.user_id,
    }


def _audit(
    services: Services,
    caller: CopilotCaller,
    action: str,
    command: str,
    plan: Plan | None,
    options: CopilotOptions,
    *,
    result: str = "success",
    reason: str | None = None,
) -> AuditEntry | None:
    if not services.settings.agent_audit_enabled:
        return None
    details: dict[str, Any] = {
        "command": command[:MAX_COMMAND_CHARS],
        "template": plan.template_id if plan else None,
        "planner": plan.planner if plan else None,
        "via": caller.via,
    }
    if plan is not None and plan.warnings:
        details["warnings"] = list(plan.warnings)
    if reason is not None:
        details["reason"] = reason
    if options.user_id:
        details["context_user_id"] = options.user_id
    return AuditEntry(
        tenant_id=caller.tenant_id,
        action=action,
        user_id=caller.actor,
        resource_type="execution" if action == "copilot.execute" else "copilot",
        details=details,
        ip_address=caller.ip_address,
        result=result,
        request_id=caller.request_id,
    )


async def _record(services: Services, entry: AuditEntry | None) -> None:
    if entry is not None:
        await services.audit.record(entry)
