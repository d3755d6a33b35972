"""From an intent list to a validated plan: the one composer both planners use.

A planner reads a command into an `IntentPlan` (planner/intents.py); this module, code
and not the model, turns it into a workflow graph: a one-template plan is built as the
template itself (`compose_plan`, `templateId` set); anything more is composed from
sub-workflows (the receipt and invoice templates), `files_agent` and `for_each` for a
folder, the VAT and report agents, approvals, notifications and `when` conditions.
Periods are resolved here (or, in a scheduled plan, written as
``${period.<name>.start}`` for each run to resolve), a named schedule becomes a cron
expression, and the workflow validator checks the result; its `ValidationFailed`
propagates unchanged so that the OpenAI planner can feed the problems to the model.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..core.approvals import APPROVAL_AGENT
from ..core.enums import Role
from ..core.errors import PlanningFailed
from ..core.subworkflows import resolver
from ..core.validation import validate_workflow
from ..finnish import euros, whole_euros
from ..finnish import period as format_period
from .compose import (
    NOTIFY_AGENT,
    RUN_ROLE,
    agent_enum,
    check_role,
    compose_plan,
    insert_approvals,
    normal_format,
    normal_recipients,
    period_error,
)
from .intents import (
    Comparison,
    Frequency,
    Intent,
    IntentPlan,
    Measure,
    RefusalReason,
    ScheduleSpec,
    Task,
)
from .messages import language_of, refusal, template_name, text
from .model import PeriodSpec, Plan, PlanContext, PlanDraft, PlannedSchedule
from .periods import ROLLING, PeriodError, resolve_period

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from ..core.protocols import AgentCatalogue
    from ..core.templates import WorkflowTemplate

__all__ = ["compose_intents", "cron_of"]

_NAME_OF_KIND = {kind: name for name, kind in ROLLING.items()}
DEFAULT_HOUR = 8
MAX_CONCURRENCY = 4

_DOCUMENT = {
    Task.PROCESS_RECEIPTS: ("receipt_processing", "receipt_file", "receipt"),
    Task.PROCESS_INVOICES: ("invoice_processing", "invoice_file", "invoice"),
}
_WORK = {Task.PROCESS_RECEIPTS, Task.PROCESS_INVOICES, Task.VAT_REPORT}
_WORK |= {Task.FINANCIAL_REPORT}
_MEASURED_BY = {
    Measure.VAT_PAYABLE: {Task.VAT_REPORT},
    Measure.VAT_REFUND: {Task.VAT_REPORT},
    Measure.DOCUMENT_TOTAL: {Task.PROCESS_RECEIPTS, Task.PROCESS_INVOICES},
    Measure.INCOME: {Task.FINANCIAL_REPORT},
    Measure.EXPENSES: {Task.FINANCIAL_REPORT},
    Measure.RESULT: {Task.FINANCIAL_REPORT},
}
_OPERATOR = {
    Comparison.ABOVE: ">",
    Comparison.AT_LEAST: ">=",
    Comparison.BELOW: "<",
    Comparison.AT_MOST: "<=",
}
_FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">="}
_ROLE_WORDS = {
    "admin": Role.ADMIN,
    "administrator": Role.ADMIN,
    "ylläpitäjä": Role.ADMIN,
    "pääkäyttäjä": Role.ADMIN,
    "järjestelmänvalvoja": Role.ADMIN,
    "operator": Role.OPERATOR,
    "operaattori": Role.OPERATOR,
}
_MEASURE_WORDS = {
    "fi": {
        Measure.VAT_PAYABLE: "maksettava ALV",
        Measure.VAT_REFUND: "palautettava ALV",
        Measure.DOCUMENT_TOTAL: "asiakirjan summa",
        Measure.INCOME: "tulot",
        Measure.EXPENSES: "kulut",
        Measure.RESULT: "tulos",
    },
    "en": {
        Measure.VAT_PAYABLE: "the VAT payable",
        Measure.VAT_REFUND: "the VAT refund",
        Measure.DOCUMENT_TOTAL: "the document's total",
        Measure.INCOME: "the income",
        Measure.EXPENSES: "the expenses",
        Measure.RESULT: "the result",
    },
    "sv": {
        Measure.VAT_PAYABLE: "momsen att betala",
        Measure.VAT_REFUND: "momsen att återfå",
        Measure.DOCUMENT_TOTAL: "dokumentets summa",
        Measure.INCOME: "intäkterna",
        Measure.EXPENSES: "kostnaderna",
        Measure.RESULT: "resultatet",
    },
}
_COMPARISON_WORDS = {
    "fi": {">": "yli", ">=": "vähintään", "<": "alle", "<=": "enintään"},
    "en": {">": "over", ">=": "at least", "<": "under", "<=": "at most"},
    "sv": {">": "över", ">=": "minst", "<": "under", "<=": "högst"},
}
_WEEKDAYS = {
    "fi": ("", "maanantai", "tiistai", "keskiviikko", "torstai", "perjantai",
           "lauantai", "sunnuntai"),
    "en": ("", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
           "Sunday"),
    "sv": ("", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"),
}  # fmt: skip
_MONTHS = {
    "fi": ("", "tammikuun", "helmikuun", "maaliskuun", "huhtikuun", "toukokuun",
           "kesäkuun", "heinäkuun", "elokuun", "syyskuun", "lokakuun", "marraskuun",
           "joulukuun"),
    "en": ("", "January", "February", "March", "April", "May", "June", "July",
           "August", "September", "October", "November", "December"),
    "sv": ("", "januari", "februari", "mars", "april", "maj", "juni", "juli",
           "augusti", "september", "oktober", "november", "december"),
}  # fmt: skip


def compose_intents(
    intents: IntentPlan,
    context: PlanContext,
    templates: Mapping[str, WorkflowTemplate],
    catalogue: AgentCatalogue,
    *,
    planner: str,
    warnings: Iterable[str] = (),
    model_calls: int = 0,
    tokens: int = 0,
    repairs: Iterable[Sequence[str]] = (),
) -> Plan:
    """Turn `intents` into a validated, executable plan.

    Raises:
        PlanningFailed: A refusal, nothing to do, a part that cannot be composed
            (a condition with nothing to read, a fixed period in a schedule, a
            role too low), in the command's language.
        ValidationFailed: The composed graph does not pass the workflow validator.
    """
    language = language_of(intents.language or context.language)
    notes = [*warnings, *intents.warnings]
    if intents.refusal is not None:
        raise PlanningFailed(_refusal_text(intents, language))
    if not intents.intents:
        raise PlanningFailed(refusal("not_understood", language))
    if context.role is not None and not context.role.includes(RUN_ROLE):
        raise PlanningFailed(
            text("role", language, role=context.role.value, needed=RUN_ROLE.value)
        )
    draft = _as_draft(intents)
    if draft is not None:
        return compose_plan(
            draft,
            context,
            templates,
            catalogue,
            planner=planner,
            command_language=language,
            warnings=notes,
            model_calls=model_calls,
            tokens=tokens,
            repairs=repairs,
        )
    builder = _Builder(intents, context, templates, catalogue, language, notes)
    document, variables, lines = builder.build()
    insert_approvals(
        document,
        context.require_approval_for,
        text("composed_name", language),
        language,
        agents_of=builder.agents_of,
    )
    check_role(document["steps"], catalogue, context.role, language, builder.agents_of)
    graph = validate_workflow(
        document,
        catalogue,
        role=context.role,
        variables=variables,
        require_approval_for=context.require_approval_for,
        resolve=resolver(
            {(t.id, None, None): (t.graph, None) for t in templates.values()}
        ),
    )
    schedule = None
    if intents.schedule is not None:
        schedule = _planned_schedule(intents.schedule, language, notes)
        lines.insert(0, text("schedule_line", language, when=schedule.description,
                             timezone=schedule.timezone))  # fmt: skip
    explanation = " ".join(
        line if i == 0 and schedule is not None else f"{i + (schedule is None)}. {line}"
        for i, line in enumerate(lines)
    )
    return Plan(
        template_id=None,
        variables=variables,
        graph=graph.to_document(),
        explanation=explanation,
        planner=planner,
        language=language,
        warnings=tuple(dict.fromkeys(notes)),
        model_calls=model_calls,
        tokens=tokens,
        repairs=tuple(tuple(r) for r in repairs),
        schedule=schedule,
    )


def _refusal_text(intents: IntentPlan, language: str) -> str:
    assert intents.refusal is not None
    reason, quote = intents.refusal.reason, intents.refusal.quote
    if quote and reason is RefusalReason.NOT_UNDERSTOOD:
        return refusal("part_not_understood", language, quote=quote.strip())
    if quote and reason is RefusalReason.OFF_TOPIC:
        return refusal("part_off_topic", language, quote=quote.strip())
    key = "not_understood" if reason is RefusalReason.NOT_UNDERSTOOD else reason.value
    return refusal(key, language)


def _as_draft(intents: IntentPlan) -> PlanDraft | None:
    """The plan as one template plus a notification, when that is all it is."""
    if intents.schedule is not None or not 1 <= len(intents.intents) <= 2:
        return None
    work, *rest = intents.intents
    if work.task not in _WORK or work.condition is not None or work.after:
        return None
    if work.documents is not None and work.documents.is_batch:
        return None
    recipients: list[str] = []
    if rest:
        send = rest[0]
        if send.task is not Task.SEND or send.condition is not None:
            return None
        if send.after not in (None, [0]):
            return None
        recipients = send.recipients
    variables: dict[str, Any] = {}
    if work.task in _DOCUMENT:
        template_id, variable, _ = _DOCUMENT[work.task]
        if work.documents is not None and work.documents.file:
            variables[variable] = work.documents.file
    else:
        template_id = work.task.value
        if work.format:
            variables["format"] = work.format
    return PlanDraft(
        template_id=template_id,
        period=work.period,
        variables=variables,
        recipients=recipients,
        language=intents.language,
    )


@dataclasses.dataclass(slots=True)
class _Placed:
    """Where an intent landed in the graph."""

    first: str  # the step that waits for the intent's dependencies
    last: str  # the step whose output is the intent's result
    task: Task
    name: str = ""  # what it makes, for a notification's words
    period: tuple[str, str] | None = None  # ${vars...} references of its dates
    sends: tuple[str, str] = ("", "")  # subject and body fragments for a notification
    attachments: tuple[str, ...] = ()
    data: Mapping[str, str] = dataclasses.field(default_factory=dict)


class _Builder:
    """Builds one composed graph (steps, variables) and its explanation lines."""

    def __init__(
        self,
        intents: IntentPlan,
        context: PlanContext,
        templates: Mapping[str, WorkflowTemplate],
        catalogue: AgentCatalogue,
        language: str,
        notes: list[str],
    ) -> None:
        self.intents = intents.intents
        self.scheduled = intents.schedule is not None
        self.context = context
        self.templates = templates
        self.catalogue = catalogue
        self.language = language
        self.notes = notes
        self.steps: list[dict[str, Any]] = []
        self.declared: dict[str, dict[str, Any]] = {}
        self.values: dict[str, Any] = {}
        self.lines: list[str] = []
        self.placed: list[_Placed] = []
        self.template_of: dict[str, str] = {}

    def agents_of(self, step: Mapping[str, Any]) -> list[str]:
        """The agents a step runs (a template sub-workflow's steps' agents)."""
        if step.get("agent"):
            return [str(step["agent"])]
        template = self.templates.get(self.template_of.get(str(step.get("id")), ""))
        if template is None:
            return []
        return [s.agent for s in template.graph.steps if s.agent]

    def build(self) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
        for index, intent in enumerate(self.intents):
            waits = self._waits(index, intent)
            placed = self._place(index, intent, waits)
            self.placed.append(placed)
        document: dict[str, Any] = {"steps": self.steps}
        if self.declared:
            document["variables"] = self.declared
        return document, self.values, self.lines

    # --- order ----------------------------------------------------------------------

    def _waits(self, index: int, intent: Intent) -> list[int]:
        after = intent.after if intent.after is not None else [index - 1]
        waits = sorted({i for i in after if 0 <= i < index})
        source = self._source(index, intent) if intent.condition else None
        if source is not None and source not in waits:
            waits.append(source)
        return waits

    def _source(self, index: int, intent: Intent) -> int:
        condition = intent.condition
        assert condition is not None
        wanted = _MEASURED_BY[condition.measure]
        if condition.source is not None and condition.source < index:
            candidates = [condition.source]
        else:
            candidates = list(range(index - 1, -1, -1))
        for i in candidates:
            if self.intents[i].task in wanted:
                return i
        measure = _MEASURE_WORDS[self.language][condition.measure]
        raise PlanningFailed(text("no_measure", self.language, measure=measure))

    def _depends(self, waits: Sequence[int]) -> list[str]:
        return [self.placed[i].last for i in waits]

    # --- steps ------------------------------------------------------------------------

    def _id(self, base: str) -> str:
        taken = {step["id"] for step in self.steps}
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        return candidate

    def _add(self, step: dict[str, Any], waits_on: Sequence[str]) -> str:
        step["id"] = self._id(step["id"])
        depends = list(dict.fromkeys([*waits_on, *step.get("depends_on", [])]))
        if depends:
            step["depends_on"] = depends
        else:
            step.pop("depends_on", None)
        self.steps.append(step)
        return str(step["id"])

    def _place(self, index: int, intent: Intent, waits: list[int]) -> _Placed:
        depends = self._depends(waits)
        if intent.task in _DOCUMENT:
            placed = self._document(intent, depends)
        elif intent.task is Task.VAT_REPORT:
            placed = self._vat(intent, depends)
        elif intent.task is Task.FINANCIAL_REPORT:
            placed = self._report(intent, depends)
        elif intent.task is Task.APPROVE:
            placed = self._approve(index, intent, depends)
        else:
            placed = self._send(index, intent, waits, depends)
        if intent.condition is not None:
            self._condition(index, intent, placed)
        return placed

    def _document(self, intent: Intent, depends: list[str]) -> _Placed:
        template_id, variable, base = _DOCUMENT[intent.task]
        name = template_name(template_id, self.language)
        documents = intent.documents
        if documents is None:
            raise PlanningFailed(text(f"need_{variable}", self.language))
        if documents.file is not None:
            step_id = self._add(
                {
                    "id": base,
                    "workflow": {"template": template_id},
                    "inputs": {variable: documents.file.strip().lstrip("./")},
                },
                depends,
            )
            self.template_of[step_id] = template_id
            self.lines.append(
                text(
                    "step_document",
                    self.language,
                    name=_upper(name),
                    file=documents.file,
                )  # fmt: skip
            )
            subject = f"{_upper(name)}: ${{steps.{step_id}.{base}.merchant}} "
            subject += f"${{steps.{step_id}.{base}.total}} €"
            return _Placed(
                step_id,
                step_id,
                intent.task,
                name,
                sends=(subject, f"{documents.file}: {subject}"),
                data={base: f"${{steps.{step_id}.{base}}}"},
            )
        folder = documents.folder.strip().strip("/") if documents.folder else ""
        folder = folder.removeprefix("./")
        inputs: dict[str, Any] = {"folder": folder}
        narrow = ""
        if documents.pattern:
            inputs["pattern"] = documents.pattern
            narrow += text("narrow_pattern", self.language, pattern=documents.pattern)
        if documents.added is not None:
            start, end = self._period(documents.added, "added")
            inputs["modified_from"] = start
            inputs["modified_to"] = end
            narrow += text(
                "narrow_added", self.language, period=self._shown(start, end)
            )
        files = self._add(
            {"id": "files", "agent": "files_agent", "inputs": inputs}, depends
        )
        self.lines.append(
            text("step_files", self.language, folder=folder, narrow=narrow)
        )
        each = self._add(
            {
                "id": f"{base}s",
                "for_each": f"${{steps.{files}.files}}",
                "max_concurrency": MAX_CONCURRENCY,
                "workflow": {"template": template_id},
                "inputs": {variable: "${item}"},
                "depends_on": [files],
            },
            [],
        )
        self.template_of[each] = template_id
        self.lines.append(
            text("step_each", self.language, name=name, count=MAX_CONCURRENCY)
        )
        words = {"fi": "Käsitellyt tiedostot", "en": "Files processed",
                 "sv": "Behandlade filer"}[self.language]  # fmt: skip
        line = f"{words} ({folder}): ${{steps.{files}.count}}"
        return _Placed(
            files,
            each,
            intent.task,
            name,
            sends=(f"{_upper(name)}: {folder}", line),
            data={"files": f"${{steps.{files}.files}}"},
        )

    def _vat(self, intent: Intent, depends: list[str]) -> _Placed:
        step_id = self._id("vat")
        start, end = self._period(intent.period, step_id, "vat_report")
        self._add(
            {
                "id": step_id,
                "agent": "vat_agent",
                "inputs": {"period_start": start, "period_end": end},
            },
            depends,
        )
        shown = self._shown(start, end)
        self.lines.append(text("step_vat", self.language, period=shown))
        name = template_name("vat_report", self.language)
        payable = f"${{steps.{step_id}.payable}}"
        subject = (
            f"{name} {shown}: "
            + {
                "fi": f"maksettava {payable} €",
                "en": f"payable EUR {payable}",
                "sv": f"att betala {payable} €",
            }[self.language]
        )
        return _Placed(
            step_id,
            step_id,
            intent.task,
            name,
            sends=(subject, f"${{steps.{step_id}.summary}}"),
            data={"rates": f"${{steps.{step_id}.rates}}", "payable": payable},
        )

    def _report(self, intent: Intent, depends: list[str]) -> _Placed:
        step_id = self._id("report")
        start, end = self._period(intent.period, step_id, "financial_report")
        fmt = normal_format(intent.format or "markdown", self._formats(), self.language)
        self._add(
            {
                "id": step_id,
                "agent": "report_agent",
                "inputs": {"period_start": start, "period_end": end, "format": fmt},
            },
            depends,
        )
        shown = self._shown(start, end)
        pretty = fmt.capitalize() if fmt == "markdown" else fmt.upper()
        self.lines.append(
            text("step_report", self.language, period=shown, format=pretty)
        )
        name = template_name("financial_report", self.language)
        return _Placed(
            step_id,
            step_id,
            intent.task,
            name,
            sends=(f"{_upper(name)} {shown}", f"${{steps.{step_id}.summary}}"),
            attachments=(f"${{steps.{step_id}.artifact_id}}",),
        )

    def _approve(self, index: int, intent: Intent, depends: list[str]) -> _Placed:
        role = Role.ADMIN
        who = ""
        if intent.approver:
            named = _ROLE_WORDS.get(intent.approver.strip().lower())
            if named is not None:
                role = named
            else:
                who = intent.approver.strip()
                self.notes.append(
                    text("person_approver", self.language, who=who, role=role.value)
                )
        guarded = [self.placed[i].name for i in range(len(self.placed))]
        what = ", ".join(dict.fromkeys(n for n in guarded if n)) or text(
            "composed_name", self.language
        )
        details = intent.text.strip() or what
        if who:
            details += f" ({who})"
        step_id = self._add(
            {
                "id": "approve",
                "agent": APPROVAL_AGENT,
                "inputs": {
                    "title": text("approval_title", self.language, name=what),
                    "details": details,
                    "approver_role": role.value,
                },
            },
            depends,
        )
        shown_who = f", {who}" if who else ""
        self.lines.append(
            text("step_approve", self.language, role=role.value, who=shown_who)
        )
        return _Placed(step_id, step_id, intent.task)

    def _send(
        self, index: int, intent: Intent, waits: list[int], depends: list[str]
    ) -> _Placed:
        if self.catalogue.get(NOTIFY_AGENT) is None:
            raise PlanningFailed(text("no_notification", self.language))
        recipients = normal_recipients(intent.recipients, self.language)
        if not recipients:
            raise PlanningFailed(text("need_recipient", self.language))
        sent, approved = self._sent(waits)
        if not sent:
            raise PlanningFailed(text("nothing_to_send", self.language))
        subject = " / ".join(self.placed[i].sends[0] for i in sent)
        body = "\n\n".join(self.placed[i].sends[1] for i in sent)
        attachments = [a for i in sent for a in self.placed[i].attachments]
        data = {k: v for i in sent for k, v in self.placed[i].data.items()}
        inputs: dict[str, Any] = {
            "recipients": recipients,
            "subject": subject[:900],
            "body": body,
            "attachments": attachments,
        }
        if data:
            inputs["data"] = data
        step_id = self._add(
            {"id": "notify", "agent": NOTIFY_AGENT, "inputs": inputs}, depends
        )
        what = " + ".join(self.placed[i].name for i in sent)
        after = text("after_approval", self.language) if approved else ""
        self.lines.append(
            text(
                "step_send",
                self.language,
                what=what,
                recipients=", ".join(recipients),
                after=after,
            )  # fmt: skip
        )
        return _Placed(step_id, step_id, intent.task)

    def _sent(self, waits: Sequence[int]) -> tuple[list[int], bool]:
        """The work intents a notification sends (through approvals), and whether
        an approval stands between."""
        sent: list[int] = []
        approved = False
        pending = list(waits)
        seen: set[int] = set()
        while pending:
            i = pending.pop(0)
            if i in seen:
                continue
            seen.add(i)
            intent = self.intents[i]
            if intent.task in _WORK:
                sent.append(i)
            elif intent.task is Task.APPROVE:
                approved = True
                pending.extend(self._waits(i, intent))
            elif intent.task is Task.SEND:
                pending.extend(self._waits(i, intent))
        return sorted(sent), approved

    def _condition(self, index: int, intent: Intent, placed: _Placed) -> None:
        condition = intent.condition
        assert condition is not None
        source = self.placed[self._source(index, intent)]
        if condition.measure is Measure.DOCUMENT_TOTAL:
            if source.first != source.last:
                raise PlanningFailed(text("batch_total", self.language))
            base = _DOCUMENT[source.task][2]
            reference = f"${{steps.{source.last}.{base}.total}}"
        elif condition.measure in (Measure.VAT_PAYABLE, Measure.VAT_REFUND):
            reference = f"${{steps.{source.last}.payable}}"
        else:
            reference = f"${{steps.{source.last}.totals.{condition.measure.value}}}"
        operator = _OPERATOR[condition.comparison]
        amount = condition.amount if condition.amount is not None else 0
        number = float(amount) if amount != int(amount) else int(amount)
        if condition.measure is Measure.VAT_REFUND:
            # A refund is a negative payable: "over 100 back" is payable < -100.
            expression = f"{reference} {_FLIPPED[operator]} {-number}"
        else:
            expression = f"{reference} {operator} {number}"
        if condition.otherwise:
            expression = f"not ({expression})"
        step = next(s for s in self.steps if s["id"] == placed.first)
        step["when"] = expression
        measure = _MEASURE_WORDS[self.language][condition.measure]
        shown = _money(amount)
        key = "when_otherwise" if condition.otherwise else "when_clause"
        comparison = _COMPARISON_WORDS[self.language][operator]
        clause = text(key, self.language, measure=measure, comparison=comparison,
                      amount=shown)  # fmt: skip
        self.lines[-1] = self.lines[-1].rstrip(".") + clause + "."

    # --- values ---------------------------------------------------------------------

    def _formats(self) -> tuple[str, ...]:
        return agent_enum(self.catalogue, "report_agent", "format")

    def _period(
        self, spec: PeriodSpec | None, owner: str, template_id: str | None = None
    ) -> tuple[str, str]:
        """The period's two input values: ``${vars.<owner>_start}`` references to
        declared variables holding ISO dates (or, scheduled, ``${period...}``)."""
        if spec is None:
            what = template_name(template_id or "financial_report", self.language)
            raise PlanningFailed(text("need_period", self.language, what=what))
        if self.scheduled:
            name = _NAME_OF_KIND.get(spec.kind)
            if name is None:
                start, end = self._resolve(spec)
                shown = format_period(start, end)
                raise PlanningFailed(
                    text("schedule_fixed_period", self.language, period=shown)
                )
            values = (f"${{period.{name}.start}}", f"${{period.{name}.end}}")
        else:
            start, end = self._resolve(spec)
            values = (start.isoformat(), end.isoformat())
        prefix = "period" if not self.declared else f"{owner}_period"
        names = (f"{prefix}_start", f"{prefix}_end")
        for existing_start, existing_end in _pairs(self.declared):
            if (
                self.values.get(existing_start),
                self.values.get(existing_end),
            ) == values:
                return f"${{vars.{existing_start}}}", f"${{vars.{existing_end}}}"
        for name, value, word in zip(names, values, ("First", "Last"), strict=True):
            self.declared[name] = {
                "type": "string" if self.scheduled else "date",
                "required": True,
                "default": value,
                "description": f"{word} day of the period, inclusive (YYYY-MM-DD).",
            }
            self.values[name] = value
        return f"${{vars.{names[0]}}}", f"${{vars.{names[1]}}}"

    def _resolve(self, spec: PeriodSpec) -> tuple[dt.date, dt.date]:
        try:
            return resolve_period(spec, self.context.reference_date)
        except PeriodError as exc:
            raise period_error(exc, self.language) from exc

    def _shown(self, start: str, end: str) -> str:
        """A period for people: "lokakuu 2026", or the rolling period's words."""
        values = [self.values.get(_var(start), start), self.values.get(_var(end), end)]
        try:
            first, last = (dt.date.fromisoformat(str(v)) for v in values)
        except ValueError:
            name = str(values[0]).removeprefix("${period.").split(".", 1)[0]
            return _ROLLING[self.language].get(name, name)
        return format_period(first, last)


