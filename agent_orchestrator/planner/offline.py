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
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from ..core.errors import PlanningFailed
from . import lexicon as lx
from .clauses import Clause, read_amount, read_comparison, read_schedule, split_clauses
from .compose import compose_plan
from .composer import compose_intents
from .extract import extract
from .finnish import FinnishAnalyzer, Word, detect_language, tokenize
from .intents import (
    Comparison,
    Condition,
    Documents,
    Intent,
    IntentPlan,
    Measure,
    Refusal,
    RefusalReason,
    Task,
)
from .messages import refusal, text
from .model import PeriodKind, PeriodSpec, Plan, PlanContext, PlanDraft
from .period_words import read_period

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ..core.protocols import AgentCatalogue
    from ..core.templates import WorkflowTemplate

__all__ = ["MAX_COMMAND_CHARS", "OfflinePlanner"]

MAX_COMMAND_CHARS = 2_000  # a command is a sentence or two, not a document

_FORMAT_PREFIX = re.compile(r"^(pdf|csv|json|markdown|xlsx)")
_EXCEL = re.compile(r"^(?:excel|xlsx?)")
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
        intents = self.read(command, context)
        if not _simple(intents):
            return compose_intents(
                intents,
                context,
                self._templates,
                self._catalogue,
                planner=self.name,
            )
        draft, warnings = self.draft(command, context)
        work = next((i for i in intents.intents if i.task is not Task.SEND), None)
        if work is not None and work.period is not None and draft.period is not None:
            if work.period.kind is PeriodKind.MONTH_RANGE:
                # "heinä- ja elokuulta": the clause reader knows ranges of months.
                draft = draft.model_copy(update={"period": work.period})
        return compose_plan(
            draft,
            context,
            self._templates,
            self._catalogue,
            planner=self.name,
            command_language=draft.language,
            warnings=warnings,
        )

    def read(self, command: str, context: PlanContext) -> IntentPlan:
        """What the command asks for, as intents (or a refusal).

        Raises:
            PlanningFailed: The command is too long, or a batch's kind of document
                cannot be told.
        """
        return _Reader(self, context).read(command)

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


def _simple(intents: IntentPlan) -> bool:
    """Whether the command is one template (with a notification): the one-template
    reading (`draft`) plans it, as it always has."""
    if intents.refusal is not None or intents.schedule is not None:
        return False
    works = [i for i in intents.intents if i.task not in (Task.SEND,)]
    if len(works) > 1 or any(i.condition for i in intents.intents):
        return False
    if any(i.task is Task.APPROVE for i in intents.intents):
        return False
    return not any(w.documents is not None and w.documents.is_batch for w in works)


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
    if any(_off_topic(w) or _other_tax(w) for w in words):
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
    lemmas, lower = word.lemmas, word.lower
    found: set[str] = set()
    if _other_tax(word):
        return found
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


def _other_tax(word: Word) -> bool:
    """A tax that is not VAT ("tuloverolaskelma", "kiinteistövero")."""
    return any(tax in lemma for lemma in word.lemmas for tax in lx.OTHER_TAXES)


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
        if _EXCEL.match(base):
            return "xlsx"  # "Exceliin", "Excel-tiedostona", "xlsx-muodossa"
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


# --- composed commands ------------------------------------------------------------

_FOLDER_AFTER = re.compile(
    r"(?i)\b(?:" + "|".join(lx.FOLDER_WORDS) + r")\w*\s+(?:(?:in|i|the)\s+)?"
    r"([^\s,;:!?]+)"
)
_FOLDER_PATH = re.compile(r"(?<![\w@./])((?:[\w.-]+/)+[\w.-]*)(?![\w@])")
_PATTERN_WORDS = {"pdf": "*.pdf", "jpg": "*.jpg", "jpeg": "*.jpeg", "png": "*.png"}


@dataclass(slots=True)
class _Reading:
    """What one clause says."""

    clause: Clause
    works: list[Intent] = field(default_factory=list)
    send: bool = False
    recipients: list[str] = field(default_factory=list)
    approve: bool = False
    approver: str | None = None
    condition: Condition | _Unmeasured | None = None
    pronoun: bool = False
    all_of_them: bool = False  # "lähetä ne": every result since the last sending
    document_kind: Task | None = None  # "kirjaa ne kuitteina": the kind of a batch
    period: PeriodSpec | None = None
    format: str | None = None
    unknown_verb: bool = False
    empty: bool = True


