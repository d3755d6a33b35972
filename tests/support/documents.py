"""Real documents for tests: Finnish receipts and purchase invoices, made from a seeded
random so that every run makes the same ones (`tests.support.scans` renders them as
images and PDFs into temporary directories).

Each generator returns the document's true content next to its printed layout, so a
test compares what the agents read with what was printed. Check digits (Y-tunnus, IBAN,
viitenumero, RF) are computed here by hand, independently of the product's checks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
MONTHS = (
    "tammikuuta helmikuuta maaliskuuta huhtikuuta toukokuuta kesäkuuta heinäkuuta "
    "elokuuta syyskuuta lokakuuta marraskuuta joulukuuta"
).split()

Line = tuple[str, str]  # text on the left, an amount on the right ("" for none)


@dataclass(frozen=True)
class VatRow:
    """One rate of a document's VAT table."""

    rate: Decimal
    net: Decimal
    vat: Decimal
    gross: Decimal


@dataclass(frozen=True)
class Document:
    """A generated receipt or invoice: what it says, and how it is laid out."""

    kind: str  # "receipt" or "invoice"
    merchant: str
    business_id: str
    date: dt.date
    items: tuple[tuple[str, Decimal, Decimal], ...]  # description, gross, VAT rate
    vat_rows: tuple[VatRow, ...]
    total: Decimal
    payment: str | None
    lines: tuple[Line, ...]
    invoice_number: str | None = None
    iban: str | None = None
    bic: str | None = None
    reference: str | None = None
    due_date: dt.date | None = None
    barcode: str | None = None


# --- check digits, by hand -----------------------------------------------------------


def ytunnus(rng: random.Random) -> str:
    """A random Business ID with a valid check digit (weights 7 9 10 5 8 4 2)."""
    while True:
        digits = [rng.randint(0, 9) for _ in range(7)]
        digits[0] = rng.randint(0, 3)
        rest = sum(w * d for w, d in zip((7, 9, 10, 5, 8, 4, 2), digits, strict=True))
        rest %= 11
        if rest != 1:
            check = 0 if rest == 0 else 11 - rest
            return "".join(map(str, digits)) + f"-{check}"


def _mod97(text: str) -> int:
    digits = "".join(str(int(c, 36)) for c in text)
    return int(digits) % 97


def finnish_iban(rng: random.Random) -> str:
    """A random Finnish IBAN (compact) with valid check digits."""
    bban = rng.choice(["1", "5", "8", "4"]) + "".join(
        str(rng.randint(0, 9)) for _ in range(13)
    )
    check = 98 - _mod97(bban + "FI00")
    return f"FI{check:02d}{bban}"


def viitenumero(base: str) -> str:
    """A Finnish reference number: `base` plus its 7-3-1 check digit."""
    weights = (7, 3, 1)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(base)))
    return base + str((10 - total % 10) % 10)


def rf_reference(body: str) -> str:
    """An ISO 11649 (RF) creditor reference for `body`, compact."""
    check = 98 - _mod97(body + "RF00")
    return f"RF{check:02d}{body}"


def virtual_barcode(
    iban: str, amount: Decimal, reference: str, due: dt.date | None
) -> str:
    """The Finnish bank barcode (version 4 for viitenumero, 5 for RF), 54 digits."""
    euros, cents = divmod(int((amount * 100).to_integral_value()), 100)
    due_text = due.strftime("%y%m%d") if due else "000000"
    if reference.startswith("RF"):
        ref = reference[2:4] + reference[4:].rjust(21, "0")
        return f"5{iban[2:]}{euros:06d}{cents:02d}{ref}{due_text}"
    return f"4{iban[2:]}{euros:06d}{cents:02d}000{reference.rjust(20, '0')}{due_text}"


# --- content --------------------------------------------------------------------------


def rates_on(day: dt.date) -> dict[str, Decimal]:
    """Finland's VAT rates by kind on `day` (the test's own oracle)."""
    general = Decimal("24") if day < dt.date(2024, 9, 1) else Decimal("25.5")
    food = Decimal("14") if day < dt.date(2026, 1, 1) else Decimal("13.5")
    if day < dt.date(2025, 1, 1):
        books = Decimal("10")
    else:
        books = food
    return {"general": general, "food": food, "books": books, "news": Decimal("10")}


