"""The offline planner: Finnish (and basic English and Swedish) commands to plans,
without a model.

It reads a command the way people write it (inflected and compound words through
Voikko, colloquial and polite forms, upper case, small typos), decides a `PlanDraft`
(template, period in words, file, format, recipients) and hands it to `compose_plan`,
the code both planners share. Commands outside the product's work, or that try to
widen the caller's rights, reach other tenants or delete data, are refused with a
message in the command's language that lists what it can do instead.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..core.errors import PlanningFailed
from . import lexicon as lx
from .compose import compose_plan
from .extract import extract
from .finnish import FinnishAnalyzer, Word, detect_language, tokenize
from .messages import refusal, text
from .model import Plan, PlanContext, PlanDraft
from .period_words import read_period

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ..core.protocols import AgentCatalogue
    from ..core.templates import WorkflowTemplate

__all__ = ["MAX_COMMAND_CHARS", "OfflinePlanner"]

MAX_COMMAND_CHARS = 2_000  # a command is a sentence or two, not a document

_FORMAT_PREFIX = re.compile(r"^(pdf|csv|json|markdown)")
# "viimekuulta", "toissavuonna": a period word written together with its unit.
_GLUED = re.compile(
    r"\b(viime|toissa|tämän|tältä)(?=(?:kuu|vuo|viiko|nelj|kvart|tilik)\w+)",
    re.IGNORECASE,
)
_PHRASE_RIGHTS = ("system prompt", "developer mode", "systemprompt", "dan mode")
_DOCUMENT_TEMPLATES = {"receipt": "receipt_processing", "invoice": "invoice_processing"}
_FILE_VARIABLE = {
    "receipt_processing": "receipt_file",
    "invoice_processing": "invoice_file",
}


class OfflinePlanner:
    """Plans commands by rules, offline, in about a millisecond.

    Args:
        templates: The shipped templates by id.
        catalogue: The registered agents.
        analyzer: The Finnish word analyser (one is created when not given).
    """

    name = "offline"

    def __init__(
        self,
        templates: Mapping[str, WorkflowTemplate],
        catalogue: AgentCatalogue,
        *,
        analyzer: FinnishAnalyzer | None = None,
    ) -> None:
        self._templates = templates
        self._catalogue = catalogue
        self._analyzer = analyzer or FinnishAnalyzer()

    def close(self) -> None:
        """Release the Voikko handle."""
        self._analyzer.close()

    async def plan(self, command: str, context: PlanContext) -> Plan:
        """Plan `command` (see `Planner.plan`)."""
        return self.plan_now(command, context)

    def plan_now(self, command: str, context: PlanContext) -> Plan:
        """Plan `command` without awaiting anything (it never waits).

        Raises:
            PlanningFailed: The command is refused or cannot be understood; the message
                is in the command's language and says what to do instead.
            ValidationFailed: The composed graph does not validate (a broken template).
        """
        draft, warnings = self.draft(command, context)
        return compose_plan(
            draft,
            context,
            self._templates,
            self._catalogue,
            planner=self.name,
            command_language=draft.language,
            warnings=warnings,
        )

    def draft(self, command: str, context: PlanContext) -> tuple[PlanDraft, list[str]]:
        """What the command asks for, in words, and notes for the caller.

        Raises:
            PlanningFailed: The command is refused or cannot be understood.
        """
        if len(command) > MAX_COMMAND_CHARS:
            language = context.language or "fi"
            raise PlanningFailed(text("too_long", language, limit=MAX_COMMAND_CHARS))
        found = extract(command.strip())
        tokens = tokenize(_GLUED.sub(r"\1 ", found.rest))
        plain = self._analyzer.words(tokens, correct_typos=False)
        language = detect_language(plain, context.language)
        words = self._analyzer.words(tokens) if language == "fi" else plain
        raw = " ".join(w.lower for w in words)

        reason = _refusal_reason(words, raw, context.tenant_id)
        if reason is not None:
            raise PlanningFailed(refusal(reason, language))

        warnings: list[str] = []
        template_id = _template(words, found.paths, language)
        if template_id is None:
            raise PlanningFailed(refusal("not_understood", language))
        if template_id not in _FILE_VARIABLE and _names_a_company(
            words, context.tenant_id
        ):
            raise PlanningFailed(refusal("tenant", language))
        variables: dict[str, object] = {}
        file_variable = _FILE_VARIABLE.get(template_id)
        if file_variable is not None:
            if found.paths:
                variables[file_variable] = found.paths[0]
                if len(found.paths) > 1:
                    others = ", ".join(found.paths[1:])
                    warnings.append(
                        text("one_file", language, file=found.paths[0], others=others)
                    )
        else:
            warnings.extend(text("ignored_file", language, file=p) for p in found.paths)
        period = None
        if file_variable is None:
            period = read_period(
                words,
                found.dates,
                found.quarters,
                found.months,
                found.halves,
                context.reference_date,
                language,
                raw,
            )
        fmt = _format(words)
        if fmt is not None and file_variable is None:
            # ("PDF-lasku" says what the file is, not what to make.)
            variables["format"] = fmt
        intent = _send_intent(words)
        if intent == "ask" and not found.emails:
            raise PlanningFailed(text("need_recipient", language))
        sending = intent is not None
        if found.emails and not sending:
            # An address mentioned without asking to send ("the receipt from
            # myyja@kauppa.fi") is nobody's consent to receive our books.
            addresses = ", ".join(found.emails)
            warnings.append(text("not_sent", language, recipients=addresses))
        draft = PlanDraft(
            template_id=template_id,
            period=period,
            variables=variables,
            recipients=found.emails if sending else [],
            language=language,
        )
        return draft, warnings


# --- refusals ---------------------------------------------------------------------


def _refusal_reason(words: Sequence[Word], raw: str, tenant_id: str) -> str | None:
    """Why the command must be refused (a messages key), or None."""
    lowers = {w.lower for w in words}
    lemmas = {lemma for w in words for lemma in w.lemmas}
    if (
        lemmas & lx.RIGHTS_FI
        or lowers & lx.RIGHTS_FOREIGN
        or any(w.lower.startswith(lx.RIGHTS_FOREIGN_PREFIXES) for w in words)
        or (lowers & lx.API_WORDS and (lemmas & lx.KEY_WORDS or lowers & lx.KEY_WORDS))
        or any(w.lower.startswith("api-") and w.parts & lx.KEY_WORDS for w in words)
        or (
            (lemmas & lx.OVERRIDE_FI or lowers & lx.OVERRIDE_FOREIGN)
            and (lemmas & lx.INSTRUCTION_FI or lowers & lx.INSTRUCTION_FOREIGN)
        )
        or any(phrase in raw for phrase in _PHRASE_RIGHTS)
    ):
        return "rights"
    if _other_tenants(words, lowers, lemmas, tenant_id):
        return "tenant"
    if lemmas & lx.DELETE_FI or lowers & lx.DELETE_FOREIGN:
        return "delete"
    if any(_off_topic(w) for w in words):
        return "off_topic"
    return None


def _other_tenants(
    words: Sequence[Word], lowers: set[str], lemmas: set[str], tenant_id: str
) -> bool:
    """Whether the command reaches for another tenant's or company's data."""
    if lemmas & lx.TENANT_WORDS or lemmas & lx.COMPETITOR or lowers & lx.COMPETITOR:
        return True
    if any(w.lower.startswith("tenant") for w in words):
        return True
    for i, word in enumerate(words):
        if not (word.lemmas & lx.ORG_FI or word.lower in lx.ORG_FOREIGN):
            continue
        for before in words[max(0, i - 2) : i]:
            if before.lemmas & lx.OTHERS_FI or before.lower in lx.OTHERS_FOREIGN:
                return True
            if before.lemmas & lx.ALL_FI and word.plural:
                return True
        # "yritykselle Globex": a company named by name that is not the caller's.
        if i + 1 < len(words) and _is_name(words[i + 1].text):
            if not words[i + 1].lower.startswith(tenant_id.lower()):
                return True
    return False


def _names_a_company(words: Sequence[Word], tenant_id: str) -> bool:
    """Whether a report is asked for a name that is not the caller's ("Tee
    ALV-laskelma Globexin tiedoista"): a capitalised word inside the sentence that no
    dictionary knows. A recipient ("Johnille") or the caller's own name is fine."""
    own = tenant_id.lower()
    for word in words[1:]:
        lower = word.lower
        if (
            _is_name(word.text)
            and not word.known
            and not lower.startswith(own)
            and not lower.endswith(("lle", "lle:"))
            and lower not in lx.ENGLISH
            and lower not in lx.SWEDISH
            and lower not in lx.MONTHS_FOREIGN
            and re.split(r"[-:']", lower, maxsplit=1)[0] not in lx.FORMAT_WORDS
            and not _concepts(word)
        ):
            return True
    return False