class _Reader:
    """Reads a command clause by clause into an `IntentPlan`."""

    def __init__(self, planner: OfflinePlanner, context: PlanContext) -> None:
        self.planner = planner
        self.analyzer = planner._analyzer
        self.context = context

    def read(self, command: str) -> IntentPlan:
        context = self.context
        if len(command) > MAX_COMMAND_CHARS:
            language = context.language or "fi"
            raise PlanningFailed(text("too_long", language, limit=MAX_COMMAND_CHARS))
        schedule, rest = read_schedule(command.strip())
        found = extract(rest)
        tokens = tokenize(_GLUED.sub(r"\1 ", found.rest))
        plain = self.analyzer.words(tokens, correct_typos=False)
        language = detect_language(plain, context.language)
        self.language = language
        words = self.analyzer.words(tokens) if language == "fi" else plain
        raw = " ".join(w.lower for w in words)
        checked = words
        if any(lemma.startswith("hyväksy") for w in words for lemma in w.lemmas):
            # "kunhan ylläpitäjä on hyväksynyt sen": who approves, not a role asked.
            checked = [w for w in words if not w.lemmas & _APPROVER_ROLES]
        reason = _refusal_reason(checked, raw, context.tenant_id)
        if reason is not None:
            quote = (
                _quote_off_topic(rest, self, language)
                if reason == "off_topic"
                else None
            )
            return IntentPlan(
                language=language,
                refusal=Refusal(reason=RefusalReason(reason), quote=quote),
            )
        clauses = _merge_bare(split_clauses(rest, found.rest), self)
        readings = [self.clause(c) for c in clauses]
        for reading in readings:
            if reading.unknown_verb or (
                reading.empty and _has_content(reading.clause.text, self)
            ):
                return IntentPlan(
                    language=language,
                    refusal=Refusal(
                        reason=RefusalReason.NOT_UNDERSTOOD,
                        quote=reading.clause.text.strip(),
                    ),
                )
        intents = self.assemble(readings)
        return IntentPlan(intents=intents, schedule=schedule, language=language)

    # --- one clause ----------------------------------------------------------------

    def clause(self, clause: Clause) -> _Reading:
        reading = _Reading(clause)
        folder = _folder(clause.text)
        # The folder's name is not words of the command ("laskut/november").
        spoken = _blank_folder(clause.text, folder)
        found = extract(spoken)
        tokens = tokenize(_GLUED.sub(r"\1 ", found.rest))
        if not tokens and not found.emails and not found.paths:
            return reading
        language = self.language
        words = (
            self.analyzer.words(tokens)
            if language == "fi"
            else self.analyzer.words(tokens, correct_typos=False)
        )
        raw = " ".join(w.lower for w in words)
        lemmas = {lemma for w in words for lemma in w.lemmas}
        reading.recipients = list(found.emails)
        reading.pronoun = bool({w.lower for w in words} & lx.PRONOUNS)
        reading.all_of_them = bool({w.lower for w in words} & lx.PLURAL_PRONOUNS)
        if language == "fi" and words:
            first, only = self.analyzer.imperatives(words[0].lower)
            if first and not first & lx.ACTION_VERBS_FI:
                reading.unknown_verb = True
            for word in words[1:]:
                verbs, only = self.analyzer.imperatives(word.lower)
                if verbs and only and not verbs & lx.ACTION_VERBS_FI:
                    reading.unknown_verb = True
        reading.period = read_period(
            words,
            found.dates,
            found.quarters,
            found.months,
            found.halves,
            self.context.reference_date,
            language,
            raw,
        )
        months = _MONTH_PAIR.search(spoken)
        if months is not None:
            start, stop = _month_of(months.group(1)), _month_of(months.group(2))
            if start is not None and stop is not None:
                reading.period = PeriodSpec(
                    kind=PeriodKind.MONTH_RANGE, month=start, to_month=stop
                )
        reading.format = _format(words)
        if clause.opener == "condition" or words and words[0].lower in ("jos", "if"):
            reading.condition = self.condition(clause.text, words)
        intent = _send_intent(words)
        if intent is None and lemmas & lx.MESSAGE_NOUNS and found.emails:
            intent = "ask"  # "laita viesti kirjanpitäjälle: minna@tilit.fi"
        reading.send = intent == "ask" or (intent == "cue" and bool(found.emails))
        reading.send = reading.send or (
            clause.opener == "otherwise" and bool(found.emails)
        )
        if any(lemma.startswith("hyväksy") for lemma in lemmas) or any(
            w.lower.startswith(lx.APPROVAL_FOREIGN_PREFIXES) for w in words
        ):
            reading.approve = True
            reading.approver = _approver(words)
            if not found.emails:
                # "ennen lähettämistä": the approval guards the sending.
                reading.send = False
        order: list[str] = []
        for word in words:
            order.extend(c for c in sorted(_concepts(word)) if c not in order)
        kinds = set(order)
        batch = folder is not None or bool(
            lemmas & lx.BATCH_FI or {w.lower for w in words} & lx.BATCH_FOREIGN
        )
        documents = [c for c in order if c in _DOCUMENT_TEMPLATES]
        task_of = {"receipt": Task.PROCESS_RECEIPTS, "invoice": Task.PROCESS_INVOICES}
        if documents or found.paths or folder is not None:
            if found.paths and not documents:
                hint = found.paths[0].lower()
                if any(k in hint for k in ("kuitti", "kuitit", "receipt", "kvitto")):
                    documents = ["receipt"]
                elif any(k in hint for k in ("lasku", "invoice", "faktura", "bill")):
                    documents = ["invoice"]
            if found.paths:
                kind = task_of[documents[0]] if documents else None
                for path in found.paths:
                    task = kind or Task.PROCESS_RECEIPTS
                    reading.works.append(
                        Intent(
                            task=task, documents=Documents(file=path), text=clause.text
                        )
                    )
                    if kind is None:
                        reading.document_kind = None
            elif (
                folder is not None
                or (batch and documents)
                or (
                    documents
                    and any(
                        w.plural for w in words if _concepts(w) & {"receipt", "invoice"}
                    )
                    and reading.period is not None
                )
            ):
                kind = task_of[documents[0]] if documents else None
                pattern = next(
                    (
                        _PATTERN_WORDS[w.lower.split("-")[0]]
                        for w in words
                        if w.lower.split("-")[0] in _PATTERN_WORDS
                    ),
                    None,
                )
                added = reading.period
                reading.period = None
                reading.works.append(
                    Intent(
                        task=kind or Task.PROCESS_RECEIPTS,
                        documents=Documents(
                            folder=folder or "", pattern=pattern, added=added
                        ),
                        text=clause.text if kind else "?",
                    )
                )
            elif documents and reading.pronoun:
                reading.document_kind = task_of[documents[0]]
            elif documents and not (kinds & {"vat", "report", "financial"}):
                reading.document_kind = task_of[documents[0]]
        if reading.condition is not None:
            # "jos kulut ylittävät 20 000 €": the words of a condition are not tasks.
            reading.works = [w for w in reading.works if w.documents is not None]
            kinds = set()
        if "vat" in kinds and "financial" not in kinds:
            reading.works.append(Intent(task=Task.VAT_REPORT, text=clause.text))
        elif kinds & {"report", "financial", "vat"}:
            reading.works.append(
                Intent(
                    task=Task.FINANCIAL_REPORT, format=reading.format, text=clause.text
                )
            )
        reading.empty = not (
            reading.works
            or reading.send
            or reading.recipients
            or reading.approve
            or reading.condition
            or reading.document_kind
            or reading.pronoun
        )
        return reading

    def condition(self, text_: str, words: Sequence[Word]) -> Condition | _Unmeasured:
        lower = text_.lower()
        measure: Measure | None = None
        if (
            any(w in lower for w in lx.REFUND_FI)
            or "refund" in lower
            or "återbetal" in lower
        ):
            measure = Measure.VAT_REFUND
        elif any(w in lower for w in lx.PAYABLE_FI) or "payable" in lower:
            measure = Measure.VAT_PAYABLE
        elif any(w in lower for w in lx.EXPENSE_WORDS):
            measure = Measure.EXPENSES
        elif any(w in lower for w in lx.INCOME_WORDS):
            measure = Measure.INCOME
        elif any(re.search(rf"\b{w}", lower) for w in lx.RESULT_WORDS):
            measure = Measure.RESULT
        elif any(w in lower for w in lx.TOTAL_WORDS):
            measure = Measure.DOCUMENT_TOTAL
        elif "alv" in lower or "vat" in lower or "moms" in lower:
            measure = Measure.VAT_PAYABLE
        comparison, amount = read_comparison(text_), read_amount(text_)
        if measure is None:
            return _Unmeasured(comparison, amount)
        return Condition(measure=measure, comparison=comparison, amount=amount)

    # --- the whole command -----------------------------------------------------------

    def assemble(self, readings: Sequence[_Reading]) -> list[Intent]:
        intents: list[Intent] = []
        pending: Condition | None = None
        last_condition: Condition | None = None
        periods = [r.period for r in readings if r.period is not None]
        for reading in readings:
            condition = reading.condition
            if isinstance(condition, _Unmeasured):
                condition = condition.resolve(intents)
            if reading.clause.opener == "otherwise" and last_condition is not None:
                condition = last_condition.model_copy(update={"otherwise": True})
            if condition is not None and not (reading.works or reading.send):
                pending = condition
                continue
            if pending is not None and condition is None:
                condition, pending = pending, None
            if reading.document_kind is not None:
                for intent in reversed(intents):
                    if intent.documents is not None and intent.text == "?":
                        intent.task = reading.document_kind
                        intent.text = reading.clause.text
                        break
            if reading.send and reading.period is None and intents:
                # "lähetä yhteenveto": the summary of what was done, not a new report.
                reading.works = [w for w in reading.works if w.documents is not None]
            for work in reading.works:
                if work.task in (Task.VAT_REPORT, Task.FINANCIAL_REPORT):
                    work.period = reading.period or _nearest(periods)
                if condition is not None and not reading.send:
                    work.condition = condition
                    last_condition, condition = condition, None
                intents.append(work)
            if reading.approve:
                approval = Intent(
                    task=Task.APPROVE,
                    approver=reading.approver,
                    text=reading.clause.text,
                )
                if condition is not None and not reading.works and not reading.send:
                    # "jos summa on yli 20 000 €, pyydä hyväksyntä ja lähetä ...":
                    # the approval and what follows it run on the same condition.
                    approval.condition = condition
                    pending = condition
                sends = [i for i, x in enumerate(intents) if x.task is Task.SEND]
                if sends and not reading.works:
                    intents.insert(sends[-1], approval)
                else:
                    intents.append(approval)
            if reading.send and intents and intents[-1].task is Task.SEND:
                if not intents[-1].recipients:
                    # "lähetä se sitten osoitteeseen X": one sending in two clauses.
                    intents[-1].recipients.extend(reading.recipients)
                    continue
            if reading.send:
                recipients = reading.recipients
                send = Intent(
                    task=Task.SEND, recipients=recipients, text=reading.clause.text
                )
                if reading.all_of_them:
                    since = max(
                        (i for i, x in enumerate(intents) if x.task is Task.SEND),
                        default=-1,
                    )
                    done = [i for i in range(since + 1, len(intents))]
                    send.after = done or None
                if condition is not None:
                    send.condition = condition
                    last_condition = condition
                    if condition.otherwise:
                        # The other branch waits for what the condition reads, not
                        # for the first branch.
                        works = [i for i, x in enumerate(intents) if x.task in _WORKS]
                        send.after = works[-1:]
                intents.append(send)
            elif reading.recipients:
                earlier = [x for x in intents if x.task is Task.SEND]
                if earlier:
                    earlier[-1].recipients.extend(reading.recipients)
        for intent in intents:
            if intent.documents is not None and intent.text == "?":
                raise PlanningFailed(
                    text("which_document", self.language, file=intent.documents.folder)
                )
        return intents


