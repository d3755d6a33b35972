"""A `FinancialReport` as markdown, CSV, JSON, PDF or xlsx (pure functions of the
figures).

Markdown and PDF show amounts the Finnish way (``1 234,56 €``, with no-break spaces),
whatever the language of the labels; CSV and JSON carry plain decimals with a dot
(``1234.56``) so that spreadsheets and programs read them without guessing. The PDF is
made with reportlab: platypus tables and a bar chart (`reportlab.graphics`) of the
expenses by category, in DejaVu Sans so that ä, ö and € render.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import finnish
from ..finnish import euros, percent
from .report_figures import TOTAL_NAMES
from .report_labels import LABELS, Labels, number, plain

if TYPE_CHECKING:
    from .report_figures import Change, FinancialReport, Period, Totals

__all__ = [
    "FORMATS",
    "RenderedReport",
    "render",
    "render_csv",
    "render_json",
    "render_markdown",
    "summary",
]


@dataclass(frozen=True, slots=True)
class RenderedReport:
    """A report file: its bytes, MIME type and extension."""

    content: bytes
    content_type: str
    extension: str


#: Format name -> (MIME type, file extension).
FORMATS = {
    "markdown": ("text/markdown; charset=utf-8", "md"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
    "pdf": ("application/pdf", "pdf"),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
}


def render(report: FinancialReport, format: str, language: str) -> RenderedReport:
    """The report in `format` (a key of `FORMATS`) with labels in `language`."""
    labels = LABELS[language]
    if format == "markdown":
        content = render_markdown(report, labels).encode()
    elif format == "csv":
        content = render_csv(report, labels).encode()
    elif format == "json":
        content = render_json(report, language).encode()
    elif format == "pdf":
        # reportlab is imported only when a PDF is asked for.
        from .report_pdf import render_pdf

        content = render_pdf(report, labels)
    elif format == "xlsx":
        from .report_xlsx import render_xlsx

        content = render_xlsx(report, labels)
    else:
        raise ValueError(
            f"unknown report format {format!r}; use one of {list(FORMATS)}"
        )
    content_type, extension = FORMATS[format]
    return RenderedReport(content, content_type, extension)


# --- summary and markdown -------------------------------------------------------------


def summary(report: FinancialReport, labels: Labels) -> str:
    """One paragraph with the headline figures."""
    totals = report.totals
    return labels.summary.format(
        period=report.period.label(),
        income=euros(totals.income),
        expenses=euros(totals.expenses),
        result=euros(totals.result),
        vat=euros(totals.vat_payable),
        previous=report.previous_period.label(),
        change=euros(report.change("result").amount, signed=True),
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _change_cells(change: Change) -> list[str]:
    return [
        euros(change.current),
        euros(change.previous),
        euros(change.amount, signed=True),
        percent(change.percent, decimals=1, signed=True),
    ]


def _table(header: list[str], rows: list[list[str]], align: str) -> list[str]:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|")
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return lines


def render_markdown(report: FinancialReport, labels: Labels) -> str:
    """The report as a markdown document."""
    period, before = report.period, report.previous_period
    out = [
        f"# {labels.title} {period.label()}",
        "",
        f"{labels.comparison}: {before.label()}. {labels.net_note}",
        "",
        f"## {labels.overview}",
        "",
    ]
    header = ["", labels.period, labels.previous, labels.change, labels.change_pct]
    rows = [
        [labels.totals[name], *_change_cells(report.change(name))]
        for name in TOTAL_NAMES
    ]
    out += [*_table(header, rows, "lrrrr"), "", f"## {labels.by_category}", ""]
    if report.expenses_by_category:
        header = [labels.category, labels.account, *header[1:]]
        rows = [
            [
                f"{line.name(labels.language)} ({line.category})",
                ", ".join(line.accounts),
                *_change_cells(line.change),
            ]
            for line in report.expenses_by_category
        ]
        rows.append([labels.total, "", *_change_cells(report.change("expenses"))])
        out += _table(header, rows, "llrrrr")
    else:
        out.append(labels.no_expenses)
    out += ["", f"## {labels.vat_summary}", ""]
    header = [labels.rate, *labels.vat_columns]
    rows = [
        [
            percent(line.rate),
            euros(line.sales_net),
            euros(line.sales_vat),
            euros(line.purchases_net),
            euros(line.purchases_vat),
        ]
        for line in report.vat_rates
    ]
    out += [*_table(header, rows, "lrrrr"), ""] if rows else [labels.no_entries, ""]
    totals = report.totals
    out += [
        f"- {labels.totals['sales_vat']}: {euros(totals.sales_vat)}",
        f"- {labels.totals['deductible_vat']}: {euros(totals.deductible_vat)}",
        f"- **{labels.totals['vat_payable']}: {euros(totals.vat_payable)}**",
    ]
    if totals.non_deductible_vat:
        out.append(f"- {labels.non_deductible}: {euros(totals.non_deductible_vat)}")
    out.append("")
    return "\n".join(out)


# --- CSV and JSON ------------------------------------------------------------------

CSV_COLUMNS = [
    "section",
    "id",
    "name",
    "current",
    "previous",
    "change",
    "change_percent",
]


def render_csv(report: FinancialReport, labels: Labels) -> str:
    """The report as CSV (comma-separated, header row, plain decimals).

    Sections: ``total`` (ids as in `TOTAL_NAMES`), ``expense_category`` (id = category
    id), and ``vat_sales_net``, ``vat_sales_vat``, ``vat_purchases_net``,
    ``vat_purchases_vat`` (id = VAT rate; no comparison figures).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for name in TOTAL_NAMES:
        change = report.change(name)
        writer.writerow(["total", name, labels.totals[name], *_plain_change(change)])
    for line in report.expenses_by_category:
        writer.writerow(
            [
                "expense_category",
                line.category,
                line.name(labels.language),
                *_plain_change(line.change),
            ]
        )
    for rate_line in report.vat_rates:
        rate = f"{rate_line.rate.normalize():f}"
        for field in ("sales_net", "sales_vat", "purchases_net", "purchases_vat"):
            value = getattr(rate_line, field)
            name = f"{labels.vat_field_names[field]} {percent(rate_line.rate)}"
            writer.writerow([f"vat_{field}", rate, name, plain(value), "", "", ""])
    return buffer.getvalue()


