"""`invoice_parser_agent`: IBAN, viitenumero and RF references with their check digits,
the virtual barcode (versions 4 and 5) decoded and cross-checked, on generated invoice
texts and on invoices read by OCR from PDFs and images."""

from __future__ import annotations

import datetime as dt
import logging
import random
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from agent_orchestrator.agents import barcode
from agent_orchestrator.agents.invoices import finnish_reference_valid, parse_invoice
from agent_orchestrator.agents.ocr import OcrAgent, OcrInput
from agent_orchestrator.agents.resources import AgentResources
from agent_orchestrator.core.protocols import AgentContext
from tests.support.documents import (
    Document,
    make_invoice,
    printed_vat,
    rf_reference,
    text_of,
    viitenumero,
    virtual_barcode,
)
from tests.support.scans import render_image, render_pdf, save_image

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.anyio

# The worked example of Finance Finland's bank barcode guide (version 4).
GUIDE_CODE = "479440520200360820048831500000000868516259619897100612"


def invoice(seed: int, *, rf: bool = False, code: bool = True) -> Document:
    return make_invoice(random.Random(seed), rf=rf, barcode=code)


def assert_matches(doc: Document, text: str) -> list[str]:
    out = parse_invoice(text)
    i = out.invoice
    assert i.merchant == doc.merchant
    assert i.business_id == doc.business_id
    assert (i.date, i.due_date) == (doc.date, doc.due_date)
    assert i.total == float(doc.total)
    assert (i.iban, i.bic, i.reference) == (doc.iban, doc.bic, doc.reference)
    assert i.invoice_number == doc.invoice_number
    assert i.virtual_barcode == doc.barcode
    assert i.payment_method == "lasku"
    assert sorted((v.rate, v.net, v.vat, v.gross) for v in i.vat_lines) == printed_vat(
        doc
    )
    return out.warnings


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("rf", [False, True], ids=["viitenumero", "rf"])
def test_generated_invoice_texts(seed: int, rf: bool) -> None:
    doc = invoice(seed, rf=rf, code=seed % 3 != 0)
    assert assert_matches(doc, text_of(doc)) == []
    if doc.barcode:
        assert doc.barcode[0] == ("5" if rf else "4")


def test_the_guide_example_decodes() -> None:
    decoded = barcode.decode(GUIDE_CODE)
    assert decoded.version == 4
    assert decoded.iban == "FI7944052020036082"
    assert decoded.amount == Decimal("4883.15")
    assert decoded.reference == "868516259619897"
    assert decoded.due_date == dt.date(2010, 6, 12)


def test_version_5_decodes() -> None:
    reference = rf_reference("2348236")
    code = virtual_barcode(
        "FI5810171000000122", Decimal("482.99"), reference, dt.date(2026, 12, 31)
    )
    decoded = barcode.decode(code)
    assert (decoded.version, decoded.iban, decoded.reference) == (
        5,
        "FI5810171000000122",
        reference,
    )
    assert decoded.amount == Decimal("482.99")
    assert decoded.due_date == dt.date(2026, 12, 31)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("6" + GUIDE_CODE[1:], "version 6 is not supported"),
        (GUIDE_CODE[:48] + "101332", "not a date"),
        (GUIDE_CODE[:-1], "has 54 digits"),
    ],
)
def test_bad_barcodes(code: str, message: str) -> None:
    with pytest.raises(barcode.BarcodeError, match=message):
        barcode.decode(code)


def test_a_barcode_split_over_two_lines_by_ocr_is_joined() -> None:
    doc = invoice(5)
    assert doc.barcode is not None
    head, tail = doc.barcode[:41], doc.barcode[41:]
    text = text_of(doc).replace(
        f"Virtuaaliviivakoodi {doc.barcode}", f"{tail}\nVirtuaaliviivakoodi {head}"
    )
    assert parse_invoice(text).invoice.virtual_barcode == doc.barcode
    # Digits that do not decode to a valid account are not joined.
    broken = text.replace(tail, tail[::-1])
    assert parse_invoice(broken).invoice.virtual_barcode is None