def _is_name(text: str) -> bool:
    """Capitalised like a name (not an abbreviation such as ALV or PDF)."""
    return text[:1].isupper() and any(ch.islower() for ch in text[1:])


def _off_topic(word: Word) -> bool:
    hits = word.lemmas & lx.OFF_TOPIC_FI
    if word.lower in lx.OFF_TOPIC_FOREIGN:
        return True
    # "säästä" reads as sää (weather) and säästää (save): only unambiguous words count.
    readings = word.lemmas - {word.lower}
    return bool(hits) and (not readings or readings <= lx.OFF_TOPIC_FI)


# --- what to do -------------------------------------------------------------------


def _concepts(word: Word) -> set[str]:
    lemmas, lower, found = word.lemmas, word.lower, set()
    if (
        any(
            lemma.startswith(("alv", "arvonlisävero", "vero")) or lemma.endswith("vero")
            for lemma in lemmas
        )
        or word.parts & {"alv", "vero"}
        or lower.startswith(lx.VAT_FOREIGN_PREFIXES)
    ):
        found.add("vat")
    if (
        any(stem in lemma for lemma in lemmas for stem in lx.REPORT_FI_STEMS)
        or lemmas & lx.REPORT_FI_LEMMAS
        or lower.startswith(lx.REPORT_FOREIGN_PREFIXES)
        or lower in lx.REPORT_FOREIGN_WORDS
    ):
        found.add("report")
    if any(
        lemma.startswith(("talous", "tuloslaskelma", "tilinpäätös")) for lemma in lemmas
    ) or lower.startswith(("financial", "finansiell", "resultaträkning")):
        found.add("financial")
    if any(
        stem in lemma for lemma in lemmas for stem in lx.RECEIPT_FI_STEMS
    ) or lower.startswith(lx.RECEIPT_FOREIGN_PREFIXES):
        found.add("receipt")
    if (
        any(lemma.endswith(lx.INVOICE_FI_STEMS) for lemma in lemmas)
        or lower.startswith(lx.INVOICE_FOREIGN_PREFIXES)
        or lower in lx.INVOICE_FOREIGN_WORDS
    ):
        found.add("invoice")
    return found


