"""The model's answer format: a flat, strict-schema model of a `PlanDraft`.

OpenAI's structured outputs need a strict JSON schema: every property required, no
extra properties. A flat model meets that with nullable fields, and is easier for a
model to fill than nested objects. `PlanChoice.to_draft` turns it into the `PlanDraft`
both planners share; whatever does not fit becomes a `Problem` that goes back to the
model for repair, like the validator's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..core.errors import Problem, ValidationFailed
from .intents import (
    Comparison,
    Condition,
    Documents,
    Frequency,
    Intent,
    IntentPlan,
    Measure,
    Refusal,
    RefusalReason,
    ScheduleSpec,
    Task,
)
from .model import PeriodKind, PeriodSpec, PlanDraft

__all__ = ["IntentAnswer", "PlanChoice"]

_PERIOD_FIELDS = ("year", "month", "to_month", "quarter", "count", "start", "end")
_VARIABLE_FIELDS = ("receipt_file", "invoice_file", "format")
CENT = Decimal("0.01")


class PlanChoice(BaseModel):
    """One plan as the model chooses it (every field present; null when unused)."""

    model_config = ConfigDict(extra="forbid")

    template_id: str | None = Field(
        description="The id of one template listed in the instructions; null only "
        "with `refusal` set."
    )
    period_kind: PeriodKind | None = Field(
        description="The period in words, for financial_report and vat_report; "
        "null for the other templates. Never compute dates: name the period."
    )
    year: int | None = Field(
        description="The year a `month`, `quarter` or `year` period names; null when "
        "the command names none."
    )
    month: int | None = Field(
        description="1-12 for a `month` period, the first month of a `month_range`, "
        "else null."
    )
    to_month: int | None = Field(
        description="1-12: the last month of a `month_range` (syys- ja lokakuulta: "
        "month 9, to_month 10), else null."
    )
    quarter: int | None = Field(description="1-4 for a `quarter` period, else null.")
    count: int | None = Field(
        description="N for `last_n_months` (the N whole months before this one)."
    )
    start: str | None = Field(
        description="First day YYYY-MM-DD, only for an `explicit` period that the "
        "command gives as dates."
    )
    end: str | None = Field(
        description="Last day YYYY-MM-DD, only for an `explicit` period."
    )
    receipt_file: str | None = Field(
        description="For receipt_processing: the file name exactly as written."
    )
    invoice_file: str | None = Field(
        description="For invoice_processing: the file name exactly as written."
    )
    format: str | None = Field(
        description="For financial_report: markdown, csv, json, pdf or xlsx when the "
        "command asks for one, else null."
    )
    recipients: list[str] | None = Field(
        description="E-mail addresses the command asks to send the result to, exactly "
        "as written; null or empty when it asks for no sending."
    )
    language: str = Field(description="The command's language: fi, en or sv.")
    refusal: str | None = Field(
        description="Set only when the command cannot or may not be planned: why, in "
        "the command's language, and what the copilot can do instead."
    )

    def to_draft(self, language: str | None = None) -> PlanDraft:
        """The draft this choice describes.

        Args:
            language: The caller's language, which wins over the model's guess.

        Raises:
            ValidationFailed: A field that does not fit (a date that is not ISO, a
                month out of range, an unknown language); paths name the fields.
        """
        problems: list[Problem] = []
        period: PeriodSpec | None = None
        if self.period_kind is not None:
            values: dict[str, Any] = {"kind": self.period_kind}
            for name in _PERIOD_FIELDS:
                value = getattr(self, name)
                if value is None:
                    continue
                if name in ("start", "end"):
                    try:
                        value = dt.date.fromisoformat(value.strip())
                    except ValueError:
                        problems.append(
                            Problem(
                                name,
                                f"'{value}' is not a date; write YYYY-MM-DD",
                                "bad_date",
                            )
                        )
                        continue
                values[name] = value
            try:
                period = PeriodSpec.model_validate(values)
            except ValidationError as exc:
                problems.extend(
                    Problem(
                        ".".join(str(part) for part in error["loc"]) or "period_kind",
                        error["msg"],
                        "bad_period",
                    )
                    for error in exc.errors(include_url=False)
                )
        chosen = (language or self.language or "fi").strip().lower()[:2]
        if chosen not in ("fi", "en", "sv"):
            problems.append(Problem("language", "use fi, en or sv", "bad_language"))
        if problems:
            raise ValidationFailed(problems)
        variables = {
            name: getattr(self, name)
            for name in _VARIABLE_FIELDS
            if getattr(self, name) is not None
        }
        if "format" in variables:
            variables["format"] = str(variables["format"]).strip().lower()
        return PlanDraft(
            template_id=self.template_id or None,
            period=period,
            variables=variables,
            recipients=[r.strip() for r in self.recipients or [] if r.strip()],
            language=chosen,
            refusal=(self.refusal or "").strip() or None,
        )


# --- the intent list (composed plans) -------------------------------------------------


class WirePeriod(BaseModel):
    """A period named by its kind; only the fields the kind uses are set."""

    model_config = ConfigDict(extra="forbid")

    kind: PeriodKind = Field(description="The period in words; never compute dates.")
    year: int | None = Field(description="Only when the command names the year.")
    month: int | None = Field(description="1-12: `month`, first of `month_range`.")
    to_month: int | None = Field(description="1-12: the last month of `month_range`.")
    quarter: int | None = Field(description="1-4 for `quarter`.")
    count: int | None = Field(description="N for `last_n_months`.")
    start: str | None = Field(description="YYYY-MM-DD, only `explicit` dates written.")
    end: str | None = Field(description="YYYY-MM-DD, only for `explicit`.")


class WireCondition(BaseModel):
    """Run the intent only when a measure of an earlier result compares with an
    amount."""

    model_config = ConfigDict(extra="forbid")

    measure: Measure = Field(description="What is read from the earlier result.")
    comparison: Comparison = Field(description="How it is compared with `amount`.")
    amount: float | None = Field(
        description="Euros as a number (1 000 € is 1000); null: above zero."
    )
    source: int | None = Field(
        description="Position of the intent whose result is read; null: the nearest "
        "earlier one that has the measure."
    )
    otherwise: bool = Field(
        description="True for the 'muuten' branch: run when the condition fails."
    )


class WireIntent(BaseModel):
    """One part of the command (see the instructions)."""

    model_config = ConfigDict(extra="forbid")

    task: Task
    file: str | None = Field(description="PROCESS_*: one file, exactly as written.")
    folder: str | None = Field(description="PROCESS_*: a folder of files (a batch).")
    pattern: str | None = Field(description="A batch's file name pattern, e.g. *.pdf.")
    added: WirePeriod | None = Field(description="A batch: files added in a period.")
    period: WirePeriod | None = Field(description="vat_report, financial_report.")
    format: str | None = Field(
        description="financial_report: markdown, csv, json, pdf or xlsx, when asked."
    )
    recipients: list[str] | None = Field(description="send: addresses as written.")
    approver: str | None = Field(description="approve: who the command names.")
    after: list[int] | None = Field(
        description="Positions of the intents this one waits for; null: the one "
        "before it; []: none."
    )
    condition: WireCondition | None


class WireSchedule(BaseModel):
    """When to run repeatedly, named (never cron)."""

    model_config = ConfigDict(extra="forbid")

    frequency: Frequency
    weekdays: list[int] | None = Field(description="weekly: 1 Monday ... 7 Sunday.")
    day_of_month: int | None = Field(description="monthly/quarterly/yearly: 1-31.")
    month: int | None = Field(description="yearly: 1-12.")
    hour: int | None = Field(description="0-23 as named; null when none is named.")
    minute: int | None = Field(description="0-59.")


class IntentAnswer(BaseModel):
    """The model's answer: every part of the command as an intent, or a refusal."""

    model_config = ConfigDict(extra="forbid")

    intents: list[WireIntent] = Field(description="The parts in the order they run.")
    schedule: WireSchedule | None = Field(description="null: run now.")
    language: str = Field(description="The command's language: fi, en or sv.")
    refusal: RefusalReason | None = Field(
        description="Set only when the command (or a part of it) must not or cannot "
        "be planned; then `intents` is empty."
    )
    refusal_quote: str | None = Field(
        description="The part of the command refused or not understood, as written."
    )

    def to_plan(self, language: str | None = None) -> IntentPlan:
        """The intent list this answer describes.

        Raises:
            ValidationFailed: Whatever does not fit, with paths into the answer.
        """
        problems: list[Problem] = []
        chosen = (language or self.language or "fi").strip().lower()[:2]
        if chosen not in ("fi", "en", "sv"):
            problems.append(Problem("language", "use fi, en or sv", "bad_language"))
        if self.refusal is not None:
            if problems:
                raise ValidationFailed(problems)
            return IntentPlan(
                language=chosen,
                refusal=Refusal(reason=self.refusal, quote=self.refusal_quote),
            )
        intents: list[Intent] = []
        for i, wire in enumerate(self.intents):
            where = f"intents[{i}]"
            try:
                intents.append(_intent(wire, where))
            except ValidationFailed as exc:
                problems.extend(exc.problems)
        schedule = None
        if self.schedule is not None:
            values = self.schedule.model_dump()
            values["weekdays"] = values["weekdays"] or []
            values["minute"] = values["minute"] or 0
            try:
                schedule = ScheduleSpec.model_validate(values)
            except ValidationError as exc:
                problems.extend(_problems(exc, "schedule"))
        if problems:
            raise ValidationFailed(problems)
        return IntentPlan(intents=intents, schedule=schedule, language=chosen)


