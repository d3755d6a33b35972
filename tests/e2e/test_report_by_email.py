"""A financial report in PDF, mailed with the PDF attached, end to end.

The copilot's offline planner turns a Finnish command into a graph (`report_agent`,
then `notification_agent`); the real engine runs it with the real built-in agents on
SQLite and PostgreSQL; the e-mail arrives at a real SMTP server (aiosmtpd on loopback);
the attached PDF is opened with pypdf and its totals are checked against sums computed
here from the ledger entries this test books.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import pypdf
import pytest

from agent_orchestrator.config import ModelSettings
from agent_orchestrator.core.bookkeeping import EntryKind, NewLedgerEntry, VatLine
from agent_orchestrator.core.enums import ExecutionStatus, Role, StepStatus
from agent_orchestrator.planner.factory import open_planner
from agent_orchestrator.planner.model import PlanContext
from agent_orchestrator.store.artifacts import SqlArtifactStore
from agent_orchestrator.store.ledger import SqlLedgerStore
from tests.support.mailbox import Mailbox, smtp_server
from tests.support.workflows import open_workflows, run

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from agent_orchestrator.store.database import Database

pytestmark = pytest.mark.anyio

COMMAND = (
    "Lähetä talousraportti viime kuulta PDF-muodossa osoitteeseen kirjanpito@example.fi"
)
REFERENCE = dt.date(2026, 11, 24)  # "viime kuu" is then October 2026
ADDRESS = "kirjanpito@example.fi"
SENDER = "Agent Orchestrator <noreply@example.fi>"
OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
SEPTEMBER = (dt.date(2026, 9, 1), dt.date(2026, 9, 30))
FILENAME = "talousraportti_2026-10-01_2026-10-31.pdf"
# Finnish VAT law (AVL 114 §): the VAT of entertainment is not deductible, so it stays
# in the cost.
NON_DEDUCTIBLE = {"representation"}
# The report's figures by the names it shows them under in Finnish.
LABELS = {
    "income": "Tulot",
    "expenses": "Kulut",
    "result": "Tulos",
    "sales_vat": "Myynnin ALV",
    "deductible_vat": "Vähennettävä ALV",
    "vat_payable": "Maksettava ALV",
}


# --- the books ------------------------------------------------------------------------


@dataclass(frozen=True)
class Booked:
    """One ledger entry as this test books it: VAT lines as (rate, net, vat)."""

    day: str
    kind: EntryKind
    category: str
    account: str
    lines: tuple[tuple[str, str, str], ...]
    no_vat_gross: str = "0.00"  # the amount of an entry without VAT lines
    tenant: str = "acme"

    @property
    def date(self) -> dt.date:
        return dt.date.fromisoformat(self.day)

    @property
    def net(self) -> Decimal:
        if not self.lines:
            return Decimal(self.no_vat_gross)
        return sum((Decimal(net) for _, net, _ in self.lines), Decimal(0))

    @property
    def vat(self) -> Decimal:
        return sum((Decimal(vat) for _, _, vat in self.lines), Decimal(0))


INCOME, EXPENSE = EntryKind.INCOME, EntryKind.EXPENSE
BOOKED = [
    # October 2026, the period asked for (its first and last day included).
    Booked("2026-10-01", INCOME, "sales", "3000", (("25.5", "4200.00", "1071.00"),)),
    Booked(
        "2026-10-14",
        INCOME,
        "sales",
        "3000",
        (("25.5", "1000.00", "255.00"), ("14", "500.00", "70.00")),
    ),
    Booked("2026-10-09", EXPENSE, "rent", "7000", (("25.5", "1100.00", "280.50"),)),
    Booked("2026-10-12", EXPENSE, "telecom", "7830", (("25.5", "49.90", "12.72"),)),
    Booked("2026-10-20", EXPENSE, "travel", "7500", (("13.5", "230.00", "31.05"),)),
    Booked(
        "2026-10-22",
        EXPENSE,
        "representation",
        "7620",
        (("25.5", "180.00", "45.90"),),
    ),
    Booked("2026-10-31", EXPENSE, "bank_fees", "7870", (), no_vat_gross="12.50"),
    # The comparison period, and the days just outside the period.
    Booked("2026-09-15", INCOME, "sales", "3000", (("25.5", "3000.00", "765.00"),)),
    Booked("2026-09-30", EXPENSE, "rent", "7000", (("25.5", "1100.00", "280.50"),)),
    Booked("2026-11-01", EXPENSE, "rent", "7000", (("25.5", "1100.00", "280.50"),)),
    # Another tenant's October: never in acme's report.
    Booked(
        "2026-10-15",
        INCOME,
        "sales",
        "3000",
        (("25.5", "99000.00", "25245.00"),),
        tenant="globex",
    ),
]


def expected_totals(start: dt.date, end: dt.date) -> dict[str, Decimal]:
    """acme's totals for start..end, summed here from `BOOKED`: amounts net of VAT,
    except that non-deductible VAT is part of the cost."""
    rows = [b for b in BOOKED if b.tenant == "acme" and start <= b.date <= end]
    income = sum((b.net for b in rows if b.kind is INCOME), Decimal(0))
    expenses = sum(
        (
            b.net + b.vat if b.category in NON_DEDUCTIBLE else b.net
            for b in rows
            if b.kind is EXPENSE
        ),
        Decimal(0),
    )
    sales_vat = sum((b.vat for b in rows if b.kind is INCOME), Decimal(0))
    deductible_vat = sum(
        (b.vat for b in rows if b.kind is EXPENSE and b.category not in NON_DEDUCTIBLE),
        Decimal(0),
    )
    return {
        "income": income,
        "expenses": expenses,
        "result": income - expenses,
        "sales_vat": sales_vat,
        "deductible_vat": deductible_vat,
        "vat_payable": sales_vat - deductible_vat,
    }


def test_the_expected_sums_are_what_they_should_be() -> None:
    """The independent sums, worked out by hand, so that a slip in
    `expected_totals` cannot agree with a slip in the product."""
    assert expected_totals(*OCTOBER) == {
        "income": Decimal("5700.00"),  # 4200 + 1000 + 500
        "expenses": Decimal("1618.30"),  # 1100 + 49.90 + 230 + 225.90 + 12.50
        "result": Decimal("4081.70"),
        "sales_vat": Decimal("1396.00"),  # 1071 + 255 + 70
        "deductible_vat": Decimal("324.27"),  # 280.50 + 12.72 + 31.05
        "vat_payable": Decimal("1071.73"),
    }
    assert expected_totals(*SEPTEMBER)["result"] == Decimal("1900.00")


async def book(database: Database) -> None:
    ledger = SqlLedgerStore(database)
    for tenant in ("acme", "globex"):
        await ledger.book(
            tenant,
            [
                NewLedgerEntry(
                    booking_key=f"e2e:{n}",
                    kind=b.kind,
                    entry_date=b.date,
                    counterparty="Yritys Oy",
                    account=b.account,
                    category=b.category,
                    description=b.category,
                    gross=b.net + b.vat,
                    vat_lines=tuple(
                        VatLine(
                            Decimal(rate),
                            Decimal(net),
                            Decimal(vat),
                            Decimal(net) + Decimal(vat),
                        )
                        for rate, net, vat in b.lines
                    ),
                )
                for n, b in enumerate(BOOKED)
                if b.tenant == tenant
            ],
        )


def finnish(amount: Decimal) -> str:
    """Euros as a Finnish reader writes them: ``4 081,70 €`` (plain spaces)."""
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",") + " €"


# --- a real SMTP server ---------------------------------------------------------------


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


# --- the test -------------------------------------------------------------------------


async def test_a_pdf_report_planned_from_finnish_arrives_by_email(
    database: Database, mailbox: Mailbox, tmp_path: Path
) -> None:
    await book(database)
    smtp = {
        "agent_smtp_host": "127.0.0.1",
        "agent_smtp_port": mailbox.port,
        "agent_smtp_tls": "none",
        "agent_smtp_sender": SENDER,
        "agent_smtp_timeout_s": 5,
    }
    async with (
        open_workflows(database, tmp_path, **smtp) as service,
        open_planner(
            service.catalogue,
            service.templates,
            model=ModelSettings(),
            max_retries=0,
        ) as planner,
    ):
        context = PlanContext(
            tenant_id="acme", role=Role.OPERATOR, reference_date=REFERENCE
        )
        plan = await planner.plan(COMMAND, context)

        # The plan: last month's report as a PDF, then the e-mail with it attached.
        assert plan.planner == "offline"
        assert plan.language == "fi"
        assert plan.template_id == "financial_report"
        assert plan.variables == {
            "period_start": "2026-10-01",
            "period_end": "2026-10-31",
            "format": "pdf",
        }
        steps = {step["id"]: step for step in plan.graph["steps"]}
        assert [(s["id"], s["agent"]) for s in plan.graph["steps"]] == [
            ("report", "report_agent"),
            ("notify", "notification_agent"),
        ]
        assert steps["notify"]["depends_on"] == ["report"]
        assert steps["notify"]["inputs"]["recipients"] == [ADDRESS]
        assert steps["notify"]["inputs"]["attachments"] == [
            "${steps.report.artifact_id}"
        ]

        final = await run(
            service,
            graph=plan.graph,
            variables=plan.variables,
            role=Role.OPERATOR,
            actor="e2e",
        )

    assert final.status is ExecutionStatus.SUCCEEDED, final.error_message
    by_id = {step.step_id: step for step in final.steps}
    assert set(by_id) == {"report", "notify"}
    for step in final.steps:
        assert step.status is StepStatus.SUCCEEDED, step.error
        assert step.attempts == 1
    report = dict(by_id["report"].output or {})
    notify = dict(by_id["notify"].output or {})
    expected = expected_totals(*OCTOBER)
    assert report["format"] == "pdf"
    assert report["filename"] == FILENAME
    assert report["totals"] == {
        name: float(expected[name])
        for name in ("income", "expenses", "vat_payable", "result")
    }

    # Exactly one e-mail arrived, to the address in the command.
    assert len(mailbox.received) == 1
    ((sender, rcpt_tos, raw),) = mailbox.received
    assert sender == "noreply@example.fi"
    assert rcpt_tos == [ADDRESS]
    assert notify["sent_to"] == [ADDRESS]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    assert message["To"] == ADDRESS
    assert message["From"] == SENDER
    assert message["Subject"] == "Talousraportti 2026-10-01 – 2026-10-31"
    assert message["Message-ID"] == notify["message_id"]
    text = message.get_body(("plain",))
    assert text is not None
    body = text.get_content().replace("\xa0", " ")
    assert f"Raportti on liitteenä ({FILENAME})." in body
    for name in ("income", "expenses", "result"):
        assert finnish(expected[name]) in body, (name, body)

    # The attachment is the stored report, a PDF.
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == FILENAME
    assert attachment.get_content_type() == "application/pdf"
    pdf = attachment.get_content()
    assert isinstance(pdf, bytes)
    assert pdf.startswith(b"%PDF-")
    stored = await SqlArtifactStore(database).get(report["artifact_id"], "acme")
    assert stored.content == pdf
    assert stored.execution_id == final.id

    # Opened, the PDF shows October's totals: the sums of the entries booked above.
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    content = "\n".join(page.extract_text() for page in reader.pages)
    lines = [line.strip() for line in content.replace("\xa0", " ").splitlines()]
    assert lines[:2] == [
        "Talousraportti 1.10.2026–31.10.2026",
        "Vertailukausi: 1.9.2026–30.9.2026",
    ]
    # The overview table, read cell by cell: a figure's name, then its amount in
    # the period, then in the comparison period (September).
    overview = lines[lines.index("Yhteenveto") : lines.index("Kulut kategorioittain")]
    september = expected_totals(*SEPTEMBER)
    for name, label in LABELS.items():
        assert overview.count(label) == 1, (label, overview)
        at = overview.index(label)
        assert overview[at + 1 : at + 3] == [
            finnish(expected[name]),
            finnish(september[name]),
        ], (label, overview)
    # The expenses by category add up to the same total, and the VAT summary ends
    # with the same VAT payable.
    by_category = lines[lines.index("Kulut kategorioittain") :]
    total = by_category.index("Yhteensä")
    assert by_category[total + 1] == finnish(expected["expenses"])
    assert by_category[by_category.index("Edustuskulut") + 2] == finnish(
        Decimal("225.90")  # entertainment: its VAT is part of the cost
    )
    vat_table = lines[lines.index("ALV-yhteenveto") :]
    assert vat_table[-2:] == ["Maksettava ALV", finnish(expected["vat_payable"])]
    assert not any("99 000" in line for line in lines)  # globex's sales
