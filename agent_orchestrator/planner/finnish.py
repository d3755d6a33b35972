"""Finnish words as the offline planner reads them: lemmas through Voikko, small typos,
and which of Finnish, English or Swedish a command is written in.

Voikko (libvoikko with the voikko-fi dictionary) gives true lemmas for inflected and
compound words ("kuiteista" → kuitti, "vuosineljännekseltä" → vuosineljännes,
"ALV-laskelman" → alv-laskelma); the Snowball stemmer is too weak for this
(ECOSYSTEM.md "Finnish"). A Voikko handle is not thread-safe, so every call goes
through a lock; results are cached per word.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libvoikko

from .lexicon import (
    ALL_FINNISH_VOCABULARY,
    COLLOQUIAL,
    ENGLISH,
    INVOICE_FI_STEMS,
    RECEIPT_FI_STEMS,
    REPORT_FI_STEMS,
    SWEDISH,
    VAT_FI_STEMS,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "FinnishAnalyzer",
    "Word",
    "detect_language",
    "tokenize",
    "within_one_edit",
]

# A word: letters/digits with inner hyphens, colons or apostrophes ("ALV:n",
# "api-avain", "PDF-muodossa"), or a 1-2 digit ordinal with its dot ("3. neljännes").
_TOKEN = re.compile(r"\d{1,2}\.(?=\s|$)|[^\W_](?:[\w&]|[-:'’](?=[^\W_]))*")
_WORDBASE = re.compile(r"\(([^()]+)\)")
_TYPO_MIN_LENGTH = 5
_TYPO_MAX_LENGTH = 40  # longer "words" are not typos, and spelling them is slow
_RELEVANT_STEMS = (
    *VAT_FI_STEMS,
    *REPORT_FI_STEMS,
    *RECEIPT_FI_STEMS,
    *INVOICE_FI_STEMS,
    "kuu",
    "neljännes",
)


@dataclass(frozen=True, slots=True)
class Word:
    """One word of a command and what Voikko makes of it.

    Attributes:
        text: As written.
        lower: Lower-cased.
        lemmas: Lower-cased base forms (every reading), the word itself included.
        parts: Base forms of the parts of a compound ("talousraportti": talous,
            raportti).
        known: Whether Voikko (or typo correction) recognised it as Finnish.
        plural: Whether some reading is plural.
        corrected: The word a typo was read as, if any.
    """

    text: str
    lower: str
    lemmas: frozenset[str]
    parts: frozenset[str]
    known: bool
    plural: bool = False
    corrected: str | None = None


def tokenize(text: str) -> list[str]:
    """The words of `text` as written (punctuation dropped)."""
    return _TOKEN.findall(text)


def within_one_edit(a: str, b: str) -> bool:
    """Whether `a` and `b` differ by at most one insertion, deletion, substitution or
    swap of neighbouring letters (Damerau-Levenshtein distance <= 1)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True  # one substitution
        return (
            i + 1 < la
            and a[i] == b[i + 1]
            and a[i + 1] == b[i]
            and a[i + 2 :] == b[i + 2 :]
        )
    return a[i:] == b[i + 1 :]  # one insertion into the shorter word


