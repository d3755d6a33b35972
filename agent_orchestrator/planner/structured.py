"""The model's answer format: a flat, strict-schema model of a `PlanDraft`.

OpenAI's structured outputs need a strict JSON schema: every property required, no
extra properties. A flat model meets that with nullable fields, and is easier for a
model to fill than nested objects. `PlanChoice.to_draft` turns it into the `PlanDraft`
both planners share; whatever does not fit becomes a `Problem` that goes back to the
model for repair, like the validator's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..core.errors import Problem, ValidationFailed
from .model import PeriodKind, PeriodSpec, PlanDraft

__all__ = ["PlanChoice"]

_PERIOD_FIELDS = ("year", "month", "to_month", "quarter", "count", "start", "end")
_VARIABLE_FIELDS = ("receipt_file", "invoice_file", "format")


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
