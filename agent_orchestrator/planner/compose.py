"""From a planner's draft to a validated plan: one piece of code for both planners.

A planner decides *what* to do (`PlanDraft`: a template, a period in words, a file, a
format, recipients); this module resolves the period into dates, fills and checks the
template's variables, appends the notification step when the result is to be sent,
keeps every agent above the caller's role out of the plan, and runs the one workflow
validator (DESIGN.md "Workflow graph"). Its `ValidationFailed` propagates unchanged, so
that the OpenAI planner can feed the problems back to the model.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING, Any

from email_validator import EmailNotValidError, validate_email

from ..core.approvals import APPROVAL_AGENT, approval_gaps
from ..core.enums import Role
from ..core.errors import PlanningFailed
from ..core.graph import parse_graph
from ..core.validation import resolve_variables, validate_workflow
from ..finnish import date as format_date
from ..finnish import period as format_period
from . import messages
from .messages import language_of, refusal, text
from .model import PeriodKind, PeriodSpec, Plan, PlanContext, PlanDraft
from .periods import PeriodError, resolve_period

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

    from pydantic import BaseModel

    from ..core.protocols import AgentCatalogue
    from ..core.templates import WorkflowTemplate

__all__ = ["FORMATS", "NOTIFY_AGENT", "NOTIFY_STEP", "RUN_ROLE", "compose_plan"]

RUN_ROLE = Role.OPERATOR  # the lowest role that may run a workflow (Permission.RUN)
NOTIFY_STEP = "notify"
NOTIFY_AGENT = "notification_agent"
FORMATS = ("markdown", "csv", "pdf", "json", "xlsx")
FILE_VARIABLES = ("receipt_file", "invoice_file")
PERIOD_VARIABLES = ("period_start", "period_end")
_FORMAT_ALIASES = {"md": "markdown", "text": "markdown", "txt": "markdown"}


def compose_plan(
    draft: PlanDraft,
    context: PlanContext,
    templates: Mapping[str, WorkflowTemplate],
    catalogue: AgentCatalogue,
    *,
    planner: str,
    command_language: str | None = None,
    warnings: Iterable[str] = (),
    model_calls: int = 0,
    tokens: int = 0,
    repairs: Iterable[Sequence[str]] = (),
) -> Plan:
    """Turn `draft` into a validated, executable plan.

    Args:
        draft: What the planner decided.
        context: Who asks and the reference date for period words.
        templates: The shipped templates by id.
        catalogue: The registered agents.
        planner: ``offline`` or ``openai``.
        command_language: The command's language when known (else the draft's).
        warnings: Notes to pass on (e.g. that the model failed and the offline planner
            answered).
        model_calls: Calls made to a model for this plan.
        tokens: Tokens the model used.
        repairs: The validator's problems fed back to the model, per repair attempt.

    Returns:
        The plan, its graph validated for the caller's role.

    Raises:
        PlanningFailed: The draft is a refusal, the caller's role may not run
            workflows, the draft names an unknown template, lacks a file or period,
            has a bad format or e-mail address, or needs an agent the caller's role
            may not use; the message is in the command's language.
        ValidationFailed: The composed graph does not pass the workflow validator.
    """
    language = language_of(command_language or draft.language or context.language)
    if draft.refusal:
        raise PlanningFailed(draft.refusal)
    if context.role is not None and not context.role.includes(RUN_ROLE):
        # A plan is there to be run; running workflows needs this role whatever the
        # agents' own lowest roles are.
        raise PlanningFailed(
            text("role", language, role=context.role.value, needed=RUN_ROLE.value)
        )
    template = templates.get(draft.template_id or "")
    if template is None:
        raise PlanningFailed(
            refusal("unknown_template", language, template=draft.template_id or "")
            if draft.template_id
            else refusal("not_understood", language)
        )
    notes = list(warnings)
    name = _name(template, language)
    values = _variables(draft, context, template, catalogue, language, notes)
    recipients = normal_recipients(draft.recipients, language)

    document = template.graph.to_document()
    declared = document.setdefault("variables", {})
    for name, value in values.items():
        # The graph carries its resolved values as defaults: executable on its own.
        declared[name] = {**declared[name], "default": value}
    if recipients:
        if catalogue.get(NOTIFY_AGENT) is None:
            raise PlanningFailed(text("no_notification", language))
        document["steps"].append(
            _notify_step(template, document["steps"], recipients, language)
        )
    insert_approvals(document, context.require_approval_for, name, language)
    check_role(document["steps"], catalogue, context.role, language)

    graph = validate_workflow(
        document,
        catalogue,
        role=context.role,
        variables=values,
        require_approval_for=context.require_approval_for,
    )
    resolved = resolve_variables(graph, values)
    return Plan(
        template_id=template.id,
        variables=resolved,
        graph=graph.to_document(),
        explanation=_explain(template, resolved, recipients, language),
        planner=planner,
        language=language,
        warnings=tuple(notes),
        model_calls=model_calls,
        tokens=tokens,
        repairs=tuple(tuple(r) for r in repairs),
    )


def _variables(
    draft: PlanDraft,
    context: PlanContext,
    template: WorkflowTemplate,
    catalogue: AgentCatalogue,
    language: str,
    notes: list[str],
) -> dict[str, Any]:
    declared = template.graph.variables
    values: dict[str, Any] = {}
    if all(name in declared for name in PERIOD_VARIABLES):
        start, end = _period(draft, context, template, language)
        values["period_start"] = start.isoformat()
        values["period_end"] = end.isoformat()
    for name, value in draft.variables.items():
        if name in PERIOD_VARIABLES and name in values:
            continue
        if name not in declared:
            notes.append(text("ignored_variable", language, name=name))
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, str):
            value = value.strip()
        if name == "format":
            value = normal_format(value, _allowed(template, catalogue, name), language)
        else:
            allowed = _allowed(template, catalogue, name)
            if allowed and value not in allowed:
                raise PlanningFailed(
                    text(
                        "bad_value",
                        language,
                        value=value,
                        name=name,
                        allowed=", ".join(allowed),
                    )
                )
        values[name] = value
    for name, spec in declared.items():
        if spec.required and spec.default is None and name not in values:
            if name in FILE_VARIABLES:
                raise PlanningFailed(text(f"need_{name}", language))
            raise PlanningFailed(
                text(
                    "need_value",
                    language,
                    name=name,
                    description=spec.description or spec.type,
                )
            )
    return values


def _period(
    draft: PlanDraft,
    context: PlanContext,
    template: WorkflowTemplate,
    language: str,
) -> tuple[dt.date, dt.date]:
    spec = draft.period
    if spec is None:
        given = [draft.variables.get(name) for name in PERIOD_VARIABLES]
        if all(given):
            try:
                start, end = (dt.date.fromisoformat(str(v).strip()) for v in given)
            except ValueError as exc:
                raise PlanningFailed(
                    text("bad_period", language, detail=str(exc))
                ) from exc
            spec = PeriodSpec(kind=PeriodKind.EXPLICIT, start=start, end=end)
        else:
            what = _name(template, language)
            raise PlanningFailed(text("need_period", language, what=what))
    try:
        return resolve_period(spec, context.reference_date)
    except PeriodError as exc:
        raise period_error(exc, language) from exc


def period_error(exc: PeriodError, language: str) -> PlanningFailed:
    """A period that cannot be resolved, said in `language`."""
    if exc.reason == "start_after_end" and exc.start and exc.end:
        return PlanningFailed(
            text(
                "start_after_end",
                language,
                start=format_date(exc.start),
                end=format_date(exc.end),
            )
        )
    return PlanningFailed(text("bad_period", language, detail=str(exc)))


def _allowed(
    template: WorkflowTemplate, catalogue: AgentCatalogue, name: str
) -> tuple[str, ...]:
    """The values an agent input fed by ``${vars.<name>}`` accepts (its JSON enum)."""
    reference = f"${{vars.{name}}}"
    for step in template.graph.steps:
        agent = catalogue.get(step.agent or "")
        if agent is None:
            continue
        for field, value in step.inputs.items():
            if value == reference and (found := _field_enum(agent.input_model, field)):
                return found
    return FORMATS if name == "format" else ()


def agent_enum(catalogue: AgentCatalogue, agent_id: str, field: str) -> tuple[str, ...]:
    """The values an agent's input `field` accepts (its JSON enum), or ()."""
    agent = catalogue.get(agent_id)
    return () if agent is None else _field_enum(agent.input_model, field)


