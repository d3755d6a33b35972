"""Finnish receipts in the layouts real tills print, made from a seeded random: grocery
chains (quantities, offers, loyalty lines, cash and change), a kiosk, a restaurant, a
fuel station, a hardware store and a pharmacy; VAT summaries as tables with or without a
header (columns in any order, under ``ALV-ERITTELY`` or not), inline rows, vertical
blocks and ``Sis. ALV`` lines; card terminal receipts stapled below.

Each receipt comes with its truth (`tests.support.documents.Document`); the layouts
differ on purpose from `documents.make_receipt`, which the parser was first built on.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from tests.support.documents import (
    CENT,
    Document,
    Line,
    VatRow,
    money,
    rates_on,
    vat_rows,
    ytunnus,
)

Item = tuple[str, Decimal, Decimal]  # description, gross, VAT rate
SHOPS: dict[str, tuple[list[str], dict[str, list[str]]]] = {
    "grocery": (
        ["K-Supermarket Kamppi", "S-market Kaleva", "Prisma Lielahti", "Lidl Pasila"],
        {
            "food": [
                "KEVYTMAITO 1L",
                "RUISPALAT 6KPL",
                "BANAANI",
                "JUUSTO EDAM 450G",
                "KAHVI 500G",
                "KANANMUNA 10KPL",
                "JAUHELIHA 400G",
                "TOMAATTI",
                "KAURAJUOMA 1L",
                "PIZZA PEPPERONI",
            ],
            "general": ["MUOVIKASSI", "WC-PAPERI 8RL", "ASTIANPESUAINE", "PARISTO AA"],
        },
    ),
    "kiosk": (
        ["R-kioski Rautatientori", "Kioski Kulmakonttori", "Tiimari-kioski"],
        {
            "food": ["KAHVI", "PATONKI", "SUKLAAPATUKKA", "VESI 0,5L", "PULLA"],
            "general": ["LATAUSKAAPELI", "SYTYTIN"],
        },
    ),
    "restaurant": (
        ["Ravintola Savoy", "Lounasravintola Pöytä", "Pizzeria Napoli"],
        {
            "food": [
                "LOUNAS BUFFET",
                "PÄIVÄN KEITTO",
                "PIZZA MARGHERITA",
                "JÄLKIRUOKA",
            ],
            "general": ["OLUT 0,5L", "VIINI 16CL"],
        },
    ),
    "fuel": (
        ["Neste Lahdentie", "ABC Hervanta", "St1 Kehä III"],
        {
            "food": ["KAHVI", "HAMPURILAINEN", "MUNKKI"],
            "general": ["TUULILASINPESU 4L", "AUTOPESU PERUS", "MOOTTORIÖLJY 1L"],
        },
    ),
    "hardware": (
        ["K-Rauta Lielahti", "Bauhaus Vantaa", "Rautakesko Tori"],
        {
            "general": [
                "RUUVI 4X40 200KPL",
                "MAALI 2,7L VALKOINEN",
                "VASARA",
                "PORAKONE 18V",
                "LAUTA 22X100 3M",
                "SILIKONI",
            ]
        },
    ),
    "pharmacy": (
        ["Yliopiston Apteekki", "Apteekki Hansa", "Kallion Apteekki"],
        {
            "books": ["BURANA 400MG 30TABL", "PARACETAMOL 500MG", "NENÄSUIHKE"],
            "general": ["AURINKORASVA SPF30", "LAASTARI", "HAMMASHARJA"],
        },
    ),
}
KINDS = tuple(SHOPS)
DATE_FORMS = (
    "{d}.{m}.{y} {t}",
    "{dd}.{mm}.{y} klo {t}",
    "PVM {dd}.{mm}.{yy} KLO {t}",
    "{y}-{mm}-{dd} {t}:{s}",
    "{dd}.{mm}.{y}  {t}",
)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def _rate(rate: Decimal, decimals: int = 1) -> str:
    text = f"{rate:.{decimals}f}" if rate % 1 or decimals == 2 else f"{rate:.0f}"
    return text.replace(".", ",")


def _date(day: dt.date, rng: random.Random) -> str:
    hour, minute, second = rng.randint(7, 22), rng.randint(0, 59), rng.randint(0, 59)
    return rng.choice(DATE_FORMS).format(
        d=day.day,
        m=day.month,
        dd=f"{day.day:02d}",
        mm=f"{day.month:02d}",
        y=day.year,
        yy=f"{day.year % 100:02d}",
        t=f"{hour:02d}:{minute:02d}",
        s=f"{second:02d}",
    )


# --- items ---------------------------------------------------------------------------


def _item_lines(kind: str, items: list[Item], rng: random.Random) -> list[Line]:
    """Each item as the till prints it: quantities, weights, litres, offers."""
    lines: list[Line] = []
    for description, gross, _ in items:
        if gross < 0:
            lines.append((description, money(gross)))
            continue
        form = rng.random()
        if kind == "fuel" and description.startswith(("DIESEL", "95E10", "98E5")):
            litres = _cents(gross / Decimal("1.899"))
            lines.append((description, ""))
            lines.append((f"  {money(litres)} l x 1,899 €/l", money(gross)))
        elif form < 0.2 and gross < 30 and (gross * 100) % 3 == 0:
            count = 3
            lines.append((description, ""))
            lines.append((f"  {count} x {money(gross / count)}", money(gross)))
        elif form < 0.35 and (gross * 100) % 2 == 0:
            lines.append((f"{description}", money(gross)))
            lines.append((f"  2 KPL x {money(gross / 2)} EUR", ""))
        else:
            lines.append((description, money(gross)))
    return lines


def _items(kind: str, day: dt.date, rng: random.Random) -> list[Item]:
    rates = rates_on(day)
    catalogue = SHOPS[kind][1]
    count = rng.randint(1, 3) if kind in ("kiosk", "restaurant") else rng.randint(2, 7)
    items: list[Item] = []
    if kind == "fuel":
        fuel = rng.choice(["DIESEL", "95E10", "98E5"])
        litres = Decimal(rng.randint(1500, 6000)) / 100
        items.append((fuel, _cents(litres * Decimal("1.899")), rates["general"]))
        count = rng.randint(0, 2)
    for _ in range(count):
        group = rng.choice(sorted(catalogue))
        top = 250000 if kind == "hardware" and rng.random() < 0.3 else 3500
        gross = Decimal(rng.randint(59, top)) / 100
        items.append((rng.choice(catalogue[group]), gross, rates[group]))
    if kind == "grocery" and rng.random() < 0.5:
        # An offer on the item above it, at that item's rate.
        _, gross, rate = items[-1]
        cut = min(_cents(gross / 5), Decimal("1.50")) or Decimal("0.10")
        items.append((rng.choice(["TARJOUS", "ALENNUS", "PLUSSA-ETU"]), -cut, rate))
    return items


# --- VAT summaries -------------------------------------------------------------------


def _vat_block(rows: tuple[VatRow, ...], rng: random.Random) -> list[Line]:
    """The VAT summary in one of the printed forms (`documents.printed_vat` knows that
    a ``Sis. ALV`` line prints the VAT alone)."""
    style = rng.choice(["header", "headerless", "vertical", "inline", "single"])
    if style == "single" and len(rows) > 1:
        style = "vertical"
    if style == "header":
        columns = [("Veroton", "net"), ("Vero", "vat"), ("Verollinen", "gross")]
        rng.shuffle(columns)
        title = rng.choice(["ALV %", "ALV-%", "VEROKANTA"])
        lines: list[Line] = [("ALV-ERITTELY", "")] if rng.random() < 0.5 else []
        lines.append(
            (f"{title}  " + "  ".join(c for c, _ in columns[:2]), columns[2][0])
        )
        for r in rows:
            figures = [money(getattr(r, field)) for _, field in columns]
            lines.append(
                (f"{_rate(r.rate)} %   {figures[0]}   {figures[1]}", figures[2])
            )
        return lines
    if style == "headerless":
        lines = [("ALV-ERITTELY", "")]
        for code, r in zip("ABCD", rows, strict=False):
            lines.append(
                (
                    f"{code} {_rate(r.rate, 2)}%  {money(r.net)}  {money(r.vat)}",
                    money(r.gross),
                )
            )
        return lines
    if style == "vertical":
        lines = []
        for r in rows:
            lines += [
                (f"Alv {_rate(r.rate, 2)} %", ""),
                ("Veroton", money(r.net)),
                ("Vero", money(r.vat)),
                ("Verollinen", money(r.gross)),
            ]
        return lines
    if style == "inline":
        return [
            (
                f"ALV {_rate(r.rate)}% VEROTON {money(r.net)} VERO {money(r.vat)}",
                money(r.gross),
            )
            for r in rows
        ]
    return [(f"Sis. ALV {_rate(rows[0].rate)} %", money(rows[0].vat))]


# --- payment -------------------------------------------------------------------------


def _payment(
    total: Decimal, kind: str, day: dt.date, rng: random.Random
) -> tuple[str, list[Line]]:
    if rng.random() < 0.3 and kind != "fuel":
        given = (total // 10 + 1) * 10 if total < 100 else (total // 50 + 1) * 50
        return "käteinen", [
            ("KÄTEINEN", money(given)),
            ("TAKAISIN", money(given - total)),
        ]
    method = rng.choice(["PANKKIKORTTI", "VISA DEBIT", "KORTTIMAKSU", "MASTERCARD"])
    lines: list[Line] = [(method, money(total))]
    if rng.random() < 0.6:
        # The card terminal's own receipt, printed on the same slip.
        lines += [
            ("", ""),
            ("*** ASIAKKAAN KAPPALE ***", ""),
            (f"{day.day:02d}.{day.month:02d}.{day.year} klo 12:00", ""),
            (f"Visa Debit ************{rng.randint(1000, 9999)}", ""),
            (f"AID: A000000003{rng.randint(1000, 9999)}", ""),
            ("OSTO", f"{money(total)} EUR"),
            ("VARMENNUS: PIN", ""),
            (f"ARKISTOINTITUNNUS {rng.randint(10**9, 10**10 - 1)}", ""),
        ]
    return "kortti", lines


def _loyalty(name: str, total: Decimal, rng: random.Random) -> list[Line]:
    if name.startswith(("S-", "Prisma")):
        return [("S-Etukortti ****1234", ""), ("Bonukseen oikeuttavat", money(total))]
    if name.startswith("K-"):
        return [("Plussa-kortti 2000", ""), ("Plussa-pisteitä kertyi", "12")]
    return []


# --- the receipt ---------------------------------------------------------------------


def make_layout_receipt(rng: random.Random, kind: str | None = None) -> Document:
    """A receipt of `kind` (one of `KINDS`; random if None) in a real till's layout."""
    kind = kind or rng.choice(KINDS)
    names = SHOPS[kind][0]
    name = rng.choice(names)
    day = dt.date(2023, 3, 1) + dt.timedelta(days=rng.randint(0, 1350))
    items = _items(kind, day, rng)
    rows = vat_rows(items)
    total = sum((gross for _, gross, _ in items), Decimal(0))
    business_id = ytunnus(rng)
    vat_block = _vat_block(rows, rng)
    method, payment = _payment(total, kind, day, rng)
    label = rng.choice(["YHTEENSÄ", "YHTEENSÄ EUR", "Yhteensä", "SUMMA EUR", "Total"])
    header: list[Line] = [
        (name, ""),
        (rng.choice(["Hämeenkatu 10", "Aleksanterinkatu 5", "Kauppatori 1"]), ""),
        (rng.choice(["33100 TAMPERE", "00100 HELSINKI", "90100 OULU"]), ""),
        (f"{rng.choice(['Y-tunnus', 'Y-TUNNUS:', 'Y-tunnus:'])} {business_id}", ""),
        (_date(day, rng), f"Kuitti {rng.randint(10000, 99999)}"),
        ("-" * 32, ""),
    ]
    if kind == "restaurant":
        header.insert(4, (f"Pöytä {rng.randint(1, 30)}  Tarjoilija Anna", ""))
    body = _item_lines(kind, items, rng)
    lines: list[Line] = [
        *header,
        *body,
        ("-" * 32, ""),
        (label, money(total)),
        *payment[:2],
        ("", ""),
        *vat_block,
        ("", ""),
        *_loyalty(name, total, rng),
        *payment[2:],
        ("KIITOS KÄYNNISTÄ!", ""),
    ]
    return Document(
        "receipt",
        name,
        business_id,
        day,
        tuple(items),
        rows,
        total,
        method,
        tuple(lines),
    )


def layout_receipts(count: int, seed: int) -> list[Document]:
    """`count` receipts, the kinds taken in turn, from `seed`."""
    rng = random.Random(seed)
    return [make_layout_receipt(rng, KINDS[n % len(KINDS)]) for n in range(count)]