_ROLLING = {
    "fi": {
        "previous_month": "edellinen kuukausi",
        "previous_quarter": "edellinen neljännes",
        "previous_year": "edellinen vuosi",
        "previous_week": "edellinen viikko",
        "month_to_date": "kuluva kuukausi",
        "year_to_date": "kuluva vuosi",
    },
    "en": {
        "previous_month": "the previous month",
        "previous_quarter": "the previous quarter",
        "previous_year": "the previous year",
        "previous_week": "the previous week",
        "month_to_date": "this month to date",
        "year_to_date": "this year to date",
    },
    "sv": {
        "previous_month": "föregående månad",
        "previous_quarter": "föregående kvartal",
        "previous_year": "föregående år",
        "previous_week": "föregående vecka",
        "month_to_date": "innevarande månad",
        "year_to_date": "innevarande år",
    },
}


def _var(value: str) -> str:
    return value.removeprefix("${vars.").removesuffix("}")


def _pairs(declared: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        (name, name.removesuffix("_start") + "_end")
        for name in declared
        if name.endswith("_start")
    ]


def _upper(name: str) -> str:
    return name[:1].upper() + name[1:]


def _money(amount: Any) -> str:
    """Euros in Finnish notation ("1 000 €", "1 000,50 €")."""
    value = Decimal(str(amount))
    return whole_euros(value) if value == value.to_integral_value() else euros(value)