_APPROVER_ROLES = frozenset({"ylläpitäjä", "pääkäyttäjä", "admin"})
_WORKS = (
    Task.PROCESS_RECEIPTS,
    Task.PROCESS_INVOICES,
    Task.VAT_REPORT,
    Task.FINANCIAL_REPORT,
)


@dataclass(frozen=True, slots=True)
class _Unmeasured:
    """A condition that names no measure ("jos se ylittää 500 €"): it reads the
    result of the intent before it."""

    comparison: Comparison
    amount: Decimal | None

    def resolve(self, intents: Sequence[Intent]) -> Condition | None:
        for intent in reversed(intents):
            measure = {
                Task.VAT_REPORT: Measure.VAT_PAYABLE,
                Task.FINANCIAL_REPORT: Measure.RESULT,
                Task.PROCESS_RECEIPTS: Measure.DOCUMENT_TOTAL,
                Task.PROCESS_INVOICES: Measure.DOCUMENT_TOTAL,
            }.get(intent.task)
            if measure is not None:
                return Condition(
                    measure=measure, comparison=self.comparison, amount=self.amount
                )
        return None


def _nearest(periods: Sequence[PeriodSpec]) -> PeriodSpec | None:
    return periods[0] if periods else None


def _folder(text_: str) -> str | None:
    match = _FOLDER_AFTER.search(text_)
    if match is not None:
        value = match.group(1).strip("'\"")
        if not _HAS_EXTENSION.search(value):
            return value.strip("/").removeprefix("./")
    for path in _FOLDER_PATH.finditer(text_):
        value = path.group(1)
        if _PERIOD_CODE.match(value.strip("/")):
            continue  # "Q3/2026", "10/2026": a period, not a folder
        if not _HAS_EXTENSION.search(value):
            return value.strip("/").removeprefix("./")
    return None