def _plain_change(change: Change) -> list[str]:
    return [
        plain(change.current),
        plain(change.previous),
        plain(change.amount),
        plain(change.percent),
    ]


def _json_change(change: Change) -> dict[str, Any]:
    return {
        "current": number(change.current),
        "previous": number(change.previous),
        "change": number(change.amount),
        "change_percent": number(change.percent),
    }


def report_document(report: FinancialReport, language: str) -> dict[str, Any]:
    """The report as a JSON-ready dict (what `render_json` writes)."""
    labels = LABELS[language]
    totals, before = report.totals, report.previous_totals
    return {
        "title": f"{labels.title} {report.period.label()}",
        "language": language,
        "currency": "EUR",
        "amounts": "net of VAT",
        "period": _period(report.period),
        "previous_period": _period(report.previous_period),
        "totals": _json_totals(totals),
        "previous_totals": _json_totals(before),
        "changes": {name: _json_change(report.change(name)) for name in TOTAL_NAMES},
        "expenses_by_category": [
            {
                "category": line.category,
                "name": line.name(language),
                "name_fi": line.name_fi,
                "accounts": list(line.accounts),
                "entries": line.entries,
                **_json_change(line.change),
            }
            for line in report.expenses_by_category
        ],
        "vat_rates": [
            {
                "rate": number(line.rate),
                "sales_net": number(line.sales_net),
                "sales_vat": number(line.sales_vat),
                "purchases_net": number(line.purchases_net),
                "purchases_vat": number(line.purchases_vat),
            }
            for line in report.vat_rates
        ],
        "summary": summary(report, labels),
    }


def _json_totals(totals: Totals) -> dict[str, Any]:
    return {name: number(totals.figure(name)) for name in TOTAL_NAMES} | {
        "non_deductible_vat": number(totals.non_deductible_vat),
        "entries": totals.entries,
    }


def _period(period: Period) -> dict[str, Any]:
    return {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "days": period.days,
        "label": finnish.period(period.start, period.end),
    }


def render_json(report: FinancialReport, language: str) -> str:
    """The report as a JSON document (numbers with a dot, UTF-8 text as is)."""
    return json.dumps(report_document(report, language), ensure_ascii=False, indent=2)
