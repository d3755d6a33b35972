"""The ids every log line carries while they are set: tenant, execution, step, agent,
attempt and request id.

They live in a `contextvars.ContextVar`, so each task sees its own: the engine sets
them around a step attempt, a request middleware around a request, and a task or
worker thread started inside inherits them. How lines are written (structlog, JSON) is
`observability.logging`'s business; this module is stdlib only, so the engine can set
the fields without knowing about it.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = ["LOG_FIELDS", "current_log_fields", "log_fields"]

#: The fields of the current task's log lines (read-only mappings, replaced whole).
LOG_FIELDS: ContextVar[Mapping[str, object]] = ContextVar(
    "agent_orchestrator_log_fields", default=MappingProxyType({})
)


@contextmanager
def log_fields(**fields: object) -> Iterator[None]:
    """Add `fields` to every line logged in this block (and in tasks it starts).

    Example::

        with log_fields(execution_id=run.id, tenant_id=run.tenant_id):
            await run.drive()
    """
    token = LOG_FIELDS.set(MappingProxyType({**LOG_FIELDS.get(), **fields}))
    try:
        yield
    finally:
        LOG_FIELDS.reset(token)


def current_log_fields() -> Mapping[str, object]:
    """The fields set for the current task."""
    return LOG_FIELDS.get()
