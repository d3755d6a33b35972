"""The financial report as a PDF, made with reportlab.

Platypus lays out the title, the tables and a horizontal bar chart
(`reportlab.graphics.charts.barcharts`) of the expenses by category against the
comparison period. Text is set in DejaVu Sans, embedded as a TrueType font, so that ä, ö
and € render and can be extracted from the file. The PDF is built with reportlab's
`invariant` flag: the same figures give the same bytes.
"""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..core.errors import ConfigurationError
from ..finnish import euros, percent, whole_euros
from .report_figures import TOTAL_NAMES
from .report_fonts import FONT, FONT_BOLD, FONT_FILES, find_font_file

if TYPE_CHECKING:
    from reportlab.platypus import Flowable

    from .report_figures import CategoryLine, Change, FinancialReport
    from .report_labels import Labels

#: Bar colours: the period, then the comparison period.
BAR_COLORS = (colors.HexColor("#1f5f99"), colors.HexColor("#9fbfdc"))
HEADER_BACKGROUND = colors.HexColor("#e8eef5")
#: Categories drawn in the chart; smaller ones are summed into "other".
CHART_CATEGORIES = 12
WIDTH = A4[0] - 40 * mm

_font_lock = threading.Lock()
# Reports render in worker threads; reportlab keeps per-font state across documents,
# so one document is built at a time.
_build_lock = threading.Lock()


def register_fonts() -> None:
    """Register DejaVu Sans (regular and bold) with reportlab, once per process.

    Raises:
        ConfigurationError: The fonts are not installed; says which package to install.
    """
    with _font_lock:
        registered = set(pdfmetrics.getRegisteredFontNames())
        for name in (FONT, FONT_BOLD):
            if name in registered:
                continue
            path = find_font_file(name)
            try:
                if path is None:
                    raise TTFError(f"{FONT_FILES[name]} not found")
                pdfmetrics.registerFont(TTFont(name, str(path)))
            except TTFError as exc:
                raise ConfigurationError(
                    f"the PDF report needs the font {FONT_FILES[name]} ({exc}); "
                    "install the Debian package fonts-dejavu-core "
                    "(scripts/install-system-packages.sh does it)"
                ) from exc


def render_pdf(report: FinancialReport, labels: Labels) -> bytes:
    """The report as PDF bytes (A4, tables and a bar chart of expenses by category).

    Raises:
        ConfigurationError: The DejaVu fonts are missing.
    """
    register_fonts()
    styles = _styles()
    period, before = report.period, report.previous_period
    story: list[Flowable] = [
        Paragraph(f"{labels.title} {period.label()}", styles["title"]),
        Paragraph(f"{labels.comparison}: {before.label()}", styles["body"]),
        Paragraph(labels.net_note, styles["body"]),
        Spacer(1, 4 * mm),
        Paragraph(labels.overview, styles["heading"]),
        _overview_table(report, labels),
        Spacer(1, 4 * mm),
        Paragraph(labels.by_category, styles["heading"]),
    ]
    if report.expenses_by_category:
        story += [
            _category_table(report, labels),
            Spacer(1, 4 * mm),
            expenses_chart(report.expenses_by_category, labels),
        ]
    else:
        story.append(Paragraph(labels.no_expenses, styles["body"]))
    story += [
        Spacer(1, 4 * mm),
        Paragraph(labels.vat_summary, styles["heading"]),
        _vat_table(report, labels),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{labels.title} {period.label()}",
        author="Agent Orchestrator",
        lang=labels.language,
        invariant=True,
    )
    with _build_lock:
        document.build(story)
    return buffer.getvalue()


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName=FONT_BOLD, fontSize=16, leading=20),
        "heading": ParagraphStyle(
            "heading", fontName=FONT_BOLD, fontSize=12, leading=16, spaceAfter=4
        ),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12),
    }


def _change_cells(change: Change) -> list[str]:
    return [
        euros(change.current),
        euros(change.previous),
        euros(change.amount, signed=True),
        percent(change.percent, decimals=1, signed=True),
    ]