class FinnishAnalyzer:
    """Lemmas, compound parts and typo correction for Finnish words.

    Create one per planner: it holds a Voikko handle (guarded by a lock) and caches
    every word it has seen.

    Args:
        vocabulary: Lemmas a misspelt word may be corrected to.
        cache_size: How many distinct words to remember.
    """

    def __init__(
        self,
        vocabulary: Iterable[str] = ALL_FINNISH_VOCABULARY,
        *,
        cache_size: int = 20_000,
    ) -> None:
        self._voikko = libvoikko.Voikko("fi")
        self._lock = threading.Lock()
        self._closed = False
        self._vocabulary = frozenset(v.lower() for v in vocabulary)
        self._by_length: dict[int, list[str]] = {}
        for entry in sorted(self._vocabulary):
            self._by_length.setdefault(len(entry), []).append(entry)
        self._word = functools.lru_cache(maxsize=cache_size)(self._read)

    def close(self) -> None:
        """Release the Voikko handle (again: nothing happens); words already read
        stay cached, any new word raises RuntimeError."""
        with self._lock:
            self._closed = True
            self._voikko.terminate()

    def word(self, text: str, *, correct_typos: bool = True) -> Word:
        """What `text` (one word) is: its lemmas, compound parts, and a typo's fix."""
        return self._word(text, correct_typos)

    def words(self, tokens: Sequence[str], *, correct_typos: bool = True) -> list[Word]:
        """`word` for each token."""
        return [self._word(token, correct_typos) for token in tokens]

    def imperatives(self, text: str) -> tuple[frozenset[str], bool]:
        """The verbs `text` is an imperative of ("maksa": maksaa), and whether
        every reading of it is a verb."""
        analyses = self._analyze(text.lower())
        verbs = frozenset(
            str(a.get("BASEFORM", "")).lower()
            for a in analyses
            if a.get("CLASS") == "teonsana" and a.get("MOOD") == "imperative"
        )
        only = bool(analyses) and all(a.get("CLASS") == "teonsana" for a in analyses)
        return verbs, only

    def knows(self, text: str) -> bool:
        """Whether Voikko recognises `text` as a Finnish word form."""
        return self._word(text, False).known

    def _read(self, text: str, correct_typos: bool) -> Word:
        lower = text.lower()
        analyses = self._analyze(lower)
        if not analyses and "-" in lower:
            # A hyphenated word Voikko does not know as a whole ("api-avain").
            analyses = [
                a for part in lower.split("-") if part for a in self._analyze(part)
            ]
        if analyses:
            lemmas = {str(a.get("BASEFORM", "")).lower() for a in analyses} - {""}
            parts: set[str] = set()
            for analysis in analyses:
                for base in _WORDBASE.findall(str(analysis.get("WORDBASES", ""))):
                    if not base.startswith("+"):
                        parts.add(base.replace("=", "").lower())
            for lemma in (lower, *lemmas):
                parts.update(p for p in lemma.split("-") if p)
            plural = any(a.get("NUMBER") == "plural" for a in analyses)
            return Word(
                text, lower, frozenset({lower, *lemmas}), frozenset(parts), True, plural
            )
        if correct_typos and self._may_be_typo(lower):
            fixed = self._correct(lower)
            if fixed is not None:
                found, fixed_lemmas = fixed
                return Word(
                    text,
                    lower,
                    frozenset({lower, *fixed_lemmas}),
                    fixed_lemmas,
                    True,
                    corrected=found,
                )
        parts_ = frozenset(p for p in lower.split("-") if p)
        return Word(text, lower, frozenset({lower}), parts_, False)

    def _analyze(self, text: str) -> list[dict[str, str]]:
        with self._lock:
            self._check_open()
            return list(self._voikko.analyze(text))

    def _check_open(self) -> None:
        # A terminated Voikko handle must never reach the C library.
        if self._closed:
            raise RuntimeError("the Finnish analyser is closed; create a new one")

    def _may_be_typo(self, lower: str) -> bool:
        return (
            _TYPO_MIN_LENGTH <= len(lower) <= _TYPO_MAX_LENGTH
            and lower.replace("-", "").isalpha()
            and lower not in COLLOQUIAL
            and lower not in ENGLISH
            and lower not in SWEDISH
        )

    def _correct(self, lower: str) -> tuple[str, frozenset[str]] | None:
        """The vocabulary word (or inflected form of one) one edit away, if any."""
        for length in (len(lower), len(lower) - 1, len(lower) + 1):
            for entry in self._by_length.get(length, ()):
                if within_one_edit(lower, entry):
                    return entry, frozenset({entry})
        # An inflected form one edit away ("talousrapotin" → talousraportin): ask
        # Voikko for spellings and keep one that is still one edit away and relevant.
        with self._lock:
            self._check_open()
            suggestions = list(self._voikko.suggest(lower))
        for suggestion in suggestions:
            candidate = suggestion.lower()
            if not within_one_edit(lower, candidate):
                continue
            lemmas = {
                str(a.get("BASEFORM", "")).lower() for a in self._analyze(candidate)
            } - {""}
            if any(_relevant(lemma, self._vocabulary) for lemma in lemmas):
                return candidate, frozenset(lemmas)
        return None


def _relevant(lemma: str, vocabulary: frozenset[str]) -> bool:
    return lemma in vocabulary or any(stem in lemma for stem in _RELEVANT_STEMS)


def detect_language(words: Sequence[Word], default: str | None = None) -> str:
    """``fi``, ``en`` or ``sv`` from the words themselves; `default` (else Finnish)
    on a tie.

    Finnish words are the ones Voikko recognises; English and Swedish ones come from
    short lists of common words (Swedish also from the letter å).
    """
    scores = {"fi": 0.0, "en": 0.0, "sv": 0.0}
    for word in words:
        lower = word.lower
        in_en, in_sv = lower in ENGLISH, lower in SWEDISH
        if in_en:
            scores["en"] += 1
        if in_sv or "å" in lower:
            scores["sv"] += 1
        if word.known and not (in_en or in_sv) and not lower.isdigit():
            scores["fi"] += 1
    best = max(scores.values())
    if best == 0:
        return default or "fi"
    leaders = [lang for lang, score in scores.items() if score == best]
    if default in leaders:
        return default or "fi"
    return leaders[0]