# --- schedules ------------------------------------------------------------------------


def cron_of(spec: ScheduleSpec) -> str:
    """The five-field cron expression of a named schedule (read in its timezone)."""
    minute = spec.minute
    hour = spec.hour if spec.hour is not None else DEFAULT_HOUR
    day = spec.day_of_month or 1
    if spec.frequency is Frequency.DAILY:
        return f"{minute} {hour} * * *"
    if spec.frequency is Frequency.WEEKLY:
        days = ",".join(str(d) for d in sorted({d % 7 for d in spec.weekdays or [1]}))
        return f"{minute} {hour} * * {days}"
    if spec.frequency is Frequency.MONTHLY:
        return f"{minute} {hour} {day} * *"
    if spec.frequency is Frequency.QUARTERLY:
        return f"{minute} {hour} {day} 1,4,7,10 *"
    return f"{minute} {hour} {day} {spec.month or 1} *"


def _planned_schedule(
    spec: ScheduleSpec, language: str, notes: list[str]
) -> PlannedSchedule:
    if spec.hour is None:
        notes.append(text("default_hour", language, hour=DEFAULT_HOUR))
    hour = spec.hour if spec.hour is not None else DEFAULT_HOUR
    clock = (
        f"{hour}.{spec.minute:02d}" if language != "en" else f"{hour}:{spec.minute:02d}"
    )
    day = spec.day_of_month or 1
    weekdays = _WEEKDAYS[language]
    months = _MONTHS[language]
    frequency = spec.frequency
    if language == "fi":
        at = f"klo {clock}"
        if frequency is Frequency.DAILY:
            when = f"joka päivä {at}"
        elif frequency is Frequency.WEEKLY:
            names = ", ".join(weekdays[d] for d in sorted(set(spec.weekdays or [1])))
            when = f"joka viikko ({names}) {at}"
        elif frequency is Frequency.MONTHLY:
            when = f"joka kuun {day}. päivä {at}"
        elif frequency is Frequency.QUARTERLY:
            months_fi = "tammi-, huhti-, heinä- ja lokakuun"
            when = f"neljännesvuosittain ({months_fi} {day}. päivä) {at}"
        else:
            when = f"joka vuosi {months[spec.month or 1]} {day}. päivä {at}"
    elif language == "sv":
        at = f"kl. {clock}"
        if frequency is Frequency.DAILY:
            when = f"varje dag {at}"
        elif frequency is Frequency.WEEKLY:
            names = ", ".join(weekdays[d] for d in sorted(set(spec.weekdays or [1])))
            when = f"varje vecka ({names}) {at}"
        elif frequency is Frequency.MONTHLY:
            when = f"den {day} varje månad {at}"
        elif frequency is Frequency.QUARTERLY:
            when = f"varje kvartal (den {day} januari, april, juli, oktober) {at}"
        else:
            when = f"varje år den {day} {months[spec.month or 1]} {at}"
    else:
        at = f"at {clock}"
        if frequency is Frequency.DAILY:
            when = f"every day {at}"
        elif frequency is Frequency.WEEKLY:
            names = ", ".join(weekdays[d] for d in sorted(set(spec.weekdays or [1])))
            when = f"every week ({names}) {at}"
        elif frequency is Frequency.MONTHLY:
            when = f"on day {day} of every month {at}"
        elif frequency is Frequency.QUARTERLY:
            when = f"every quarter (day {day} of January, April, July, October) {at}"
        else:
            when = f"every year on {months[spec.month or 1]} {day} {at}"
    return PlannedSchedule(cron=cron_of(spec), timezone=spec.timezone, description=when)
