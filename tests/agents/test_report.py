"""report_agent on SQLite and PostgreSQL with the real ledger and artifact stores.

The test books its own entries (in the period, in the comparison period, outside both,
and another tenant's) and computes every expected figure itself from that data, by its
own route: sums of the VAT lines' net amounts, not gross minus VAT.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pypdf
import pytest
from pydantic import ValidationError
from pypdf.generic import ContentStream, DictionaryObject, PdfObject

from agent_orchestrator.agents.report import ReportAgent, ReportInput
from agent_orchestrator.agents.report_figures import Period, previous_period
from agent_orchestrator.agents.report_labels import LABELS
from agent_orchestrator.agents.report_pdf import BAR_COLORS
from agent_orchestrator.core.bookkeeping import EntryKind, NewLedgerEntry, VatLine
from agent_orchestrator.core.errors import NotFound
from agent_orchestrator.core.protocols import AgentContext
from agent_orchestrator.store.artifacts import SqlArtifactStore
from agent_orchestrator.store.ledger import SqlLedgerStore

if TYPE_CHECKING:
    from agent_orchestrator.agents.report import ReportOutput
    from agent_orchestrator.store.database import Database

pytestmark = pytest.mark.anyio

NBSP = "\u00a0"
OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
SEPTEMBER = (dt.date(2026, 9, 1), dt.date(2026, 9, 30))
CHART = json.loads(
    (
        Path(__file__).parents[2]
        / "agent_orchestrator/agents/data/chart_of_accounts.json"
    ).read_text(encoding="utf-8")
)
NAMES = {c["id"]: c["fi"] for c in CHART["categories"]}
# Entertainment VAT may not be deducted (AVL 114 §): the cost is the gross amount.
NON_DEDUCTIBLE = {c["id"] for c in CHART["categories"] if not c["vat_deductible"]}
Line = tuple[str, str, str]  # rate, net, vat


@dataclass(frozen=True)
class Doc:
    key: str
    day: dt.date
    kind: EntryKind
    category: str
    account: str
    lines: tuple[Line, ...]
    gross: str | None = None  # only for a document without VAT lines
    tenant: str = "acme"


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


INC, EXP = EntryKind.INCOME, EntryKind.EXPENSE


def rate_net_vat(line: str) -> Line:
    rate, net, vat = line.split("/")
    return rate, net, vat


def doc(key: str, day: str, category: str, *lines: str, **extra: Any) -> Doc:
    """A document with lines ``rate/net/vat``; sales are income, the rest expenses."""
    return Doc(
        key,
        d(day),
        INC if category == "sales" else EXP,
        category,
        ACCOUNTS[category],
        tuple(rate_net_vat(line) for line in lines),
        **extra,
    )


ACCOUNTS = {c["id"]: c["account"] for c in CHART["categories"]}
DOCS = [
    # October 2026: the period.
    doc("s1", "2026-10-01", "sales", "25.5/8000.00/2040.00"),
    doc("s2", "2026-10-31", "sales", "25.5/1500.00/382.50", "13.5/200.00/27.00"),
    doc("e1", "2026-10-02", "office_supplies", "25.5/98.80/25.19"),
    doc("e2", "2026-10-05", "travel", "13.5/1234.57/166.67"),
    doc("e3", "2026-10-06", "travel", "25.5/310.00/79.05"),
    doc("e4", "2026-10-10", "representation", "13.5/180.00/24.30"),
    doc("e5", "2026-10-15", "bank_fees", gross="12.50"),
    doc("e6", "2026-10-20", "rent", "25.5/1200.00/306.00"),
    doc("e7", "2026-10-25", "insurance", "0/420.00/0.00"),
    # September 2026: the comparison period (marketing only here).
    doc("p1", "2026-09-01", "sales", "25.5/5000.00/1275.00"),
    doc("p2", "2026-09-30", "travel", "13.5/400.00/54.00"),
    doc("p3", "2026-09-15", "marketing", "25.5/250.00/63.75"),
    doc("p4", "2026-09-16", "rent", "25.5/1200.00/306.00"),
    # Outside both periods, and another tenant's entry inside the period.
    doc("o1", "2026-08-31", "sales", "25.5/999.00/254.75"),
    doc("o2", "2026-11-01", "office_supplies", "25.5/77.00/19.64"),
    doc("g1", "2026-10-15", "sales", "25.5/50000.00/12750.00", tenant="globex"),
]


def new_entry(doc: Doc) -> NewLedgerEntry:
    lines = tuple(
        VatLine(Decimal(r), Decimal(n), Decimal(v), Decimal(n) + Decimal(v))
        for r, n, v in doc.lines
    )
    gross = Decimal(doc.gross) if doc.gross else sum(line.gross for line in lines)
    return NewLedgerEntry(
        booking_key=f"test:{doc.key}",
        kind=doc.kind,
        entry_date=doc.day,
        counterparty=f"Yritys {doc.key}",
        account=doc.account,
        category=doc.category,
        description=doc.key,
        gross=Decimal(gross),
        vat_lines=lines,
        document_type="sale" if doc.kind is INC else "receipt",
    )


@dataclass
class Expected:
    income: Decimal
    expenses: Decimal
    sales_vat: Decimal
    deductible_vat: Decimal
    categories: dict[str, Decimal]

    @property
    def result(self) -> Decimal:
        return self.income - self.expenses

    @property
    def vat_payable(self) -> Decimal:
        return self.sales_vat - self.deductible_vat

    def figure(self, name: str) -> Decimal:
        return Decimal(getattr(self, name))


def expected(start: dt.date, end: dt.date, tenant: str = "acme") -> Expected:
    """The figures, summed from the test's own data."""
    income = expenses = sales_vat = deductible = Decimal("0.00")
    categories: dict[str, Decimal] = {}
    for doc in DOCS:
        if doc.tenant != tenant or not start <= doc.day <= end:
            continue
        net = sum((Decimal(n) for _, n, _ in doc.lines), Decimal(doc.gross or 0))
        vat = sum((Decimal(v) for _, _, v in doc.lines), Decimal(0))
        if doc.kind is INC:
            income += net
            sales_vat += vat
            continue
        cost = net + vat if doc.category in NON_DEDUCTIBLE else net
        deductible += Decimal(0) if doc.category in NON_DEDUCTIBLE else vat
        expenses += cost
        categories[doc.category] = categories.get(doc.category, Decimal(0)) + cost
    return Expected(income, expenses, sales_vat, deductible, categories)


