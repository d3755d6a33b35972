"""Logging: every record, ours and our libraries', written by structlog as one JSON
object a line (``LOG_FORMAT=json``) or as columns for a person (``console``).

The standard `logging` calls stay as they are: a `structlog.stdlib.ProcessorFormatter`
on the root logger's handler turns each record into an event dict, adds the level,
the logger's name, a UTC timestamp and the ids of `core.logcontext` (tenant,
execution, step, agent, attempt, request id), blanks secrets (`Redactor`) and renders
it. uvicorn's own loggers are routed through the same handler.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..core.logcontext import current_log_fields

if TYPE_CHECKING:
    from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = ["REDACTED", "Redactor", "configure_logging"]

REDACTED = "[redacted]"
#: Event keys whose values are secrets whatever they look like.
SENSITIVE_KEYS = frozenset(
    {
        "api_key",
        "authorization",
        "openai_api_key",
        "password",
        "secret",
        "token",
        "x-api-key",
        "x_api_key",
    }
)
_PATTERNS: Sequence[tuple[re.Pattern[str], str]] = (
    # Our API keys (ao_ + 30 random + 6 checksum characters; a display prefix is
    # shorter and stays).
    (re.compile(r"\bao_[0-9A-Za-z]{30,}"), f"ao_{REDACTED}"),
    # OpenAI-style keys.
    (re.compile(r"\bsk-[0-9A-Za-z_-]{16,}"), f"sk-{REDACTED}"),
    # The password of a URL: postgresql://user:password@host, smtp://user:pw@host.
    (
        re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*):[^@/?#\s]+@"),
        rf"\1:{REDACTED}@",
    ),
    # key=value pairs in query strings and messages.
    (
        re.compile(
            r"(?i)\b(api[_-]?key|access[_-]?token|token|secret|password|passwd)"
            r"=([^&\s,;]+)"
        ),
        rf"\1={REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer)\s+[0-9A-Za-z._~+/=-]{8,}"), rf"\1 {REDACTED}"),
)
_PLAIN = (str, int, float, bool, type(None))
_HANDLER_NAME = "agent_orchestrator"


class Redactor:
    """A structlog processor that blanks secrets in every value of an event.

    It replaces the configured secrets wherever they appear (the OpenAI key, the SMTP
    password, the webhook secret, the database password), anything shaped like one
    of our API keys, an OpenAI key, a URL's password, a ``password=...`` pair or a
    bearer token, and the whole value of a key named like a secret (``password``,
    ``api_key``, ...). Values that are not plain (objects, exceptions) are turned
    into text first, so that their text cannot carry a secret past it.

    Args:
        secrets: Exact values to blank; values shorter than 4 characters are ignored
            (they would blank ordinary text).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        known = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
        self._known = (
            re.compile("|".join(re.escape(s) for s in known)) if known else None
        )

    def redact(self, text: str) -> str:
        """`text` with every secret in it blanked."""
        if self._known is not None:
            text = self._known.sub(REDACTED, text)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def __call__(
        self, logger: WrappedLogger, method_name: str, event_dict: EventDict
    ) -> EventDict:
        return {key: self._value(key, value) for key, value in event_dict.items()}

    def _value(self, key: object, value: object) -> Any:
        if isinstance(key, str) and key.lower() in SENSITIVE_KEYS and value:
            return REDACTED
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, _PLAIN):
            return value
        if isinstance(value, Mapping):
            return {k: self._value(k, v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._value(None, v) for v in value]
        return self.redact(str(value))


def add_log_fields(
    logger: WrappedLogger, method_name: str, event_dict: EventDict
) -> EventDict:
    """Add the ids of `core.logcontext` (those the event does not carry itself)."""
    for key, value in current_log_fields().items():
        event_dict.setdefault(key, value)
    return event_dict


def _drop_color_message(
    logger: WrappedLogger, method_name: str, event_dict: EventDict
) -> EventDict:
    # uvicorn attaches an ANSI-coloured copy of some messages as an extra.
    event_dict.pop("color_message", None)
    return event_dict


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (a test may swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(
    level: str = "INFO",
    log_format: Literal["json", "console"] = "json",
    *,
    secrets: Iterable[str] = (),
) -> None:
    """Send every log record to stderr through structlog (idempotent).

    Args:
        level: ``LOG_LEVEL`` for our loggers (``agent_orchestrator.*``); other
            libraries log warnings and worse.
        log_format: ``LOG_FORMAT``: ``json`` (one object a line) or ``console``.
        secrets: Values never to write (`config.Settings.secret_values`).
    """
    # Imported here: structlog brings rich along, a fifth of a second that commands
    # which never log (list-agents) need not pay.
    import structlog

    shared: list[Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _drop_color_message,
        add_log_fields,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Tracebacks become text before the redactor reads them (an exception's
            # message may quote a URL or a key), also for the console renderer.
            structlog.processors.format_exc_info,
            Redactor(secrets),
            renderer,
        ],
    )
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.name == _HANDLER_NAME), None)
    if handler is None:
        handler = _StderrHandler(sys.stderr)
        handler.name = _HANDLER_NAME
        root.addHandler(handler)
    handler.setFormatter(formatter)
    root.setLevel(logging.WARNING)
    ours = logging.getLogger("agent_orchestrator")
    ours.setLevel(level)
    ours.propagate = True
    for name in ("uvicorn", "uvicorn.access"):
        # uvicorn's default configuration installs plain-text handlers; its lines go
        # through ours instead. A logger uvicorn silenced (``access_log=False``: no
        # handler, no propagation) stays silent.
        library = logging.getLogger(name)
        if library.handlers:
            library.handlers.clear()
            library.propagate = True
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