def test_reference_check_digits() -> None:
    assert finnish_reference_valid(viitenumero("1234561"))
    assert finnish_reference_valid("868516259619897")
    assert not finnish_reference_valid("868516259619896")
    assert not finnish_reference_valid("12")  # too short
    assert viitenumero("123") == "1232"  # the guide's example: 1 2 3 -> check 2


def replace_field(doc: Document, prefix: str, value: str) -> str:
    lines = text_of(doc).splitlines()
    return "\n".join(value if line.startswith(prefix) else line for line in lines)


def test_invalid_iban_is_warned_and_left_empty() -> None:
    doc = invoice(1, code=False)
    assert doc.iban is not None
    broken = doc.iban[:-1] + str((int(doc.iban[-1]) + 1) % 10)
    out = parse_invoice(replace_field(doc, "IBAN", f"IBAN {broken}"))
    assert out.invoice.iban is None
    assert any("fails its check digits" in w for w in out.warnings)


@pytest.mark.parametrize("rf", [False, True], ids=["viitenumero", "rf"])
def test_invalid_reference_is_warned_and_left_empty(rf: bool) -> None:
    doc = invoice(2, rf=rf, code=False)
    assert doc.reference is not None
    wrong = doc.reference[:-1] + str((int(doc.reference[-1]) + 1) % 10)
    out = parse_invoice(replace_field(doc, "Viitenumero", f"Viitenumero {wrong}"))
    assert out.invoice.reference is None
    assert any("fails its check digit" in w and wrong in w for w in out.warnings)


def test_barcode_disagreeing_with_the_print_is_warned() -> None:
    doc = invoice(3)
    assert doc.due_date is not None and doc.barcode is not None
    later = doc.due_date + dt.timedelta(days=7)
    text = replace_field(doc, "Eräpäivä", f"Eräpäivä {later:%d.%m.%Y}")
    text = text.replace(
        f"Maksettava yhteensä EUR  {doc.total:.2f}".replace(".", ","),
        "Maksettava yhteensä EUR  1,00",
    )
    out = parse_invoice(text)
    assert out.invoice.due_date == later  # the print is kept, and the clash named
    assert any(
        f"barcode says due date {doc.due_date}" in w and str(later) in w
        for w in out.warnings
    )
    assert any(f"barcode says amount {float(doc.total)}" in w for w in out.warnings)
    assert out.invoice.needs_review


def test_rows_that_do_not_add_up_to_the_total_need_review() -> None:
    doc = invoice(0)
    clean = parse_invoice(text_of(doc))
    assert not clean.invoice.needs_review, clean.warnings
    description, amount, _ = doc.items[0]
    printed = f"{description}  {amount:.2f}".replace(".", ",")
    assert printed in text_of(doc)
    out = parse_invoice(text_of(doc).replace(printed, f"{description}  1,00"))
    assert out.invoice.total == float(doc.total)  # the printed total, kept
    assert out.invoice.needs_review
    assert any("the items read add up to" in w for w in out.warnings)


def test_fields_only_the_barcode_gives_are_filled_with_a_warning() -> None:
    doc = invoice(4)
    text = "\n".join(
        line
        for line in text_of(doc).splitlines()
        if not line.startswith(("Viitenumero", "Eräpäivä", "IBAN"))
    )
    out = parse_invoice(text)
    assert out.invoice.reference == doc.reference
    assert out.invoice.due_date == doc.due_date
    assert out.invoice.iban == doc.iban
    assert any(
        "reference read from the virtual barcode only" in w for w in out.warnings
    )