NOW = expected(*OCTOBER)
BEFORE = expected(*SEPTEMBER)
TOTALS = ("income", "expenses", "result", "sales_vat", "deductible_vat", "vat_payable")


def fi(amount: Decimal, space: str = NBSP) -> str:
    """1 234,56 € the Finnish way, written independently of the product's code."""
    text = f"{amount:,.2f}".replace(",", space).replace(".", ",")
    return f"{text}{space}€"


def percent(now: Decimal, before: Decimal) -> Decimal:
    return ((now - before) * 100 / abs(before)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


@dataclass
class Books:
    ledger: SqlLedgerStore
    artifacts: SqlArtifactStore
    agent: ReportAgent


@pytest.fixture
async def books(database: Database) -> Books:
    ledger = SqlLedgerStore(database)
    for tenant in ("acme", "globex"):
        await ledger.book(tenant, [new_entry(x) for x in DOCS if x.tenant == tenant])
    artifacts = SqlArtifactStore(database)
    return Books(ledger, artifacts, ReportAgent(ledger, artifacts))


def context(
    step: str = "report", tenant: str = "acme", attempt: int = 1
) -> AgentContext:
    async def progress(message: str, fraction: float | None, data: Any) -> None:
        assert message

    return AgentContext(
        tenant_id=tenant,
        execution_id="exec-report",
        step_id=step,
        agent_id="report_agent",
        attempt=attempt,
        logger=logging.getLogger("tests.report"),
        progress=progress,
    )


async def run(
    books: Books, format: str, language: str = "fi", *, step: str = "report"
) -> ReportOutput:
    inputs = ReportInput(
        period_start=OCTOBER[0], period_end=OCTOBER[1], format=format, language=language
    )
    return await books.agent.run(inputs, context(step))


async def test_totals_equal_independent_sums(books: Books) -> None:
    assert NOW.expenses and NOW.income and "representation" in NON_DEDUCTIBLE
    out = await run(books, "markdown")
    assert out.totals.model_dump() == {
        "income": float(NOW.income),
        "expenses": float(NOW.expenses),
        "vat_payable": float(NOW.vat_payable),
        "result": float(NOW.result),
    }
    assert out.filename == "talousraportti_2026-10-01_2026-10-31.md"
    assert out.format == "markdown"
    stored = await books.artifacts.get(out.artifact_id, "acme")
    assert stored.content.decode() == out.content
    assert stored.content_type.startswith("text/markdown")
    assert stored.execution_id == "exec-report"
    # The owner alone can read it.
    with pytest.raises(NotFound):
        await books.artifacts.get(out.artifact_id, "globex")
    assert fi(NOW.income) in out.summary and fi(NOW.result) in out.summary


async def test_markdown_has_the_figures(books: Books) -> None:
    text = (await run(books, "markdown")).content
    assert "Talousraportti 1.10.2026–31.10.2026" in text
    assert "Vertailukausi: 1.9.2026–30.9.2026" in text
    for name in TOTAL_NAMES_FI:
        assert name in text
    for figure in TOTALS:
        assert fi(NOW.figure(figure)) in text
        assert fi(BEFORE.figure(figure)) in text
    for category, amount in NOW.categories.items():
        row = next(line for line in text.splitlines() if f"({category})" in line)
        assert NAMES[category] in row and fi(amount) in row
    marketing = next(line for line in text.splitlines() if "(marketing)" in line)
    assert (
        fi(Decimal(0)) in marketing and fi(BEFORE.categories["marketing"]) in marketing
    )
    income_row = next(line for line in text.splitlines() if line.startswith("| Tulot"))
    pct = percent(NOW.income, BEFORE.income)
    assert f"+{pct}".replace(".", ",") + f"{NBSP}%" in income_row


TOTAL_NAMES_FI = ("Tulot", "Kulut", "Tulos", "Myynnin ALV", "Maksettava ALV")


async def test_csv_parses_and_sums_match(books: Books) -> None:
    out = await run(books, "csv")
    assert out.filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(out.content)))
    totals = {r["id"]: r for r in rows if r["section"] == "total"}
    for figure in TOTALS:
        assert Decimal(totals[figure]["current"]) == NOW.figure(figure)
        assert Decimal(totals[figure]["previous"]) == BEFORE.figure(figure)
        assert Decimal(totals[figure]["change"]) == NOW.figure(figure) - BEFORE.figure(
            figure
        )
    categories = {r["id"]: r for r in rows if r["section"] == "expense_category"}
    assert {k: Decimal(r["current"]) for k, r in categories.items()} == {
        **NOW.categories,
        "marketing": Decimal(0),
    }
    assert sum(Decimal(r["current"]) for r in categories.values()) == NOW.expenses
    assert sum(Decimal(r["previous"]) for r in categories.values()) == BEFORE.expenses
    assert categories["travel"]["name"] == NAMES["travel"]
    assert categories["marketing"]["change_percent"] == "-100.0"
    assert categories["bank_fees"]["change_percent"] == ""  # nothing to compare with
    sales_vat = sum(
        Decimal(r["current"]) for r in rows if r["section"] == "vat_sales_vat"
    )
    assert sales_vat == NOW.sales_vat
    by_rate = {
        r["id"]: Decimal(r["current"]) for r in rows if r["section"] == "vat_sales_net"
    }
    assert by_rate["25.5"] == Decimal("9500.00") and by_rate["13.5"] == Decimal(
        "200.00"
    )