_HAS_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{1,4}$")
_PERIOD_CODE = re.compile(r"(?i)^(?:q[1-4]|h[12]|\d{1,2})/\d{4}$")
# "syys- ja lokakuulta", "tammi- och februari": two months with the first elided.
_MONTH_PAIR = re.compile(
    r"(?i)\b([a-zäöå]+)-\s*(?:ja|och|and|–|-)\s*([a-zäöå]+?)(?:kuu\w*|\b)"
)


def _month_of(word: str) -> int | None:
    lower = word.lower()
    for number, stems in enumerate(_MONTH_WORD_STEMS, start=1):
        if any(lower.startswith(stem) for stem in stems):
            return number
    return None


_MONTH_WORD_STEMS = (
    ("tammi", "januar"), ("helmi", "februar"), ("maalis", "mars", "march"),
    ("huhti", "april"), ("touko", "maj", "may"), ("kesä", "juni", "june"),
    ("heinä", "juli", "july"), ("elo", "august"), ("syys", "septem"),
    ("loka", "oktob", "octob"), ("marras", "novem"), ("joulu", "decem"),
)  # fmt: skip


def _blank_folder(text_: str, folder: str | None) -> str:
    if not folder:
        return text_
    return re.sub(re.escape(folder), lambda m: " " * len(m.group(0)), text_, count=1)


