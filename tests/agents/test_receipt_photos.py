"""Receipts as people photograph them, read end to end: 60 receipts in real tills'
layouts (`tests.support.receipt_layouts`), 20 each as a flatbed scan, a photo cropped
to the paper and a phone photo of the slip on a table (`tests.support.photos`), read by
the real `ocr_agent` (Tesseract) and `receipt_parser_agent`.

A receipt is fully right when its total, date and Y-tunnus are. Whatever is wrong must
be null (with a warning) or flagged `needs_review`, and no figure may come back that is
printed nowhere on the receipt: those two hold strictly; the rates have floors a little
below what was measured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.photos import photograph
from tests.support.receipt_layouts import layout_receipts
from tests.support.receipt_reading import (
    TENANT,
    Case,
    Verdict,
    describe,
    figures,
    make_cases,
    read_all,
)

if TYPE_CHECKING:
    from pathlib import Path

#: Reading 60 images takes about a minute and a half of CPU; on a loaded machine the
#: module's first test (which waits for all of them) needs more than the default limit.
pytestmark = pytest.mark.timeout(900)
PER_KIND = 20
SEED = 20261124
#: Floors per kind of image: (fully right, VAT table right).
FLOORS = {"scan": (0.95, 0.90), "cropped": (0.95, 0.90), "table": (0.90, 0.85)}


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> list[Verdict]:
    area: Path = tmp_path_factory.mktemp("receipt-photos")
    cases = make_cases(area, PER_KIND, tuple(FLOORS), SEED)
    return read_all(area, cases, workers=2)


def test_no_figure_is_invented_and_every_wrong_field_is_flagged(
    verdicts: list[Verdict],
) -> None:
    invented = [f"{v.case.name}: {v.invented}" for v in verdicts if v.invented]
    unflagged = [f"{v.case.name}: {v.unflagged}" for v in verdicts if v.unflagged]
    assert invented == [], describe(verdicts)
    assert unflagged == [], describe(verdicts)


@pytest.mark.parametrize("kind", list(FLOORS))
def test_receipts_read_fully_right(
    verdicts: list[Verdict], kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    found = figures(verdicts, kind)
    with capsys.disabled():
        print(
            f"\n{kind}: fully right {found.fully_right:.0%}, VAT right "
            f"{found.vat_right:.0%}, flagged {found.flagged}/{found.receipts}, "
            f"median {found.median_s:.2f} s"
        )
    fully, vat = FLOORS[kind]
    mine = [v for v in verdicts if v.case.kind == kind]
    assert found.receipts == PER_KIND
    assert found.fully_right >= fully, describe(mine)
    assert found.vat_right >= vat, describe(mine)


def test_a_date_the_two_readings_disagree_on_is_held_for_review(
    tmp_path: Path,
) -> None:
    # Another phone photo: its first reading's figures disagree, and the second
    # reading, which agrees better, reads the date's 12 as 17 (a valid date too).
    doc = layout_receipts(20, SEED)[19]
    name = "receipts/table-019.jpg"
    path = tmp_path / TENANT / name
    path.parent.mkdir(parents=True)
    photograph(doc, "table", SEED * 1000 + 19).save(path, quality=90)
    [verdict] = read_all(tmp_path, [Case(19, "table", name, doc)], workers=1)
    assert verdict.unflagged == [], describe([verdict])
    assert verdict.review
