"""`report_agent`: the financial report of a period, stored as a downloadable artifact.

The report shows income, expenses by category, a VAT summary and the change against
the comparison period of equal length, all net of VAT (`report_figures` documents the
conventions). It is rendered as markdown, CSV, JSON, PDF or an Excel workbook
(`report_render`) and saved in the artifact store under the step's idempotency key,
so a retried or resumed step stores it once; the API serves it to the owning tenant's
keys only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

import anyio
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..core.enums import Role
from ..core.errors import ConfigurationError, NonRetryableAgentError
from ..core.protocols import AgentContext, AgentHealth, LocalizedText
from .base import BaseAgent
from .categorizer import load_chart
from .report_figures import Period, compute_report, previous_period
from .report_fonts import FONT, FONT_BOLD, find_font_file
from .report_labels import LABELS
from .report_render import render, summary

if TYPE_CHECKING:
    from ..core.bookkeeping import ArtifactStore, LedgerStore
    from .categorizer import Chart
    from .resources import AgentResources

#: The longest period one report covers (about ten years).
MAX_DAYS = 3_660


class ReportInput(BaseModel):
    """The period and the file format of the report."""

    model_config = ConfigDict(extra="forbid")

    period_start: dt.date = Field(
        description="First day of the period, inclusive (ISO date YYYY-MM-DD)."
    )
    period_end: dt.date = Field(
        description="Last day of the period, inclusive (ISO date YYYY-MM-DD)."
    )
    format: Literal["markdown", "csv", "json", "pdf", "xlsx"] = Field(
        default="markdown",
        description="File format: markdown, csv, json, pdf (with a chart) or xlsx "
        "(an Excel workbook: a sheet per section, euro amounts as numbers).",
    )
    language: Literal["fi", "en"] = Field(
        default="fi", description="Language of the report's texts: fi or en."
    )

    @model_validator(mode="after")
    def _check_period(self) -> ReportInput:
        if self.period_end < self.period_start:
            raise ValueError(
                f"period_end {self.period_end} is before period_start "
                f"{self.period_start}; give an end date on or after the start date"
            )
        if (self.period_end - self.period_start).days >= MAX_DAYS:
            raise ValueError(
                f"the period {self.period_start}..{self.period_end} is longer than "
                f"{MAX_DAYS} days; make one report per year or shorter period"
            )
        return self


class ReportTotals(BaseModel):
    """The headline figures, in euros, net of VAT."""

    income: float = Field(description="Income (sales) without VAT.")
    expenses: float = Field(description="Expenses without VAT.")
    vat_payable: float = Field(
        description="Sales VAT minus deductible VAT (negative: a refund)."
    )
    result: float = Field(description="Income minus expenses.")


class ReportOutput(BaseModel):
    """The stored report and its figures."""

    artifact_id: str = Field(description="Id of the stored report file (artifact).")
    format: str = Field(
        description="The file format: markdown, csv, json, pdf or xlsx."
    )
    filename: str = Field(
        description="Download name, e.g. talousraportti_2026-10-01_2026-10-31.pdf."
    )
    content: str = Field(
        description="The report's text (markdown, CSV or JSON); for a PDF or an "
        "Excel workbook, a summary."
    )
    summary: str = Field(description="The headline figures in one paragraph.")
    totals: ReportTotals = Field(description="Income, expenses, VAT payable, result.")


class ReportAgent(BaseAgent[ReportInput, ReportOutput]):
    """Makes the financial report of a period from the tenant's ledger."""

    id = "report_agent"
    name = "Financial report"
    description = LocalizedText(
        fi=(
            "Tekee talousraportin kaudelta kirjanpidon kirjauksista: tulot, kulut "
            "kategorioittain, ALV-yhteenveto ja vertailu edelliseen yhtä pitkään "
            "kauteen (summat ilman ALV:tä). Muodot markdown, CSV, JSON, PDF "
            "(kaavion kanssa) tai Excel (xlsx); raportti tallennetaan ladattavaksi "
            "tiedostoksi."
        ),
        en=(
            "Makes the financial report of a period from the ledger: income, "
            "expenses by category, a VAT summary and a comparison with the previous "
            "period of equal length (amounts net of VAT). Formats markdown, CSV, JSON, "
            "PDF (with a chart) or Excel (xlsx); the report is stored as a "
            "downloadable file."
        ),
    )
    input_model = ReportInput
    output_model = ReportOutput
    # It reads the books and stores a file of them: nothing leaves the service.
    min_role = Role.VIEWER

    def __init__(
        self,
        ledger: LedgerStore | None,
        artifacts: ArtifactStore | None,
        chart: Chart | None = None,
    ) -> None:
        self.ledger = ledger
        self.artifacts = artifacts
        self.chart = chart or load_chart()

    @classmethod
    def from_resources(cls, resources: AgentResources) -> ReportAgent:
        """The agent on the app's ledger and artifact stores."""
        return cls(resources.ledger, resources.artifacts)

    async def run(self, inputs: ReportInput, ctx: AgentContext) -> ReportOutput:
        """Read the period and its comparison period, render, store, describe."""
        if self.ledger is None or self.artifacts is None:
            raise NonRetryableAgentError(
                "report_agent has no ledger or artifact store; the service was "
                "started without them, so check its configuration"
            )
        period = Period(inputs.period_start, inputs.period_end)
        before = previous_period(period)
        # The comparison period ends the day before the period starts: one read.
        entries = await self.ledger.entries(ctx.tenant_id, before.start, period.end)
        await ctx.report_progress(
            f"read {len(entries)} ledger entries from {before.start} to {period.end}",
            fraction=0.3,
        )
        report = compute_report(period, entries, entries, self.chart)
        try:
            rendered = await anyio.to_thread.run_sync(
                render, report, inputs.format, inputs.language
            )
        except ConfigurationError as exc:
            raise NonRetryableAgentError(str(exc)) from exc
        labels = LABELS[inputs.language]
        filename = (
            f"{labels.file_stem}_{period.start.isoformat()}_"
            f"{period.end.isoformat()}.{rendered.extension}"
        )
        artifact = await self.artifacts.save(
            ctx.tenant_id,
            filename,
            rendered.content_type,
            rendered.content,
            execution_id=ctx.execution_id,
            key=ctx.idempotency_key,
        )
        text = summary(report, labels)
        totals = report.totals
        return ReportOutput(
            artifact_id=artifact.id,
            format=inputs.format,
            filename=artifact.filename,
            # A retried step gets the file stored first: describe that one.
            content=text
            if inputs.format in ("pdf", "xlsx")
            else artifact.content.decode("utf-8"),
            summary=text,
            totals=ReportTotals(
                income=_euros(totals.income),
                expenses=_euros(totals.expenses),
                vat_payable=_euros(totals.vat_payable),
                result=_euros(totals.result),
            ),
        )

    async def health(self) -> AgentHealth:
        """Ready when the stores are wired and the PDF fonts are installed."""
        fonts = [
            await anyio.to_thread.run_sync(find_font_file, name)
            for name in (FONT, FONT_BOLD)
        ]
        checks = {
            "ledger": self.ledger is not None,
            "artifacts": self.artifacts is not None,
            "pdf_fonts": None not in fonts,
        }
        ok = all(checks.values())
        detail = (
            "ready: markdown, csv, json, pdf and xlsx"
            if ok
            else "missing: "
            + ", ".join(name for name, good in checks.items() if not good)
        )
        return AgentHealth(ok=ok, detail=detail, checks=checks)


def _euros(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))