def _approver(words: Sequence[Word]) -> str | None:
    for word in words:
        if word.text[:1].isupper() and word.lower.endswith(("lla", "llä")):
            return word.text[:-3]
        if word.lemmas & lx.ROLE_NOUNS:
            return sorted(word.lemmas & lx.ROLE_NOUNS)[0]
    return None


def _merge_bare(clauses: list[Clause], reader: _Reader) -> list[Clause]:
    """Join a clause of one word (a verb: "tee" in "tee sen jälkeen ALV-laskelma")
    to the clause after it."""
    out: list[Clause] = []
    carry: Clause | None = None
    for clause in clauses:
        if carry is not None:
            clause = Clause(
                f"{carry.text} {clause.text}",
                carry.opener if carry.opener not in ("start", "and") else clause.opener,
            )
            carry = None
        if len(clause.text.split()) == 1 and "@" not in clause.text:
            # One word is no part of its own ("gör sedan momsrapporten").
            carry = clause
            continue
        out.append(clause)
    if carry is not None:
        out.append(carry)
    return out


_FILLER = frozenset(
    {"aina", "myös", "kiitos", "please", "thanks", "tack", "heti", "nyt", "now",
     "hei", "moi", "moikka", "on", "the", "at", "terve", "huomenta", "hello",
     "hi", "hej", "hejsan",
     "sitten", "vielä", "ensin", "also", "too", "också", "mielellään"}
)  # fmt: skip


def _has_content(text_: str, reader: _Reader) -> bool:
    words = [w for w in tokenize(extract(text_).rest) if w.lower() not in _FILLER]
    return any(len(w) > 2 for w in words)


def _quote_off_topic(text_: str, reader: _Reader, language: str) -> str | None:
    return None
