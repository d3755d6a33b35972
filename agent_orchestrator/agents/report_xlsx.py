"""The financial report as an Excel workbook (openpyxl): numbers as numbers in a euro
format, dates as dates, one sheet per section (overview, expenses by category, VAT)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.styles import Font

from .report_figures import TOTAL_NAMES

if TYPE_CHECKING:
    from decimal import Decimal

    from openpyxl.worksheet.worksheet import Worksheet

    from .report_figures import Change, FinancialReport
    from .report_labels import Labels

__all__ = ["EURO_FORMAT", "PERCENT_FORMAT", "render_xlsx"]

EURO_FORMAT = '#,##0.00\\ "€"'
PERCENT_FORMAT = '0.0" %"'
DATE_FORMAT = "d.m.yyyy"


def render_xlsx(report: FinancialReport, labels: Labels) -> bytes:
    """The report as the bytes of an .xlsx workbook."""
    book = Workbook()
    overview = book.active
    assert overview is not None
    overview.title = _sheet_name(labels.overview)
    overview.append([labels.title])
    overview["A1"].font = Font(bold=True, size=14)
    overview.append([labels.period, report.period.start, report.period.end])
    overview.append(
        [labels.previous, report.previous_period.start, report.previous_period.end]
    )
    for cell in ("B2", "C2", "B3", "C3"):
        overview[cell].number_format = DATE_FORMAT
    overview.append([])
    _header(overview, ["", labels.period, labels.previous, labels.change,
                       labels.change_pct])  # fmt: skip
    for name in TOTAL_NAMES:
        _change_row(overview, labels.totals[name], report.change(name))
    overview.append([])
    overview.append([labels.net_note])

    expenses = book.create_sheet(_sheet_name(labels.by_category))
    _header(expenses, [labels.category, labels.account, labels.period,
                       labels.previous, labels.change, labels.change_pct])  # fmt: skip
    for line in report.expenses_by_category:
        name = line.name_fi if labels.language == "fi" else line.name_en
        change = line.change
        expenses.append(
            [
                name,
                ", ".join(line.accounts),
                change.current,
                change.previous,
                change.amount,
                change.percent,
            ]  # fmt: skip
        )
        _formats(expenses, 3, 6)

    vat = book.create_sheet(_sheet_name(labels.vat_summary))
    _header(vat, [labels.rate, *labels.vat_columns])
    for rate_line in report.vat_rates:
        vat.append(
            [
                rate_line.rate,
                rate_line.sales_net,
                rate_line.sales_vat,
                rate_line.purchases_net,
                rate_line.purchases_vat,
            ]
        )
        vat.cell(vat.max_row, 1).number_format = PERCENT_FORMAT
        _formats(vat, 2, 5)
    for sheet in book.worksheets:
        for column in sheet.columns:
            width = max(
                (len(str(c.value)) for c in column if c.value is not None), default=8
            )
            letter = column[0].column_letter
            sheet.column_dimensions[letter].width = min(max(width + 2, 12), 60)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet_name(text: str) -> str:
    """A valid sheet title (at most 31 characters, none of []:*?/\\)."""
    cleaned = "".join(ch for ch in text if ch not in "[]:*?/\\")
    return cleaned[:31] or "Sheet"


def _header(sheet: Worksheet, cells: list[str]) -> None:
    sheet.append(cells)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)


def _change_row(sheet: Worksheet, label: str, change: Change) -> None:
    percent: Decimal | None = change.percent
    sheet.append([label, change.current, change.previous, change.amount, percent])
    _formats(sheet, 2, 4)
    sheet.cell(sheet.max_row, 5).number_format = PERCENT_FORMAT


def _formats(sheet: Worksheet, first: int, last: int) -> None:
    row = sheet.max_row
    for column in range(first, last + 1):
        cell = sheet.cell(row, column)
        if cell.number_format == "General":
            cell.number_format = EURO_FORMAT