CATALOGUE = {
    "food": [
        "Maito 1 l",
        "Ruisleipä",
        "Kahvi 500 g",
        "Banaanit",
        "Juusto Edam",
        "Jogurtti mansikka",
        "Kananmunat",
        "Omenat",
        "Kaurahiutaleet",
        "Jauheliha",
        "Lohifilee",
        "Perunat",
        "Karjalanpiirakat",
        "Voi",
        "Lounas",
        "Kahvi ja pulla",
    ],
    "general": [
        "Muovikassi",
        "Paristot AA",
        "Shampoo",
        "Hammastahna",
        "Talouspaperi",
        "Pesuaine",
        "Kynttilät",
        "LED-lamppu",
        "Sukat",
        "Vihko",
        "Olut",
    ],
    "books": ["Pokkarikirja", "Keittokirja", "Burana", "Särkylääke", "Sanakirja"],
    "news": ["Sanomalehti", "Aikakauslehti"],
}
MERCHANTS = [
    ("K-Market Keskusta", ("food", "general")),
    ("S-Market Hervanta", ("food", "general")),
    ("Lidl Kamppi", ("food", "general")),
    ("Alepa Töölö", ("food", "general")),
    ("R-kioski Asema", ("food", "general", "news")),
    ("Apteekki Kauppakatu", ("books", "general")),
    ("Suomalainen Kirjakauppa", ("books", "general", "news")),
    ("Ravintola Kultainen Lohi", ("food", "general")),
    ("Kahvila Pulla", ("food",)),
    ("Rautakauppa Vasara", ("general",)),
]
STREETS = ["Kauppakatu 5", "Hämeenkatu 12", "Mannerheimintie 3", "Asemakatu 1"]
CITIES = ["00100 Helsinki", "33100 Tampere", "20100 Turku", "90100 Oulu"]
PAYMENTS = ["Kortti", "Käteinen", "MobilePay", "Visa Debit", "Pankkikortti"]
TOTAL_LABELS = ["YHTEENSÄ", "Yhteensä EUR", "Yht.", "Summa", "Total", "YHTEENSÄ €"]


def money(value: Decimal, *, euro: bool = False) -> str:
    """An amount as Finnish receipts print it: ``12,50`` (or ``12,50 €``)."""
    text = f"{value:.2f}".replace(".", ",")
    return f"{text} €" if euro else text


def rate_text(rate: Decimal, rng: random.Random) -> str:
    """A rate in one of the printed forms: ``25,5 %``, ``25.5%``, ``24 %``."""
    text = f"{rate.normalize():f}"
    if rng.random() < 0.7:
        text = text.replace(".", ",")
    return text + rng.choice([" %", "%"])


def date_text(day: dt.date, rng: random.Random) -> str:
    """A date in one of the Finnish forms."""
    form = rng.choice(["long", "short", "iso", "words"])
    if form == "long":
        return f"{day.day}.{day.month}.{day.year}"
    if form == "short":
        return f"{day.day:02d}.{day.month:02d}.{day.year % 100:02d}"
    if form == "iso":
        return day.isoformat()
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"


def vat_rows(items: list[tuple[str, Decimal, Decimal]]) -> tuple[VatRow, ...]:
    """VAT per rate, computed from gross sums as tills do."""
    gross: dict[Decimal, Decimal] = {}
    for _, amount, rate in items:
        gross[rate] = gross.get(rate, Decimal(0)) + amount
    rows = []
    for rate in sorted(gross, reverse=True):
        vat = (gross[rate] * rate / (100 + rate)).quantize(CENT, ROUND_HALF_UP)
        rows.append(VatRow(rate, gross[rate] - vat, vat, gross[rate]))
    return tuple(rows)


def _vat_table(rows: tuple[VatRow, ...], rng: random.Random) -> list[Line]:
    style = rng.choice(["table", "table", "inline", "single"])
    if style == "single" and len(rows) > 1:
        style = "table"
    if style == "table":
        lines: list[Line] = [("ALV %   Veroton   Vero", "Verollinen")]
        for r in rows:
            lines.append(
                (
                    f"{rate_text(r.rate, rng)}   {money(r.net)}   {money(r.vat)}",
                    money(r.gross),
                )
            )
        return lines
    if style == "inline":
        return [
            (
                f"ALV {rate_text(r.rate, rng)} Veroton {money(r.net)} "
                f"Vero {money(r.vat)}",
                money(r.gross),
            )
            for r in rows
        ]
    return [(f"Sis. ALV {rate_text(rows[0].rate, rng)}", money(rows[0].vat))]


def make_receipt(rng: random.Random) -> Document:
    """A realistic Finnish shop or restaurant receipt."""
    merchant, kinds = rng.choice(MERCHANTS)
    day = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 1423))
    rates = rates_on(day)
    items = []
    for _ in range(rng.randint(3, 8)):
        kind = rng.choice(kinds)
        amount = Decimal(rng.randint(49, 4990)) / 100
        items.append((rng.choice(CATALOGUE[kind]), amount, rates[kind]))
    rows = vat_rows(items)
    total = sum((a for _, a, _ in items), Decimal(0))
    business_id = ytunnus(rng)
    payment = rng.choice(PAYMENTS)
    euro = rng.random() < 0.3
    time = f"{rng.randint(7, 21):02d}:{rng.randint(0, 59):02d}"
    lines: list[Line] = [
        (merchant, ""),
        (f"{rng.choice(STREETS)}, {rng.choice(CITIES)}", ""),
        (f"{rng.choice(['Y-tunnus', 'Y-tunnus:', 'Y-TUNNUS'])} {business_id}", ""),
        (f"{date_text(day, rng)}  klo {time}", f"Kuitti {rng.randint(1000, 99999)}"),
        ("-" * 30, ""),
        *((desc, money(amount, euro=euro)) for desc, amount, _ in items),
        ("-" * 30, ""),
        (rng.choice(TOTAL_LABELS), money(total, euro=euro)),
        ("", ""),
        *_vat_table(rows, rng),
        ("", ""),
        (payment, money(total)),
        ("Kiitos käynnistä!", ""),
    ]
    return Document(
        "receipt",
        merchant,
        business_id,
        day,
        tuple(items),
        rows,
        total,
        payment,
        tuple(lines),
    )