def _intent(wire: WireIntent, where: str) -> Intent:
    problems: list[Problem] = []
    documents = None
    if wire.file or wire.folder is not None:
        try:
            documents = Documents(
                file=wire.file,
                folder=None if wire.file else wire.folder,
                pattern=wire.pattern if not wire.file else None,
                added=_period(wire.added, f"{where}.added") if not wire.file else None,
            )
        except ValidationError as exc:
            problems.extend(_problems(exc, where))
        except ValidationFailed as exc:
            problems.extend(exc.problems)
    period = None
    try:
        period = _period(wire.period, f"{where}.period")
    except ValidationFailed as exc:
        problems.extend(exc.problems)
    condition = None
    if wire.condition is not None:
        try:
            values = wire.condition.model_dump()
            if values["amount"] is not None:
                values["amount"] = Decimal(str(values["amount"])).quantize(CENT)
            condition = Condition.model_validate(values)
        except ValidationError as exc:
            problems.extend(_problems(exc, f"{where}.condition"))
    if problems:
        raise ValidationFailed(problems)
    try:
        return Intent(
            task=wire.task,
            documents=documents,
            period=period,
            format=(wire.format or "").strip().lower() or None,
            recipients=[r.strip() for r in wire.recipients or [] if r.strip()],
            approver=wire.approver,
            after=wire.after,
            condition=condition,
        )
    except ValidationError as exc:
        raise ValidationFailed(_problems(exc, where)) from exc


def _period(wire: WirePeriod | None, where: str) -> PeriodSpec | None:
    if wire is None:
        return None
    values: dict[str, Any] = {"kind": wire.kind}
    problems: list[Problem] = []
    for name in _PERIOD_FIELDS:
        value = getattr(wire, name)
        if value is None:
            continue
        if name in ("start", "end"):
            try:
                value = dt.date.fromisoformat(str(value).strip())
            except ValueError:
                problems.append(
                    Problem(
                        f"{where}.{name}",
                        f"'{value}' is not a date; write YYYY-MM-DD",
                        "bad_date",
                    )
                )
                continue
        values[name] = value
    if problems:
        raise ValidationFailed(problems)
    try:
        return PeriodSpec.model_validate(values)
    except ValidationError as exc:
        raise ValidationFailed(_problems(exc, where)) from exc


def _problems(exc: ValidationError, where: str) -> list[Problem]:
    return [
        Problem(
            ".".join([where, *(str(p) for p in error["loc"])]),
            error["msg"],
            "bad_answer",
        )
        for error in exc.errors(include_url=False)
    ]
