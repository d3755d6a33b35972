"""`receipt_parser_agent` on receipt texts: Finnish formats, noisy OCR text, VAT rates
checked against the document's date, and missing fields left null with a warning."""

from __future__ import annotations

import datetime as dt
import logging
import random
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from agent_orchestrator.agents.parsing import amounts
from agent_orchestrator.agents.receipts import (
    ReceiptInput,
    ReceiptOutput,
    ReceiptParserAgent,
    parse_receipt,
)
from agent_orchestrator.agents.vat_rates import vat_table
from agent_orchestrator.core.protocols import AgentContext
from tests.support.documents import make_receipt, printed_vat, text_of

if TYPE_CHECKING:
    from collections.abc import Mapping

pytestmark = pytest.mark.anyio

RECEIPT = """\
K-Market Keskusta
Kauppakatu 5, 00100 Helsinki
Y-tunnus 0737546-2
{date} klo 14:32           Kuitti 1234
Maito 1 l                       1,29
Ruisleipä                       2,49
Paristot AA                     6,90
{total_label}                  {total}
ALV %     Veroton   Vero   Verollinen
25,5 %      5,50    1,40      6,90
13,5 %      3,33    0,45      3,78
{payment}                       10,68
Kiitos käynnistä!
"""
DEFAULTS = {
    "date": "24.11.2026",
    "total_label": "YHTEENSÄ",
    "total": "10,68",
    "payment": "Kortti",
}


def text(**changes: str) -> str:
    return RECEIPT.format(**{**DEFAULTS, **changes})


def lines(
    output: ReceiptOutput,
) -> list[tuple[float, float | None, float | None, float | None]]:
    return [(v.rate, v.net, v.vat, v.gross) for v in output.receipt.vat_lines]


def test_a_clean_receipt_is_read_whole() -> None:
    out = parse_receipt(text())
    r = out.receipt
    assert r.merchant == "K-Market Keskusta"
    assert r.business_id == "0737546-2"
    assert r.date == dt.date(2026, 11, 24)
    assert r.total == 10.68 and r.currency == "EUR"
    assert lines(out) == [(25.5, 5.5, 1.4, 6.9), (13.5, 3.33, 0.45, 3.78)]
    assert r.payment_method == "kortti"
    assert [(i.description, i.amount) for i in r.items] == [
        ("Maito 1 l", 1.29),
        ("Ruisleipä", 2.49),
        ("Paristot AA", 6.9),
    ]
    assert out.warnings == [] and out.confidence == 1.0


@pytest.mark.parametrize(
    "written",
    ["24.11.2026", "24.11.26", "2026-11-24", "24. marraskuuta 2026", "24.11.2O26"],
)
def test_finnish_date_forms(written: str) -> None:
    assert parse_receipt(text(date=written)).receipt.date == dt.date(2026, 11, 24)


@pytest.mark.parametrize(
    ("label", "amount"),
    [
        ("YHTEENSÄ", "10,68"),
        ("Yht.", "10,68 €"),
        ("Summa", "10,68"),
        ("Total", "10.68 EUR"),
        ("YHTEENSÄ EUR", "10, 68"),
        ("YHTEENSÄ", "l0,6B".replace("B", "8")),
        ("Yhteensä", "1O,68"),
    ],
)
def test_total_labels_and_noisy_amounts(label: str, amount: str) -> None:
    out = parse_receipt(text(total_label=label, total=amount))
    assert out.receipt.total == 10.68, out.warnings


def test_thousands_and_stray_spaces() -> None:
    out = parse_receipt(
        "Rautakauppa Vasara\nY-tunnus 0737546-2\n1.10.2026\nSahapöytä 1 234,50\n"
        "YHTEENSÄ 1 234,50\nALV 25,5 % 983,67 250,83 1 234,50\nKortti 1 234,50\n"
    )
    assert out.receipt.total == 1234.5
    assert lines(out) == [(25.5, 983.67, 250.83, 1234.5)]


@pytest.mark.parametrize("rate", ["25,5 %", "25.5%", "25,5%", "25 ,5 %"])
def test_rate_forms(rate: str) -> None:
    body = text().replace("25,5 %", rate)
    assert lines(parse_receipt(body))[0] == (25.5, 5.5, 1.4, 6.9)


def test_columns_in_another_order_and_inline_rows() -> None:
    other_order = text().replace(
        "ALV %     Veroton   Vero   Verollinen\n"
        "25,5 %      5,50    1,40      6,90\n"
        "13,5 %      3,33    0,45      3,78\n",
        "ALV   Verollinen  Veroton  Vero\n"
        "25,5 %   6,90   5,50   1,40\n"
        "ALV 13,5% Veroton 3,33 Vero 0,45 Verollinen 3,78\n",
    )
    assert lines(parse_receipt(other_order)) == [
        (25.5, 5.5, 1.4, 6.9),
        (13.5, 3.33, 0.45, 3.78),
    ]