@functools.cache
def _field_enum(model: type[BaseModel], field: str) -> tuple[str, ...]:
    schema = model.model_json_schema()
    return _enum(schema, schema.get("properties", {}).get(field, {}))


def _enum(root: Mapping[str, Any], schema: Mapping[str, Any]) -> tuple[str, ...]:
    if "$ref" in schema:
        schema = root.get("$defs", {}).get(str(schema["$ref"]).rsplit("/", 1)[-1], {})
    if "enum" in schema:
        return tuple(str(v) for v in schema["enum"])
    if "const" in schema:
        return (str(schema["const"]),)
    out: list[str] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, []):
            out.extend(_enum(root, branch))
    return tuple(out)


def normal_format(value: Any, allowed: Sequence[str], language: str) -> str:
    """`value` as one of the `allowed` formats (``md`` is markdown), or a refusal."""
    normal = str(value).strip().lower().lstrip(".")
    normal = _FORMAT_ALIASES.get(normal, normal)
    if normal not in allowed:
        raise PlanningFailed(
            text("bad_format", language, value=value, allowed=", ".join(allowed))
        )
    return normal


def normal_recipients(addresses: Iterable[str], language: str) -> list[str]:
    """The addresses checked and normalised, each once, or a refusal."""
    out: list[str] = []
    seen: set[str] = set()
    for address in addresses:
        try:
            checked = validate_email(address.strip(), check_deliverability=False)
        except EmailNotValidError as exc:
            raise PlanningFailed(
                text("bad_email", language, address=address, reason=str(exc))
            ) from exc
        if checked.normalized.lower() not in seen:
            seen.add(checked.normalized.lower())
            out.append(checked.normalized)
    return out