async def test_json_loads_and_matches(books: Books) -> None:
    out = await run(books, "json")
    doc = json.loads(out.content)
    assert (
        doc["period"]["start"] == "2026-10-01" and doc["period"]["end"] == "2026-10-31"
    )
    assert doc["previous_period"]["start"] == "2026-09-01"
    assert doc["previous_period"]["end"] == "2026-09-30"
    for figure in TOTALS:
        assert Decimal(str(doc["totals"][figure])) == NOW.figure(figure)
        assert Decimal(str(doc["previous_totals"][figure])) == BEFORE.figure(figure)
    assert doc["totals"]["entries"] == 9 and doc["previous_totals"]["entries"] == 4
    assert Decimal(str(doc["changes"]["income"]["change_percent"])) == percent(
        NOW.income, BEFORE.income
    )
    got = {
        c["category"]: Decimal(str(c["current"])) for c in doc["expenses_by_category"]
    }
    assert got == {**NOW.categories, "marketing": Decimal(0)}
    names = {c["category"]: c["name"] for c in doc["expenses_by_category"]}
    assert names["representation"] == NAMES["representation"]
    # Largest first.
    amounts = [c["current"] for c in doc["expenses_by_category"]]
    assert amounts == sorted(amounts, reverse=True)
    vat = sum(Decimal(str(r["purchases_vat"])) for r in doc["vat_rates"])
    non_deductible = Decimal(str(doc["totals"]["non_deductible_vat"]))
    assert vat - non_deductible == NOW.deductible_vat
    assert non_deductible == Decimal("24.30")