def _table(
    rows: list[list[str]], widths: list[float], bold_last: bool, numbers_from: int = 1
) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BACKGROUND),
        ("ALIGN", (numbers_from, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.grey),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    if bold_last:
        style += [
            ("FONTNAME", (0, -1), (-1, -1), FONT_BOLD),
            ("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.grey),
        ]
    table.setStyle(TableStyle(style))
    return table


def _overview_table(report: FinancialReport, labels: Labels) -> Table:
    rows = [["", labels.period, labels.previous, labels.change, labels.change_pct]]
    rows += [
        [labels.totals[name], *_change_cells(report.change(name))]
        for name in TOTAL_NAMES
    ]
    first = WIDTH - 4 * 30 * mm
    return _table(rows, [first, *[30 * mm] * 4], bold_last=False)


def _category_table(report: FinancialReport, labels: Labels) -> Table:
    header = [labels.category, labels.account, labels.period, labels.previous]
    rows = [[*header, labels.change, labels.change_pct]]
    rows += [
        [
            line.name(labels.language),
            ", ".join(line.accounts),
            *_change_cells(line.change),
        ]
        for line in report.expenses_by_category
    ]
    rows.append([labels.total, "", *_change_cells(report.change("expenses"))])
    widths = [12 * mm, 26 * mm, 26 * mm, 26 * mm, 19 * mm]
    return _table(rows, [WIDTH - sum(widths), *widths], bold_last=True, numbers_from=2)


def _vat_table(report: FinancialReport, labels: Labels) -> Table:
    rows = [[labels.rate, *labels.vat_columns]]
    rows += [
        [
            percent(line.rate),
            euros(line.sales_net),
            euros(line.sales_vat),
            euros(line.purchases_net),
            euros(line.purchases_vat),
        ]
        for line in report.vat_rates
    ]
    totals = report.totals
    figures = [
        (labels.totals[n], totals.figure(n)) for n in ("sales_vat", "deductible_vat")
    ]
    if totals.non_deductible_vat:
        figures.append((labels.non_deductible, totals.non_deductible_vat))
    figures.append((labels.totals["vat_payable"], totals.vat_payable))
    rows += [[label, "", "", "", euros(value)] for label, value in figures]
    widths = [34 * mm] * 4
    return _table(rows, [WIDTH - sum(widths), *widths], bold_last=True)


def chart_rows(
    lines: tuple[CategoryLine, ...], labels: Labels
) -> list[tuple[str, float, float]]:
    """(name, current, previous) per chart bar: the largest categories, the rest summed
    into "other"."""
    shown = [
        (line.name(labels.language), float(line.current), float(line.previous))
        for line in lines[:CHART_CATEGORIES]
    ]
    rest = lines[CHART_CATEGORIES:]
    if rest:
        shown.append(
            (
                labels.other,
                float(sum(line.current for line in rest)),
                float(sum(line.previous for line in rest)),
            )
        )
    return shown


def expenses_chart(lines: tuple[CategoryLine, ...], labels: Labels) -> Drawing:
    """A horizontal bar chart of the expenses by category: the period against the
    comparison period, largest category on top, amounts in euros."""
    rows = chart_rows(lines, labels)
    bar_space = 22
    plot_height = max(60, bar_space * len(rows))
    label_width = 130
    height = plot_height + 60
    drawing = Drawing(WIDTH, height)
    drawing.add(
        String(0, height - 12, labels.chart_title, fontName=FONT_BOLD, fontSize=10)
    )
    chart = HorizontalBarChart()
    chart.x = label_width
    chart.y = 30
    chart.width = WIDTH - label_width - 20
    chart.height = plot_height
    # reportlab draws the first category at the bottom: reversed, the largest is on top.
    ordered = list(reversed(rows))
    # Within a category, too, the first series is drawn lowest: the comparison period
    # goes first so that the period's own bar is on top.
    chart.data = [[r[2] for r in ordered], [r[1] for r in ordered]]
    chart.categoryAxis.categoryNames = [r[0] for r in ordered]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 8
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = whole_euros
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#dddddd")
    chart.barSpacing = 1
    chart.groupSpacing = 6
    for index, color in enumerate(reversed(BAR_COLORS)):
        chart.bars[index].fillColor = color
        chart.bars[index].strokeColor = None
    drawing.add(chart)
    legend = Legend()
    legend.x = label_width
    legend.y = 10
    legend.fontName = FONT
    legend.fontSize = 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 140
    legend.colorNamePairs = [
        (BAR_COLORS[0], labels.period),
        (BAR_COLORS[1], labels.previous),
    ]
    drawing.add(legend)
    return drawing