def test_single_rate_with_only_the_vat_printed() -> None:
    out = parse_receipt(
        "Kahvila Pulla\nY-tunnus 0737546-2\n3.2.2026\nKahvi ja pulla 4,50\n"
        "Yhteensä 4,50\nSis. ALV 13,5 % 0,54\nMobilePay 4,50\n"
    )
    # The net is printed nowhere: it stays null, not worked out from the others.
    assert lines(out) == [(13.5, None, 0.54, 4.5)]
    assert out.receipt.payment_method == "MobilePay"
    assert out.warnings == [] and not out.receipt.needs_review


def test_a_lone_vat_figure_that_does_not_fit_the_total_is_left_out() -> None:
    out = parse_receipt(
        "Kahvila Pulla\nY-tunnus 0737546-2\n3.2.2026\nKahvi ja pulla 4,50\n"
        "Yhteensä 4,50\nSis. ALV 13,5 % 0,94\nMobilePay 4,50\n"
    )
    assert lines(out) == [] and out.receipt.needs_review
    assert any("cannot be checked" in w for w in out.warnings)


@pytest.mark.parametrize(
    ("day", "row", "total", "rate", "mentions"),
    [
        # The general rate was 25.5 % by then ...
        (
            "1.3.2026",
            "24 % 10,00 2,40 12,40",
            "12,40",
            24.0,
            ["2026-03-01", "2024-08-31"],
        ),
        # ... and not yet on this day.
        (
            "15.8.2024",
            "25,5 % 10,00 2,55 12,55",
            "12,55",
            25.5,
            ["2024-08-15", "2024-09-01"],
        ),
        # Food went from 14 % to 13.5 % in 2026.
        (
            "10.1.2026",
            "14 % 10,00 1,40 11,40",
            "11,40",
            14.0,
            ["2026-01-10", "2025-12-31"],
        ),
    ],
)
def test_rate_not_valid_on_the_date_is_left_out_for_review(
    day: str, row: str, total: str, rate: float, mentions: list[str]
) -> None:
    out = parse_receipt(
        f"Alepa Töölö\nY-tunnus 0737546-2\n{day}\nOstokset {total}\n"
        f"YHTEENSÄ {total}\nALV {row}\nKortti {total}\n"
    )
    assert out.receipt.vat_lines == [] and out.receipt.needs_review
    [warning] = [w for w in out.warnings if "did not apply" in w]
    for mention in mentions:
        assert mention in warning
    assert f"VAT rate {rate:g} %" in warning
    assert out.confidence < 1.0


def test_the_dated_table() -> None:
    table = vat_table()
    rates = [float(r.rate) for r in table.rates_on(dt.date(2026, 11, 24))]
    assert rates == [25.5, 13.5, 10.0, 0.0]
    assert [float(r.rate) for r in table.rates_on(dt.date(2024, 8, 31))] == [
        24.0,
        14.0,
        10.0,
        0.0,
    ]
    assert table.general_rate(dt.date(2024, 9, 1)) == 25.5
    assert table.is_valid(Decimal(14), dt.date(2025, 12, 31))
    assert not table.is_valid(Decimal(14), dt.date(2026, 1, 1))


def test_business_id_with_a_bad_check_digit_is_left_empty() -> None:
    out = parse_receipt(text().replace("0737546-2", "0737546-3"))
    assert out.receipt.business_id is None
    assert any("0737546-3 fails its check digit" in w for w in out.warnings)
    assert out.confidence < parse_receipt(text()).confidence


def test_business_id_from_the_vat_number() -> None:
    out = parse_receipt(text().replace("Y-tunnus 0737546-2", "ALV-rek. FI07375462"))
    assert out.receipt.business_id == "0737546-2"


@pytest.mark.parametrize(
    ("line", "method"),
    [
        ("Kortti", "kortti"),
        ("Visa Debit", "kortti"),
        ("Pankkikortti lähimaksu", "kortti"),
        ("KÄTEINEN", "käteinen"),
        ("MobilePay", "MobilePay"),
        ("Lahjakortti", "lahjakortti"),
        ("Maksutapa: lasku", "lasku"),
    ],
)
def test_payment_methods(line: str, method: str) -> None:
    assert parse_receipt(text(payment=line)).receipt.payment_method == method


NOISY = """\
S-Market Hervanta
Y-tunnus O737546-2
24.l1.2026 klo 18:02
Banaanit 2,35
Jauheliha 5, 49
YHTEENSA 7,B4
Yht. 7,84
ALV 13,5 % 6,9l 0,93 7,84
Kortti 7,84
"""


