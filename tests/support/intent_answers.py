"""Answers of a fake model in the OpenAI planner's format (`IntentAnswer`): every
field present, null unless given, built from the few fields a test cares about."""

from __future__ import annotations

import json
from typing import Any

_TASKS = {
    "receipt_processing": "process_receipts",
    "invoice_processing": "process_invoices",
    "vat_report": "vat_report",
    "financial_report": "financial_report",
}
_PERIOD = ("year", "month", "to_month", "quarter", "count", "start", "end")
_INTENT = (
    "file", "folder", "pattern", "added", "period", "format", "recipients",
    "approver", "after", "condition",
)  # fmt: skip


def period(kind: str, **fields: Any) -> dict[str, Any]:
    """A named period with every field present."""
    return {"kind": kind, **dict.fromkeys(_PERIOD), **fields}


def intent(task: str, **fields: Any) -> dict[str, Any]:
    """One intent with every field present."""
    return {"task": task, **dict.fromkeys(_INTENT), **fields}


def intents(
    *parts: dict[str, Any],
    schedule: dict[str, Any] | None = None,
    language: str = "fi",
    refusal: str | None = None,
    quote: str | None = None,
) -> str:
    """The JSON of a whole answer."""
    return json.dumps(
        {
            "intents": list(parts),
            "schedule": schedule,
            "language": language,
            "refusal": refusal,
            "refusal_quote": quote,
        }
    )


def answer(
    template_id: str | None = None,
    period_kind: str | None = None,
    *,
    receipt_file: str | None = None,
    invoice_file: str | None = None,
    format: str | None = None,  # noqa: A002 - the answer's field
    recipients: list[str] | None = None,
    language: str = "fi",
    refusal: str | None = None,
    quote: str | None = None,
    **period_fields: Any,
) -> str:
    """A one-template answer (the task a template runs, plus a send), as a model
    answers "Tee ALV-laskelma viime kuulta"."""
    parts: list[dict[str, Any]] = []
    if template_id is not None:
        fields: dict[str, Any] = {"format": format}
        if period_kind is not None:
            fields["period"] = period(period_kind, **period_fields)
        if receipt_file or invoice_file:
            fields["file"] = receipt_file or invoice_file
        parts.append(intent(_TASKS.get(template_id, template_id), **fields))
    if recipients:
        parts.append(intent("send", recipients=recipients))
    return intents(*parts, language=language, refusal=refusal, quote=quote)
