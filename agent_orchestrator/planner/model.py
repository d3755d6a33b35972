"""What both planners share: the context of a request, the symbolic period, the draft a
planner decides on, the finished plan, and the `Planner` protocol.

A planner only *decides* (which template, which period in words, which file, format and
recipients: a `PlanDraft`); turning a draft into dates and a validated graph is one
piece of code for both planners (`planner/compose.py`), so that an LLM never does date
arithmetic (DESIGN.md "Shipped templates").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from ..core.enums import Role


class PeriodKind(StrEnum):
    """A period named in words, resolved against the reference date in code.

    DESIGN.md "Shipped templates" fixes the meaning of each word.
    """

    TODAY = "today"
    YESTERDAY = "yesterday"
    CURRENT_WEEK = "current_week"  # Monday of this ISO week to the reference date
    PREVIOUS_WEEK = "previous_week"  # the previous ISO week, Monday to Sunday
    CURRENT_MONTH = "current_month"  # to the reference date
    PREVIOUS_MONTH = "previous_month"  # whole
    MONTH = "month"  # `month` (1-12) of `year`, or the latest such month begun, whole
    MONTH_RANGE = "month_range"  # `month` to `to_month` of `year` (or the latest begun)
    LAST_N_MONTHS = "last_n_months"  # `count` whole months before the current one
    CURRENT_QUARTER = "current_quarter"  # to the reference date
    PREVIOUS_QUARTER = "previous_quarter"  # whole
    QUARTER = "quarter"  # `quarter` (1-4) of `year`, or the latest such quarter begun
    CURRENT_YEAR = "current_year"  # 1 January to the reference date (also tilikausi)
    PREVIOUS_YEAR = "previous_year"  # whole (also edellinen tilikausi)
    YEAR = "year"  # the whole calendar `year`
    EXPLICIT = "explicit"  # `start` to `end` as given


class PeriodSpec(BaseModel):
    """A period as a planner names it; only the fields its kind uses are set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: PeriodKind
    year: int | None = Field(default=None, ge=1900, le=2200)
    month: int | None = Field(default=None, ge=1, le=12)
    to_month: int | None = Field(default=None, ge=1, le=12)
    quarter: int | None = Field(default=None, ge=1, le=4)
    count: int | None = Field(default=None, ge=1, le=120)
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass(frozen=True, slots=True)
class PlanContext:
    """Who asks, and against which date (results are reproducible by `reference_date`).

    Attributes:
        tenant_id: The caller's tenant (a command can never name another one).
        role: The caller's role: no plan holds an agent it may not use.
        reference_date: "Today" for period words.
        timezone: IANA zone for "today" when no reference date is given.
        language: ``fi``, ``en`` or ``sv`` if the caller knows it; otherwise detected.
        user_id: Who asks, for the audit trail.
        require_approval_for: ``AGENT_REQUIRE_APPROVAL_FOR``: the plan puts an
            approval step before each step of these agents.
    """

    tenant_id: str
    role: Role | None
    reference_date: dt.date
    timezone: str = "Europe/Helsinki"
    language: str | None = None
    user_id: str | None = None
    require_approval_for: frozenset[str] = frozenset()


class PlanDraft(BaseModel):
    """What a planner decided: a template with its inputs in words, or a refusal.

    Attributes:
        template_id: One of the shipped templates, or None with `refusal` set.
        period: For period templates (financial_report, vat_report).
        variables: Other template variables as given: ``receipt_file``,
            ``invoice_file``, ``format``.
        recipients: E-mail addresses to send the result to (adds a notification step).
        language: The command's language (``fi``, ``en``, ``sv``).
        refusal: Why the command cannot or may not be planned, in the command's
            language, with what the copilot can do instead.
    """

    model_config = ConfigDict(extra="forbid")

    template_id: str | None = None
    period: PeriodSpec | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    recipients: list[str] = Field(default_factory=list)
    language: str = "fi"
    refusal: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedSchedule:
    """When a scheduled plan runs: `cron` read in `timezone`, and in words."""

    cron: str
    timezone: str
    description: str


@dataclass(frozen=True, slots=True)
class Plan:
    """A validated plan, ready to execute.

    Attributes:
        template_id: The shipped template it is built on.
        variables: Its resolved variables (ISO dates for periods).
        graph: The full validated graph (a notification step included), as JSON.
        explanation: What it will do, in the command's language.
        planner: ``openai`` or ``offline``.
        language: The command's language.
        warnings: E.g. that the model failed and the offline planner answered.
        model_calls: Calls made to the model (0 offline).
        tokens: Tokens the model used (0 offline).
        repairs: The validator's problems fed back to the model, per repair attempt.
        schedule: When the plan is to run repeatedly; None: run it now.
        model: The model that planned it (None offline).
    """

    template_id: str | None
    variables: dict[str, Any]
    graph: dict[str, Any]
    explanation: str
    planner: str
    language: str = "fi"
    warnings: tuple[str, ...] = ()
    model_calls: int = 0
    tokens: int = 0
    repairs: tuple[tuple[str, ...], ...] = field(default=())
    schedule: PlannedSchedule | None = None
    model: str | None = None


class Planner(Protocol):
    """Turns a command into a validated plan."""

    async def plan(self, command: str, context: PlanContext) -> Plan:
        """Plan `command`.

        Raises:
            PlanningFailed: The command is outside the product's work, tries to widen
                the caller's rights or reach other data, or cannot be understood; the
                message is in the command's language and says what to do instead.
        """
        ...