async def test_xlsx_is_a_workbook_of_numbers_in_euros(books: Books) -> None:
    import openpyxl

    out = await run(books, "xlsx")
    assert out.filename == "talousraportti_2026-10-01_2026-10-31.xlsx"
    stored = await books.artifacts.get(out.artifact_id, "acme")
    assert stored.content_type == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = openpyxl.load_workbook(io.BytesIO(stored.content))
    overview, expenses, vat = book.worksheets
    rows = {
        str(r[0].value): r
        for r in overview.iter_rows(min_row=6)
        if r[0].value is not None and isinstance(r[1].value, (int, float))
    }
    for figure in ("income", "expenses", "result"):
        row = rows[LABELS["fi"].totals[figure]]
        # A number, not text, in a euro format; equal to the independent sums.
        assert isinstance(row[1].value, (int, float))
        assert Decimal(str(row[1].value)) == NOW.figure(figure)
        assert Decimal(str(row[2].value)) == BEFORE.figure(figure)
        assert "€" in row[1].number_format
    categories = {
        str(r[0].value): Decimal(str(r[2].value))
        for r in expenses.iter_rows(min_row=2)
        if r[0].value
    }
    assert categories[NAMES["representation"]] == NOW.categories["representation"]
    assert vat.max_row >= 2 and all(
        isinstance(c.value, (int, float)) for c in vat[2][1:]
    )


async def test_pdf_opens_with_the_figures_and_a_chart(books: Books) -> None:
    out = await run(books, "pdf")
    assert out.filename == "talousraportti_2026-10-01_2026-10-31.pdf"
    assert fi(NOW.income) in out.content  # a summary stands in for the bytes
    stored = await books.artifacts.get(out.artifact_id, "acme")
    assert stored.content_type == "application/pdf"
    assert stored.content.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(stored.content))
    text = "\n".join(page.extract_text() for page in reader.pages).replace(NBSP, " ")
    assert "Talousraportti 1.10.2026–31.10.2026" in text
    assert "Vähennettävä ALV" in text  # ä survives: the font is embedded
    for figure in TOTALS:
        assert fi(NOW.figure(figure), " ") in text, figure
        assert fi(BEFORE.figure(figure), " ") in text, figure
    for category, amount in NOW.categories.items():
        assert fi(amount, " ") in text
        # Once in the table, once as the chart's bar label.
        assert text.count(NAMES[category]) == 2, category
    fonts = {
        str(pdf_dict(font)["/BaseFont"])
        for page in reader.pages
        for font in pdf_dict(pdf_dict(page["/Resources"])["/Font"]).values()
    }
    assert any("DejaVuSans" in f for f in fonts), fonts
    # The chart's bars: filled rectangles in the period's colour, as long as the
    # amounts they stand for.
    bars = bar_widths(reader, BAR_COLORS[0].rgb())
    amounts = sorted(a for a in NOW.categories.values() if a > 0)
    assert len(bars) == len(amounts)
    for width, amount in zip(sorted(bars), amounts, strict=True):
        assert width / max(bars) == pytest.approx(
            float(amount / max(amounts)), rel=1e-3
        )


def pdf_dict(obj: PdfObject) -> DictionaryObject:
    """A PDF dictionary, following an indirect reference to it."""
    found = obj.get_object()
    assert isinstance(found, DictionaryObject), found
    return found


def bar_widths(reader: pypdf.PdfReader, rgb: tuple[float, float, float]) -> list[float]:
    """Widths of the rectangles filled with `rgb` (the legend's square left out)."""
    widths = []
    for page in reader.pages:
        fill: tuple[float, ...] = ()
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"rg":
                fill = tuple(float(x) for x in operands)
            elif operator == b"re" and fill == pytest.approx(rgb, abs=1e-5):
                width, height = float(operands[2]), float(operands[3])
                if (width, height) != (10.0, 10.0):
                    widths.append(width)
    return widths