def test_noisy_ocr_text() -> None:
    out = parse_receipt(NOISY)
    r = out.receipt
    assert r.business_id == "0737546-2"
    assert r.date == dt.date(2026, 11, 24)
    assert r.total == 7.84
    assert lines(out) == [(13.5, 6.91, 0.93, 7.84)]


@pytest.mark.parametrize(
    "row",
    [
        "3,33    0,45      3,18",  # the gross misread
        "3,38    0,45      3,78",  # the net misread
        "3,33    0,95      3,78",  # the VAT misread
    ],
)
def test_a_line_with_a_misread_figure_is_left_out_never_mended(row: str) -> None:
    out = parse_receipt(text().replace("3,33    0,45      3,78", row))
    assert lines(out) == [(25.5, 5.5, 1.4, 6.9)]
    assert out.receipt.needs_review
    assert any("13,5 %" in w and "left out" in w for w in out.warnings)


@pytest.mark.parametrize(
    "row",
    [
        # Printed figures that OCR mangled: none of them may come back as a figure
        # worked out from another (a net of 16,15 or 356,37 printed nowhere).
        "13,5% 1,92 0,26 2,18 X",
        "13,5 % 48,11",
        "13,5 % 1041 141",
        "13,5 % 1,41 10,41",
    ],
)
def test_mangled_vat_rows_invent_no_figures(row: str) -> None:
    body = text().replace("13,5 %      3,33    0,45      3,78", row)
    out = parse_receipt(body)
    printed = {float(a) for line in body.splitlines() for a in amounts(line)}
    for v in out.receipt.vat_lines:
        for figure in (v.net, v.vat, v.gross):
            assert figure is None or figure in printed, (figure, out.warnings)
    assert out.receipt.needs_review


def test_a_vat_figure_larger_than_its_gross_is_left_out() -> None:
    out = parse_receipt(
        "Kioski\nY-tunnus 0737546-2\n3.2.2026\nPurukumi 2,01\nYhteensä 2,01\n"
        "ALV 25,5 % 21,11 2,01\nKortti 2,01\n"
    )
    assert lines(out) == [] and out.receipt.needs_review


def test_a_misread_rate_is_read_from_its_amounts_for_review() -> None:
    out = parse_receipt(text().replace("25,5 %", "29,0 %"))
    assert lines(out)[0] == (25.5, 5.5, 1.4, 6.9)
    assert out.receipt.needs_review
    assert any(
        "(29 %) is not a Finnish rate; its amounts fit 25.5 % only" in w
        for w in out.warnings
    )


@pytest.mark.parametrize(
    ("row", "printed"),
    [
        ("255% 5,50 1,40 6,90", "255 %"),  # the comma lost
        ("256 5,50 1,40 6,90", "256 %"),  # '%' read as '6'
        ("5,50 1,40 6,90", "unreadable"),  # the rate lost
    ],
)
def test_garbled_rates_in_a_table(row: str, printed: str) -> None:
    out = parse_receipt(text().replace("25,5 %      5,50    1,40      6,90", row))
    assert lines(out)[0] == (25.5, 5.5, 1.4, 6.9)
    assert out.receipt.needs_review
    assert any(f"({printed}) is not a Finnish rate" in w for w in out.warnings)


def test_a_stray_digit_next_to_the_business_id() -> None:
    out = parse_receipt(text().replace("0737546-2", "90737546-2"))
    assert out.receipt.business_id == "0737546-2"
    assert any("with a stray digit" in w for w in out.warnings)


def test_a_misread_total_is_outvoted_by_the_vat_lines_and_the_payment() -> None:
    out = parse_receipt(text(total="108,68"))
    assert out.receipt.total == 10.68 and out.receipt.needs_review
    assert any("the total was read as 108.68" in w for w in out.warnings)


def test_vat_lines_that_do_not_add_up_are_warned() -> None:
    paid = "Kortti                       11,68"
    out = parse_receipt(text(total="11,68").replace(paid.replace("11", "10"), paid))
    assert out.receipt.total == 11.68
    assert any("add up to 10.68 but the total is 11.68" in w for w in out.warnings)
    assert out.receipt.needs_review


def test_missing_fields_are_null_with_warnings() -> None:
    out = parse_receipt("Kahvila Pulla\nKahvi 2,50\nPulla 1,80\n")
    r = out.receipt
    assert r.merchant == "Kahvila Pulla"
    assert (r.total, r.date, r.business_id, r.payment_method) == (
        None,
        None,
        None,
        None,
    )
    assert r.vat_lines == [] and r.needs_review
    for field in ("total", "date", "Y-tunnus", "VAT lines", "payment method"):
        assert any(w.startswith(f"{field} not found") for w in out.warnings), field
    assert out.confidence < 0.2


