"""What a command asks for, as both planners read it: an ordered list of intents.

The offline planner (Voikko lemmas and clause structure) and the OpenAI planner (strict
structured output) both produce an `IntentPlan`; one composer (`planner/composer.py`,
code, not the model) turns it into a workflow graph and the validator checks it. Nothing
here holds a date, a cron field or graph wiring: periods are named (`PeriodSpec`),
schedules are named (`ScheduleSpec`), conditions name a measure and an amount, and the
order is given by intent positions. Code resolves all of it.

A command's parts map onto intents like this ("Käsittele lokakuun kuitit kansiosta
kuitit/2026-10, tee sen jälkeen ALV-laskelma lokakuulta ja lähetä se osoitteeseen
kirjanpito@firma.fi kun olen hyväksynyt sen"):

    0 PROCESS_RECEIPTS documents={folder: kuitit/2026-10, added: month 10}
    1 VAT_REPORT       period={kind: month, month: 10}
    2 APPROVE          (waits for 1: the approver sees the VAT report)
    3 SEND             recipients=[kirjanpito@firma.fi] (waits for 2, sends what 1 made)

An intent waits for the one before it unless `after` says otherwise (`[]`: it waits for
nothing). A SEND intent sends the results of the work intents it waits for, directly or
through APPROVE intents. An APPROVE intent is a person's decision that the intents after
it wait for.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .model import PeriodSpec

__all__ = [
    "Comparison",
    "Condition",
    "Documents",
    "Frequency",
    "Intent",
    "IntentPlan",
    "Measure",
    "Refusal",
    "RefusalReason",
    "ScheduleSpec",
    "Task",
]


class Task(StrEnum):
    """One unit of work a command can ask for."""

    PROCESS_RECEIPTS = "process_receipts"  # receipt_processing: a file or a batch
    PROCESS_INVOICES = "process_invoices"  # invoice_processing: a file or a batch
    VAT_REPORT = "vat_report"  # vat_agent (the vat_report template)
    FINANCIAL_REPORT = "financial_report"  # report_agent (financial_report template)
    SEND = "send"  # notification_agent: e-mail the results of what it waits for
    APPROVE = "approve"  # approval_agent: the intents after it wait for a decision


class Documents(BaseModel):
    """Which documents a PROCESS_* intent reads: one `file`, or a batch (`folder`,
    optionally narrowed by `pattern` and by the period the files were `added` in).

    Paths are relative to the tenant's file area, as written in the command (without a
    leading ``./`` or ``/``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str | None = Field(default=None, max_length=500)
    folder: str | None = Field(default=None, max_length=500)
    pattern: str | None = Field(default=None, max_length=200)
    added: PeriodSpec | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Documents:
        if (self.file is None) == (self.folder is None):
            raise ValueError("give either one `file` or a `folder` (a batch)")
        if self.file is not None and (self.pattern or self.added):
            raise ValueError("`pattern` and `added` narrow a folder, not one file")
        return self

    @property
    def is_batch(self) -> bool:
        """True when the intent runs once per file of a folder."""
        return self.folder is not None


class Measure(StrEnum):
    """What a condition reads from an earlier intent's result, by name."""

    VAT_PAYABLE = "vat_payable"  # VAT_REPORT: VAT payable (sales VAT less deductible)
    VAT_REFUND = "vat_refund"  # VAT_REPORT: VAT to be refunded (payable below zero)
    DOCUMENT_TOTAL = "document_total"  # PROCESS_*: the document's total, VAT included
    INCOME = "income"  # FINANCIAL_REPORT: income of the period
    EXPENSES = "expenses"  # FINANCIAL_REPORT: expenses of the period
    RESULT = "result"  # FINANCIAL_REPORT: income less expenses


class Comparison(StrEnum):
    """How a measure is compared with the condition's amount."""

    ABOVE = "above"  # >
    AT_LEAST = "at_least"  # >=
    BELOW = "below"  # <
    AT_MOST = "at_most"  # <=