SUPPLIERS = [
    "Toimistotarvike Oy",
    "Siivouspalvelu Puhdas Oy",
    "IT-Tuki Nieminen Ky",
    "Kirjanpitotoimisto Tase Oy",
    "Kuljetus Virtanen Oy",
]
SERVICES = [
    "Tulostuspaperi A4",
    "Siivous marraskuu",
    "Tukipalvelu 5 h",
    "Kirjanpito",
    "Rahti",
    "Näyttö 27",
    "Ohjelmistolisenssi",
]


def make_invoice(
    rng: random.Random, *, rf: bool = False, barcode: bool = True
) -> Document:
    """A Finnish purchase invoice with IBAN, a reference and (by default) a virtual
    barcode (version 5 when `rf`, else 4)."""
    supplier = rng.choice(SUPPLIERS)
    day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 1050))
    due = day + dt.timedelta(days=rng.choice([14, 21, 30]))
    rate = rates_on(day)["general"]
    items = [
        (rng.choice(SERVICES), Decimal(rng.randint(1000, 90000)) / 100, rate)
        for _ in range(rng.randint(1, 4))
    ]
    rows = vat_rows(items)
    total = sum((a for _, a, _ in items), Decimal(0))
    business_id = ytunnus(rng)
    iban = finnish_iban(rng)
    bic = rng.choice(["NDEAFIHH", "OKOYFIHH", "DABAFIHH", "HELSFIHH"])
    base = str(rng.randint(100, 99999999))
    reference = rf_reference(base) if rf else viitenumero(base)
    number = str(rng.randint(1000, 99999))
    code = virtual_barcode(iban, total, reference, due) if barcode else None
    grouped_iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    printed_ref = group_reference(reference)
    lines: list[Line] = [
        (supplier, ""),
        (f"{rng.choice(STREETS)}, {rng.choice(CITIES)}", ""),
        (f"Y-tunnus {business_id}", ""),
        ("LASKU", ""),
        (f"Laskun numero {number}", ""),
        (f"Laskun päivämäärä {date_text(day, rng)}", ""),
        (f"Eräpäivä {date_text(due, rng)}", ""),
        (f"Viitenumero {printed_ref}", ""),
        (f"IBAN {grouped_iban}", ""),
        (f"BIC {bic}", ""),
        ("", ""),
        ("Kuvaus", "Yhteensä"),
        *((desc, money(amount)) for desc, amount, _ in items),
        ("", ""),
        *_vat_table(rows, rng),
        ("Maksettava yhteensä EUR", money(total)),
    ]
    if code:
        lines += [("", ""), (f"Virtuaaliviivakoodi {code}", "")]
    return Document(
        "invoice",
        supplier,
        business_id,
        day,
        tuple(items),
        rows,
        total,
        "lasku",
        tuple(lines),
        invoice_number=number,
        iban=iban,
        bic=bic,
        reference=reference,
        due_date=due,
        barcode=code,
    )


def group_reference(reference: str) -> str:
    """A reference as printed: RF in groups of four, a viitenumero in fives from the
    right."""
    if reference.startswith("RF"):
        return " ".join(reference[i : i + 4] for i in range(0, len(reference), 4))
    groups: list[str] = []
    rest = reference
    while rest:
        groups.insert(0, rest[-5:])
        rest = rest[:-5]
    return " ".join(groups)


def printed_vat(
    doc: Document,
) -> list[tuple[float, float | None, float | None, float | None]]:
    """The document's VAT lines as printed, sorted: a ``Sis. ALV`` line prints the VAT
    of the whole total alone, so its net is not on the paper."""
    vat_only = any(left.startswith("Sis. ALV") for left, _ in doc.lines)
    return sorted(
        (
            float(v.rate),
            None if vat_only else float(v.net),
            float(v.vat),
            float(v.gross),
        )
        for v in doc.vat_rows
    )


def text_of(doc: Document) -> str:
    """The document as plain text (what a perfect OCR would read)."""
    return "\n".join(f"{left}  {right}".rstrip() for left, right in doc.lines) + "\n"


def mangled_receipt() -> tuple[Document, str]:
    """A receipt with one VAT row whose VAT amount was misprinted (net + VAT is no
    longer its gross), and its text."""
    rng = random.Random(7301)
    while True:
        doc = make_receipt(rng)
        single = not any(left.startswith("Sis. ALV") for left, _ in doc.lines)
        if len(doc.vat_rows) == 1 and single:
            break
    row = doc.vat_rows[0]
    wrong = money(row.vat + Decimal("0.40"))
    lines = tuple(
        (left.replace(money(row.vat), wrong), right)
        if money(row.net) in left and money(row.vat) in left
        else (left, right)
        for left, right in doc.lines
    )
    assert lines != doc.lines
    mangled = dataclasses.replace(doc, lines=lines)
    return doc, text_of(mangled)