def test_item_lines_with_a_rate_do_not_replace_the_vat_table() -> None:
    text = (
        "Toimistotarvike Oy\nY-tunnus 0737546-2\nLASKU\nLaskun päivämäärä 2.11.2026\n"
        "Kuvaus Veroton ALV % Vero Yhteensä\n"
        "Paperi 100,00 25,5 % 25,50 125,50\n"
        "Kyniä 20,00 25,5 % 5,10 25,10\n"
        "ALV 25,5 % Veroton 120,00 Vero 30,60 Verollinen 150,60\n"
        "Maksettava yhteensä 150,60\n"
    )
    out = parse_invoice(text)
    assert [(v.rate, v.net, v.vat, v.gross) for v in out.invoice.vat_lines] == [
        (25.5, 120.0, 30.6, 150.6)
    ]
    assert out.invoice.total == 150.6


def test_missing_fields_are_null_with_warnings() -> None:
    out = parse_invoice("LASKU\nToimittaja Oy\nKiitos tilauksesta\n")
    i = out.invoice
    assert i.merchant == "Toimittaja Oy"
    assert [i.iban, i.reference, i.due_date, i.total, i.invoice_number] == [None] * 5
    assert any(w.startswith("IBAN not found") for w in out.warnings)
    assert any(w.startswith("due date not found") for w in out.warnings)
    assert out.confidence < 0.1


# --- read from files ---------------------------------------------------------------


def ctx() -> AgentContext:
    async def progress(*args: object) -> None:
        return None

    return AgentContext(
        tenant_id="acme",
        execution_id="e",
        step_id="ocr",
        agent_id="ocr_agent",
        attempt=1,
        logger=logging.getLogger("tests"),
        progress=progress,
    )


@pytest.mark.parametrize(
    ("seed", "rf", "fmt"),
    [(20, False, "pdf"), (21, True, "scan.pdf"), (22, False, "png"), (23, True, "png")],
)
async def test_invoices_read_from_files(
    tmp_path: Path, seed: int, rf: bool, fmt: str
) -> None:
    doc = invoice(seed, rf=rf)
    area = tmp_path / "acme"
    area.mkdir()
    rng = random.Random(seed)
    if fmt == "png":
        save_image(render_image(doc, rng, family="DejaVu Sans Mono"), area / "l.png")
        name = "l.png"
    else:
        render_pdf(doc, area / "l.pdf", text_layer=fmt == "pdf", rng=rng)
        name = "l.pdf"
    ocr = OcrAgent(AgentResources(files_dir=tmp_path))
    read = await ocr.run(OcrInput(file=name), ctx())
    warnings = assert_matches(doc, read.text)
    assert not any("barcode says" in w for w in warnings), warnings


@pytest.mark.parametrize("field", ["date", "due_date"])
def test_a_date_the_ocr_was_unsure_of_holds_the_invoice_for_review(
    field: str,
) -> None:
    doc = invoice(11)
    text = text_of(doc)
    sure = parse_invoice(text)
    assert not sure.invoice.needs_review, sure.warnings
    day = getattr(doc, field)
    assert day is not None
    # The date as printed (its format varies: 2026-08-11, 1. syyskuuta 2026, ...).
    label = {"date": "Laskun päivämäärä", "due_date": "Eräpäivä"}[field]
    line = next(line for line in text.splitlines() if line.startswith(label))
    word = line.removeprefix(label).strip()
    unsure = parse_invoice(text, [word])
    # The date left empty (or, for the due date, taken from the virtual barcode,
    # whose check digits vouch for it) and the invoice held for a person to check.
    coded = sure.invoice.virtual_barcode is not None and field == "due_date"
    assert getattr(unsure.invoice, field) == (day if coded else None)
    assert unsure.invoice.needs_review
    assert any("low OCR confidence" in w and str(day) in w for w in unsure.warnings), (
        unsure.warnings
    )
    # An unsure word that is no date of the invoice changes nothing.
    assert not parse_invoice(text, ["Kiitos"]).invoice.needs_review