def _template(words: Sequence[Word], paths: Sequence[str], language: str) -> str | None:
    """Which shipped template the command asks for, or None."""
    order: list[str] = []
    for word in words:
        order.extend(c for c in sorted(_concepts(word)) if c not in order)
    found = set(order)
    documents = [c for c in order if c in _DOCUMENT_TEMPLATES]
    if paths:
        if documents:
            return _DOCUMENT_TEMPLATES[documents[0]]
        hint = paths[0].lower()
        if any(s in hint for s in ("kuitti", "kuitit", "receipt", "kvitto")):
            return "receipt_processing"
        if any(s in hint for s in ("lasku", "invoice", "faktura", "bill")):
            return "invoice_processing"
        if not found & {"vat", "report"}:
            raise PlanningFailed(text("which_document", language, file=paths[0]))
    if "vat" in found and "financial" not in found:
        return "vat_report"
    if found & {"report", "financial", "vat"}:
        return "financial_report"
    if documents:
        return _DOCUMENT_TEMPLATES[documents[0]]
    return None


def _format(words: Sequence[Word]) -> str | None:
    for word in words:
        base = re.split(r"[-:]", word.lower, maxsplit=1)[0]
        if base in lx.FORMAT_WORDS:
            return lx.FORMAT_WORDS[base]
        match = _FORMAT_PREFIX.match(base)
        if match is not None:
            return match.group(1)
    return None


def _send_intent(words: Sequence[Word]) -> str | None:
    """``ask`` when the command asks to send the result ("lähetä", "send", "skicka",
    "email it to"), ``cue`` when it only says where a result would go ("osoitteeseen",
    "by email", "vastaanottaja"), else None."""
    intent = None
    for i, word in enumerate(words):
        if word.lemmas & lx.SEND_FI or word.lower in lx.SEND_FOREIGN:
            return "ask"
        following = words[i + 1].lower if i + 1 < len(words) else ""
        if word.lower in lx.MAIL_WORDS and following in lx.MAIL_VERB_OBJECTS:
            return "ask"
        if word.lower in lx.SEND_CUES or word.lemmas & lx.SEND_CUES:
            intent = "cue"
        if word.lower in lx.MAIL_WORDS:
            intent = "cue"
    return intent