def test_empty_text() -> None:
    out = parse_receipt("  \n\f\n")
    assert out.receipt.total is None and out.confidence == 0.0
    assert out.warnings == ["the text is empty: nothing to read; check the OCR step"]


@pytest.mark.parametrize("seed", range(40))
def test_generated_receipt_texts(seed: int) -> None:
    doc = make_receipt(random.Random(seed))
    out = parse_receipt(text_of(doc))
    r = out.receipt
    assert (r.merchant, r.business_id, r.date, r.total) == (
        doc.merchant,
        doc.business_id,
        doc.date,
        float(doc.total),
    )
    assert sorted(lines(out)) == printed_vat(doc)
    assert out.warnings == [] and not out.receipt.needs_review


async def test_the_agent_returns_json_ready_output() -> None:
    async def ignore_progress(
        message: str, fraction: float | None, data: Mapping[str, Any] | None
    ) -> None:
        del message, fraction, data

    agent = ReceiptParserAgent()
    ctx = AgentContext(
        tenant_id="acme",
        execution_id="e",
        step_id="parse",
        agent_id=agent.id,
        attempt=1,
        logger=logging.getLogger("tests"),
        progress=ignore_progress,
    )
    out = await agent.run(ReceiptInput(text=text()), ctx)
    dumped = out.model_dump(mode="json")
    assert dumped["receipt"]["date"] == "2026-11-24"
    assert dumped["receipt"]["total"] == 10.68
    assert dumped["receipt"]["vat_lines"][0] == {
        "rate": 25.5,
        "net": 5.5,
        "vat": 1.4,
        "gross": 6.9,
    }
    with pytest.raises(ValueError, match="extra"):
        ReceiptInput.model_validate({"text": "x", "file": "y"})


async def test_a_date_read_with_low_ocr_confidence_is_held_for_review() -> None:
    async def ignore_progress(
        message: str, fraction: float | None, data: Mapping[str, Any] | None
    ) -> None:
        del message, fraction, data

    agent = ReceiptParserAgent()
    ctx = AgentContext(
        tenant_id="acme",
        execution_id="e",
        step_id="parse",
        agent_id=agent.id,
        attempt=1,
        logger=logging.getLogger("tests"),
        progress=ignore_progress,
    )
    sure = await agent.run(ReceiptInput(text=text(), uncertain=["Kiitos"]), ctx)
    assert sure.receipt.needs_review is False and sure.warnings == []
    # Tesseract unsure of the date's word (a 3 read for an 8 is a valid date too):
    # left empty for a person, never booked unseen.
    for word in ("24.11.2026", "24.11.2O26"):
        unsure = await agent.run(ReceiptInput(text=text(), uncertain=[word]), ctx)
        assert unsure.receipt.date is None
        assert unsure.receipt.needs_review is True
        assert unsure.warnings == [
            f"the date 2026-11-24 was read with low OCR confidence ('{word}') and is "
            "printed nowhere else; left empty, check it on the document"
        ]
    # The same date printed again below (a card slip) and read surely there: kept.
    twice = text() + "\nKORTTIMAKSU\n24.11.2026 14:05\n"
    confirmed = await agent.run(ReceiptInput(text=twice, uncertain=["24.11.2026"]), ctx)
    assert confirmed.receipt.date == dt.date(2026, 11, 24)
    assert not any("low OCR confidence" in w for w in confirmed.warnings)
    # An unsure word that is another date does not flag this one.
    other = await agent.run(ReceiptInput(text=text(), uncertain=["23.11.2026"]), ctx)
    assert other.receipt.needs_review is False


UNSURE_TOTAL = """Yliopiston Apteekki
Aleksanterinkatu 5
33100 TAMPERE
Y-TUNNUS: 1254852-4
8.10.2026 08:27
BURANA 400MG 30TABL 10,65
PARACETAMOL 500MG 7,66
YHTEENSÄ EUR {total}
"""


@pytest.mark.parametrize(
    ("printed", "uncertain", "kept"),
    [
        # 18,31 is what the items add up to: confirmed, kept however unsure.
        ("18,31", ("18,31",), True),
        # A misread digit the items do not confirm: left out, never booked.
        ("13,31", ("13,31",), False),
        # Read surely: kept (and the items' disagreement flags it for review).
        ("13,31", (), True),
    ],
)
def test_an_unsure_total_is_kept_only_when_a_printed_figure_confirms_it(
    printed: str, uncertain: tuple[str, ...], kept: bool
) -> None:
    parsed = parse_receipt(UNSURE_TOTAL.format(total=printed), uncertain)
    value = Decimal(printed.replace(",", "."))
    if kept:
        assert parsed.receipt.total == float(value)
    else:
        assert parsed.receipt.total is None
        assert parsed.receipt.needs_review
        assert any("low OCR confidence" in w for w in parsed.warnings)
