"""Reading words: Voikko lemmas, typos, language detection, and what is cut out of a
command before its words are read (addresses, paths, dates)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from agent_orchestrator.core.errors import PlanningFailed
from agent_orchestrator.planner.extract import extract
from agent_orchestrator.planner.finnish import (
    FinnishAnalyzer,
    detect_language,
    tokenize,
    within_one_edit,
)
from agent_orchestrator.planner.model import PeriodKind, PeriodSpec
from agent_orchestrator.planner.period_words import read_period

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="module")
def analyzer() -> Iterator[FinnishAnalyzer]:
    reader = FinnishAnalyzer()
    yield reader
    reader.close()


@pytest.mark.parametrize(
    ("word", "lemma"),
    [
        ("kuiteista", "kuitti"),
        ("KUITIN", "kuitti"),
        ("vuosineljännekseltä", "vuosineljännes"),
        ("ALV-laskelman", "alv-laskelma"),
        ("lokakuulta", "lokakuu"),
        ("kesäkuussa", "kesäkuu"),
        ("viimeiseltä", "viimeinen"),
        ("kolmelta", "kolme"),
        ("kahdeltatoista", "kaksitoista"),
        ("tilikaudelta", "tilikausi"),
        ("eiliseltä", "eilinen"),
        ("lähetä", "lähettää"),
        ("tarvitsisin", "tarvita"),
        ("osoitteisiin", "osoite"),
    ],
)
def test_lemmas(analyzer: FinnishAnalyzer, word: str, lemma: str) -> None:
    read = analyzer.word(word)
    assert lemma in read.lemmas
    assert read.known and read.corrected is None


def test_compound_parts(analyzer: FinnishAnalyzer) -> None:
    assert {"talous", "raportti"} <= analyzer.word("talousraportin").parts
    assert {"arvo", "lisä", "vero", "laskelma"} <= analyzer.word(
        "arvonlisäverolaskelma"
    ).parts
    assert {"api", "avain"} <= analyzer.word("API-avain").parts
    assert "avain" in analyzer.word("API-avain").lemmas
    assert analyzer.word("asiakkaille").plural
    assert not analyzer.word("yrityksen").plural


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("talousrapotti", "talousraportti"),  # a letter left out
        ("talousraprotti", "talousraportti"),  # two letters swapped
        ("kuittii", "kuitti"),  # one letter too many
        ("ostolsku", "ostolasku"),
        ("kuiti", "kuitti"),  # five letters are enough
        ("talousrapotin", "talousraportti"),  # an inflected form one edit away
    ],
)
def test_a_small_typo_is_read_as_the_word_meant(
    analyzer: FinnishAnalyzer, typo: str, meant: str
) -> None:
    read = analyzer.word(typo)
    assert meant in read.lemmas
    assert read.corrected is not None


@pytest.mark.parametrize("word", ["mulle", "kuit", "xyzzyq", "globex", "qwertyuiop"])
def test_no_correction_for_short_colloquial_or_far_words(
    analyzer: FinnishAnalyzer, word: str
) -> None:
    read = analyzer.word(word)
    assert read.corrected is None
    assert read.lemmas == {word.lower()}
    assert analyzer.word(word, correct_typos=False).corrected is None


def test_within_one_edit() -> None:
    assert within_one_edit("kuitti", "kuitti")
    assert within_one_edit("kuitti", "kuiti")
    assert within_one_edit("kuiti", "kuitti")
    assert within_one_edit("kuitti", "kuittu")
    assert within_one_edit("kuitti", "kutiti")
    assert within_one_edit("kuitti", "kutitti")
    assert not within_one_edit("kuitti", "kuittaus")
    assert not within_one_edit("kuitti", "kuit")
    assert not within_one_edit("lasku", "laksut")


@pytest.mark.parametrize(
    ("command", "language"),
    [
        ("Luo talousraportti viime kuulta", "fi"),
        ("tee mulle raportti pliis", "fi"),
        ("Create a financial report for last month", "en"),
        ("Process the receipt", "en"),
        ("Skapa en finansiell rapport för förra månaden", "sv"),
        ("Gör en momsrapport", "sv"),
    ],
)
def test_language_detection(
    analyzer: FinnishAnalyzer, command: str, language: str
) -> None:
    words = analyzer.words(tokenize(command), correct_typos=False)
    assert detect_language(words) == language


def test_an_undecided_language_falls_back_to_the_callers() -> None:
    assert detect_language([], "sv") == "sv"
    assert detect_language([]) == "fi"


def test_tokens_keep_inner_hyphens_colons_and_ordinals() -> None:
    assert tokenize("Tee ALV:n laskelma PDF-muodossa, 3. neljännes!") == [
        "Tee",
        "ALV:n",
        "laskelma",
        "PDF-muodossa",
        "3.",
        "neljännes",
    ]


def test_extract_keeps_paths_and_addresses_as_written_in_order() -> None:
    found = extract(
        'Käsittele "kuitit/Lidl kuitti.JPG", /srv/files/a-1.pdf ja ./b/c.png. '
        "Lähetä osoitteisiin Anna.K@tili.fi, pekka+alv@tili.fi ja x@y.fi."
    )
    assert found.paths == ["kuitit/Lidl kuitti.JPG", "/srv/files/a-1.pdf", "./b/c.png"]
    assert found.emails == ["Anna.K@tili.fi", "pekka+alv@tili.fi", "x@y.fi"]
    assert "kuitit" not in found.rest and "@" not in found.rest


def test_extract_dates_quarters_and_months() -> None:
    found = extract("ajalta 1.–15.9.2026, 1.10. – 2026-10-31 ja Q3/2026, 11/2025")
    assert [(d.day, d.month, d.year) for d in found.dates] == [
        (1, None, None),
        (15, 9, 2026),
        (1, 10, None),
        (31, 10, 2026),
    ]
    assert found.quarters == [(3, 2026)]
    assert found.months == [(11, 2025)]
    assert not any(ch.isdigit() for ch in found.rest)


def period(
    analyzer: FinnishAnalyzer, command: str, reference: dt.date
) -> PeriodSpec | None:
    found = extract(command)
    words = analyzer.words(tokenize(found.rest))
    raw = " ".join(w.lower for w in words)
    return read_period(
        words,
        found.dates,
        found.quarters,
        found.months,
        found.halves,
        reference,
        "fi",
        raw,
    )


@pytest.mark.parametrize(
    ("command", "spec"),
    [
        ("viime kuulta", PeriodSpec(kind=PeriodKind.PREVIOUS_MONTH)),
        ("viime kuusta", PeriodSpec(kind=PeriodKind.PREVIOUS_MONTH)),  # not "six"
        ("kuluvalta neljännekseltä", PeriodSpec(kind=PeriodKind.CURRENT_QUARTER)),
        ("vuoden alusta", PeriodSpec(kind=PeriodKind.CURRENT_YEAR)),
        ("edelliseltä tilikaudelta", PeriodSpec(kind=PeriodKind.PREVIOUS_YEAR)),
        ("tilikaudelta 2024", PeriodSpec(kind=PeriodKind.YEAR, year=2024)),
        ("vuodelta 2024", PeriodSpec(kind=PeriodKind.YEAR, year=2024)),
        ("lokakuulta", PeriodSpec(kind=PeriodKind.MONTH, month=10)),
        ("syyskuu 2025", PeriodSpec(kind=PeriodKind.MONTH, month=9, year=2025)),
        (
            "viime vuoden joulukuulta",
            PeriodSpec(kind=PeriodKind.MONTH, month=12, year=2025),
        ),
        (
            "vuoden 2025 toiselta neljännekseltä",
            PeriodSpec(kind=PeriodKind.QUARTER, quarter=2, year=2025),
        ),
        ("3. neljännes", PeriodSpec(kind=PeriodKind.QUARTER, quarter=3)),
        ("Q3 2026", PeriodSpec(kind=PeriodKind.QUARTER, quarter=3, year=2026)),
        (
            "viimeiset kuusi kuukautta",
            PeriodSpec(kind=PeriodKind.LAST_N_MONTHS, count=6),
        ),
        ("viimeiset 6 kk", PeriodSpec(kind=PeriodKind.LAST_N_MONTHS, count=6)),
        ("eilen", PeriodSpec(kind=PeriodKind.YESTERDAY)),
        ("tänään", PeriodSpec(kind=PeriodKind.TODAY)),
        ("viime viikolta", PeriodSpec(kind=PeriodKind.PREVIOUS_WEEK)),
        ("tältä viikolta", PeriodSpec(kind=PeriodKind.CURRENT_WEEK)),
        ("toissa vuonna", PeriodSpec(kind=PeriodKind.YEAR, year=2024)),
        ("10/2026", PeriodSpec(kind=PeriodKind.MONTH, month=10, year=2026)),
        (
            "15.9.2026",
            PeriodSpec(
                kind=PeriodKind.EXPLICIT,
                start=dt.date(2026, 9, 15),
                end=dt.date(2026, 9, 15),
            ),
        ),
        (
            "1.9.2026 alkaen",
            PeriodSpec(
                kind=PeriodKind.EXPLICIT,
                start=dt.date(2026, 9, 1),
                end=dt.date(2026, 11, 24),
            ),
        ),
        ("ilman aikaa", None),
    ],
)
def test_period_words(
    analyzer: FinnishAnalyzer, command: str, spec: PeriodSpec | None
) -> None:
    assert period(analyzer, command, dt.date(2026, 11, 24)) == spec


def test_a_date_that_does_not_exist_is_refused(analyzer: FinnishAnalyzer) -> None:
    with pytest.raises(PlanningFailed, match="29.2.2026"):
        period(analyzer, "29.2.2026", dt.date(2026, 11, 24))
    leap = period(analyzer, "29.2.2028", dt.date(2028, 11, 24))
    assert leap is not None and leap.start == dt.date(2028, 2, 29)


def test_a_closed_analyser_refuses_new_words() -> None:
    reader = FinnishAnalyzer()
    assert "kuitti" in reader.word("kuitin").lemmas
    reader.close()
    reader.close()
    assert "kuitti" in reader.word("kuitin").lemmas  # remembered
    with pytest.raises(RuntimeError, match="closed"):
        reader.word("laskun")