class Condition(BaseModel):
    """Run an intent only when a measure of an earlier intent's result compares with
    an amount ("jos maksettavaa ALV:tä on yli 1 000 €").

    Attributes:
        measure: What is read.
        comparison: How it is compared with `amount`.
        amount: Euros, as a number (``1 000 €``, ``1.000,50 €`` and ``tuhat euroa``
            are read by the planner); None: the measure is above zero ("jos
            palautettavaa tulee").
        source: The position of the intent whose result is read; None: the nearest
            earlier intent that has the measure.
        otherwise: True for the "muuten" branch: run when the condition does not hold.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    measure: Measure
    comparison: Comparison = Comparison.ABOVE
    amount: Decimal | None = Field(default=None, ge=0, max_digits=15, decimal_places=2)
    source: int | None = Field(default=None, ge=0)
    otherwise: bool = False


class Intent(BaseModel):
    """One part of a command.

    Attributes:
        task: What to do.
        documents: For PROCESS_*: which file or batch.
        period: For VAT_REPORT and FINANCIAL_REPORT: the period, named.
        format: For FINANCIAL_REPORT: markdown, csv, json, pdf or xlsx (None: the
            template's default).
        recipients: For SEND: the addresses as written.
        approver: For APPROVE: who the command names to decide, as written ("Mika",
            "toimitusjohtaja"); None when it names nobody. A person's name is not a
            role: the composer says so in a warning.
        after: Positions of the intents this one waits for; None: the one before it;
            ``[]``: none.
        condition: Run only when this holds.
        text: The part of the command this intent was read from (for explanations
            and errors).
    """

    model_config = ConfigDict(extra="forbid")

    task: Task
    documents: Documents | None = None
    period: PeriodSpec | None = None
    format: str | None = Field(default=None, max_length=20)
    recipients: list[str] = Field(default_factory=list, max_length=50)
    approver: str | None = Field(default=None, max_length=200)
    after: list[int] | None = None
    condition: Condition | None = None
    text: str = Field(default="", max_length=2_000)


class Frequency(StrEnum):
    """How often a scheduled plan runs."""

    DAILY = "daily"
    WEEKLY = "weekly"  # on `weekdays`
    MONTHLY = "monthly"  # on `day_of_month`
    QUARTERLY = "quarterly"  # on `day_of_month` of January, April, July and October
    YEARLY = "yearly"  # on `day_of_month` of `month`


class ScheduleSpec(BaseModel):
    """When a scheduled plan runs, named; the composer writes the cron expression.

    Attributes:
        frequency: How often.
        weekdays: For WEEKLY: ISO weekdays, 1 = Monday ... 7 = Sunday.
        day_of_month: For MONTHLY, QUARTERLY and YEARLY: 1-31 (None: the 1st).
        month: For YEARLY: 1-12 (None: January).
        hour: 0-23 (None: the composer's default morning hour).
        minute: 0-59.
        timezone: IANA zone the times are read in.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    frequency: Frequency
    weekdays: list[int] = Field(default_factory=list, max_length=7)
    day_of_month: int | None = Field(default=None, ge=1, le=31)
    month: int | None = Field(default=None, ge=1, le=12)
    hour: int | None = Field(default=None, ge=0, le=23)
    minute: int = Field(default=0, ge=0, le=59)
    timezone: str = "Europe/Helsinki"

    @model_validator(mode="after")
    def _weekdays(self) -> ScheduleSpec:
        if any(not 1 <= day <= 7 for day in self.weekdays):
            raise ValueError("weekdays are ISO numbers 1 (Monday) to 7 (Sunday)")
        return self


class RefusalReason(StrEnum):
    """Why a command is not planned; the message is written by code
    (`planner/messages.py`) in the command's language."""

    OFF_TOPIC = "off_topic"  # not this product's work
    RIGHTS = "rights"  # tries to widen the caller's rights
    TENANT = "tenant"  # reaches another company's data
    DELETE = "delete"  # deletes data
    NOT_UNDERSTOOD = "not_understood"  # a part nobody could read (quoted)


class Refusal(BaseModel):
    """A refusal: the reason and, for a part not understood or out of scope, that
    part of the command as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: RefusalReason
    quote: str | None = Field(default=None, max_length=500)


class IntentPlan(BaseModel):
    """A command read into intents, or refused.

    Attributes:
        intents: The parts in the order they run (see the module docstring).
        schedule: When to run repeatedly; None: run now.
        language: The command's language: ``fi``, ``en`` or ``sv``.
        refusal: Set when the command must not be planned; `intents` is then ignored.
        warnings: Notes for the caller in the command's language.
    """

    model_config = ConfigDict(extra="forbid")

    intents: list[Intent] = Field(default_factory=list, max_length=50)
    schedule: ScheduleSpec | None = None
    language: str = "fi"
    refusal: Refusal | None = None
    warnings: list[str] = Field(default_factory=list)
