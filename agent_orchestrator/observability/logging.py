"""Logging: one line per record, with the ids a record carries (execution, step,
...)."""

from __future__ import annotations

import logging
import sys

_IDS = ("request_id", "tenant_id", "execution_id", "step_id", "agent_id")


class _IdFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = " ".join(f"{k}={getattr(record, k)}" for k in _IDS if hasattr(record, k))
        return f"{text} {ids}" if ids else text


def configure_logging(level: str = "INFO") -> None:
    """Send our logs to stderr at `level` (idempotent)."""
    root = logging.getLogger("agent_orchestrator")
    root.setLevel(level)
    # A handler formatting with ours is the one an earlier call added.
    if not any(isinstance(h.formatter, _IdFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            _IdFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        root.addHandler(handler)
        root.propagate = False