async def test_english_report(books: Books) -> None:
    out = await run(books, "markdown", "en")
    assert out.filename == "financial_report_2026-10-01_2026-10-31.md"
    assert "# Financial report" in out.content and "| Income |" in out.content
    assert "Travel (travel)" in out.content
    assert out.totals.income == float(NOW.income)


async def test_a_retried_step_stores_the_report_once(books: Books) -> None:
    inputs = ReportInput(period_start=OCTOBER[0], period_end=OCTOBER[1], format="pdf")
    first = await books.agent.run(inputs, context())
    again = await books.agent.run(inputs, context(attempt=2))
    other = await books.agent.run(inputs, context(step="report2"))
    assert again.artifact_id == first.artifact_id
    assert other.artifact_id != first.artifact_id


async def test_another_tenant_sees_only_its_own_books(books: Books) -> None:
    inputs = ReportInput(period_start=OCTOBER[0], period_end=OCTOBER[1], format="json")
    out = await books.agent.run(inputs, context(tenant="globex"))
    globex = expected(*OCTOBER, tenant="globex")
    assert out.totals.income == float(globex.income) == 50000.0
    assert out.totals.expenses == 0.0


async def test_an_empty_period_still_gives_every_format(books: Books) -> None:
    for format in ("markdown", "csv", "json", "xlsx", "pdf"):
        inputs = ReportInput(
            period_start=d("2030-01-01"), period_end=d("2030-01-31"), format=format
        )
        out = await books.agent.run(inputs, context(step=f"empty-{format}"))
        assert out.totals.model_dump() == dict.fromkeys(
            ("income", "expenses", "vat_payable", "result"), 0.0
        )
    reader = pypdf.PdfReader(
        io.BytesIO((await books.artifacts.get(out.artifact_id, "acme")).content)
    )
    assert "Kaudella ei ole kuluja." in reader.pages[0].extract_text()


@pytest.mark.parametrize(
    ("start", "end", "before"),
    [
        ("2026-10-01", "2026-10-31", ("2026-09-01", "2026-09-30")),  # a month
        ("2026-03-01", "2026-03-31", ("2026-02-01", "2026-02-28")),
        ("2028-03-01", "2028-03-31", ("2028-02-01", "2028-02-29")),  # leap year
        ("2026-01-01", "2026-01-31", ("2025-12-01", "2025-12-31")),
        ("2026-07-01", "2026-09-30", ("2026-04-01", "2026-06-30")),  # a quarter
        ("2026-01-01", "2026-03-31", ("2025-10-01", "2025-12-31")),
        ("2026-01-01", "2026-12-31", ("2025-01-01", "2025-12-31")),  # a year
        ("2026-08-01", "2026-10-31", ("2026-05-01", "2026-07-31")),  # three months
        ("2026-10-10", "2026-10-19", ("2026-09-30", "2026-10-09")),  # ten days
        ("2026-11-01", "2026-11-24", ("2026-10-08", "2026-10-31")),  # month to date
        ("2026-03-01", "2026-03-01", ("2026-02-28", "2026-02-28")),  # one day
    ],
)
def test_comparison_period(start: str, end: str, before: tuple[str, str]) -> None:
    got = previous_period(Period(d(start), d(end)))
    assert (got.start, got.end) == (d(before[0]), d(before[1]))


def test_bad_periods_are_refused_with_a_reason() -> None:
    with pytest.raises(ValidationError, match="period_end 2026-09-30 is before"):
        ReportInput(period_start=d("2026-10-01"), period_end=d("2026-09-30"))
    with pytest.raises(ValidationError, match="longer than"):
        ReportInput(period_start=d("2000-01-01"), period_end=d("2026-09-30"))
    with pytest.raises(ValidationError, match="format"):
        ReportInput.model_validate(
            {"period_start": "2026-10-01", "period_end": "2026-10-31", "format": "docx"}
        )


async def test_health_says_it_is_ready(books: Books) -> None:
    health = await books.agent.health()
    assert health.ok and health.checks == {
        "ledger": True,
        "artifacts": True,
        "pdf_fonts": True,
    }
    assert not (await ReportAgent(None, None).health()).ok