def _notify_step(
    template: WorkflowTemplate,
    steps: Sequence[Mapping[str, Any]],
    recipients: list[str],
    language: str,
) -> dict[str, Any]:
    """The notification step after the template's last step(s)."""
    ids = [step["id"] for step in steps]
    needed = set().union(*template.graph.dependencies().values())
    last = [step_id for step_id in ids if step_id not in needed] or ids[-1:]
    name = _name(template, language)
    hint = template.notify
    if hint is not None:
        pick = "fi" if language == "fi" else "en"
        subject = getattr(hint.subject, pick)
        body = getattr(hint.body, pick)
        attachments = list(hint.attachments)
    else:
        subject = text("default_subject", language, name=name)
        body = text("default_body", language, name=name)
        attachments = []
    step_id = NOTIFY_STEP
    while step_id in ids:
        step_id += "_"
    inputs: dict[str, Any] = {
        "recipients": recipients,
        "subject": subject,
        "body": body,
        "attachments": attachments,
    }
    if hint is not None and hint.data is not None:
        inputs["data"] = hint.data
    return {
        "id": step_id,
        "agent": NOTIFY_AGENT,
        "inputs": inputs,
        "depends_on": last,
    }


def insert_approvals(
    document: dict[str, Any],
    guarded: Collection[str],
    name: str,
    language: str,
    *,
    agents_of: Callable[[Mapping[str, Any]], Sequence[str]] | None = None,
) -> None:
    """Put an approval step before every step the policy guards
    (``AGENT_REQUIRE_APPROVAL_FOR``) that lacks one: it waits for what the step
    waits for, and the step waits for it. The planner cannot leave it out: the
    validator refuses the plan without it."""
    if not guarded:
        return
    steps: list[dict[str, Any]] = document["steps"]
    dependencies = parse_graph(document).dependencies()
    agents = agents_of or _own_agent
    gaps = approval_gaps(
        {
            step["id"]: (
                next((a for a in agents(step) if a in guarded), step.get("agent", "")),
                dependencies[step["id"]],
                bool(step.get("when")),
            )
            for step in steps
        },
        guarded,
    )
    ids = {step["id"] for step in steps}
    for step_id, agent in gaps:
        approval_id = f"approve_{step_id}"
        while approval_id in ids:
            approval_id += "_"
        ids.add(approval_id)
        position = next(i for i, s in enumerate(steps) if s["id"] == step_id)
        step = steps[position]
        inputs = {
            "title": text("approval_title", language, name=name),
            "details": text("approval_details", language, agent=agent, step=step_id),
        }
        recipients = step.get("inputs", {}).get("recipients")
        if agent == NOTIFY_AGENT and isinstance(recipients, list):
            inputs["details"] += " " + ", ".join(str(r) for r in recipients)
        steps.insert(
            position,
            {
                "id": approval_id,
                "agent": APPROVAL_AGENT,
                "inputs": inputs,
                "depends_on": sorted(dependencies[step_id]),
            },
        )
        step["depends_on"] = [*step.get("depends_on", []), approval_id]


def check_role(
    steps: Sequence[Mapping[str, Any]],
    catalogue: AgentCatalogue,
    role: Role | None,
    language: str,
    agents_of: Callable[[Mapping[str, Any]], Sequence[str]] | None = None,
) -> None:
    """Refuse, in words, a plan that holds an agent the caller's role may not use."""
    if role is None:
        return
    agents = agents_of or _own_agent
    needed = [
        agent.min_role
        for agent in (catalogue.get(a) for step in steps for a in agents(step))
        if agent is not None and not role.includes(agent.min_role)
    ]
    if needed:
        highest = max(needed, key=lambda r: r.rank)
        raise PlanningFailed(
            text("role", language, role=role.value, needed=highest.value)
        )


def _own_agent(step: Mapping[str, Any]) -> list[str]:
    return [str(step["agent"])] if step.get("agent") else []


def _explain(
    template: WorkflowTemplate,
    values: Mapping[str, Any],
    recipients: Sequence[str],
    language: str,
) -> str:
    name = _name(template, language)
    if language in ("fi", "en"):
        description = getattr(template.description, language).rstrip(".")
        name = f"{name} ({description})" if description else name
    parts = [text("will_do", language, name=name)]
    if values.get("period_start") and values.get("period_end"):
        period = format_period(
            dt.date.fromisoformat(values["period_start"]),
            dt.date.fromisoformat(values["period_end"]),
        )
        parts.append(text("period", language, period=period))
    parts.extend(
        text("file", language, file=values[name_])
        for name_ in FILE_VARIABLES
        if values.get(name_)
    )
    if values.get("format"):
        shown = str(values["format"])
        shown = shown.capitalize() if shown == "markdown" else shown.upper()
        parts.append(text("format", language, format=shown))
    if recipients:
        parts.append(text("send", language, recipients=", ".join(recipients)))
    return " ".join(parts)


def _name(template: WorkflowTemplate, language: str) -> str:
    """The template's name in `language` (its own name if we have none for it)."""
    own = template.name.fi if language == "fi" else template.name.en
    return messages.template_name(template.id, language, own)
