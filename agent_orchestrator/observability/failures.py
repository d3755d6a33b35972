"""One Sentry event for each execution that ends FAILED, by the process that ran it.

A failed attempt that is retried is no event of its own (the agents' loggers are kept
out of Sentry by `configure_sentry`): it becomes a breadcrumb of the execution's event
once the execution has failed for good. The event is tagged with the tenant, the
template, the failing step and its agent, and the execution's id, and grouped by
template, step and kind of error. It carries the error messages with secrets blanked,
never a step's inputs or outputs (documents' content).

`FailureReports` is an `EventSink` beside the bus: it sees the events this process's
runner stores, so each failed execution is reported once however many processes run.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio

from ..core.enums import EventType
from ..core.protocols import ExecutionEvent
from .sentry import sentry_started

if TYPE_CHECKING:
    from collections.abc import Sequence

    from anyio.abc import TaskStatus

    from ..core.protocols import ExecutionRecord, RunStore
    from .logging import Redactor

log = logging.getLogger("agent_orchestrator.observability")

#: The events of an attempt's life that become breadcrumbs, with their level.
_BREADCRUMBS = {
    EventType.STEP_STARTED: "info",
    EventType.STEP_RETRYING: "warning",
    EventType.STEP_FAILED: "error",
}
#: Failed executions waiting to be reported; beyond this (a storm), the rest are
#: dropped with a log line rather than held in memory.
_QUEUE = 1_000


class FailureReports:
    """Reports each execution this process's runner ends FAILED (see the module).

    Args:
        runs: Where the execution and its events are read back from.
        redactor: Blanks secrets in error messages.
    """

    def __init__(self, runs: RunStore, redactor: Redactor) -> None:
        self._runs = runs
        self._redactor = redactor
        self._send, self._receive = anyio.create_memory_object_stream[ExecutionEvent](
            _QUEUE
        )

    def publish(self, events: Sequence[ExecutionEvent]) -> None:
        """Note the FAILED ends among stored events (an `EventSink`; never waits)."""
        for event in events:
            if event.type is EventType.EXECUTION_FAILED and sentry_started():
                try:
                    self._send.send_nowait(event)
                except anyio.WouldBlock:
                    log.warning(
                        "too many failed executions to report at once; execution "
                        "%s is not reported to Sentry",
                        event.execution_id,
                    )
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    log.warning(
                        "execution %s failed while the process was stopping; it is "
                        "not reported to Sentry",
                        event.execution_id,
                    )

    async def run(
        self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Report the noted failures until cancelled."""
        task_status.started()
        async for event in self._receive:
            try:
                await self.report(event)
            except Exception:
                log.exception(
                    "reporting failed execution %s to Sentry failed", event.execution_id
                )

    def close(self) -> None:
        """Stop taking failures (the process is closing its services)."""
        self._send.close()
        self._receive.close()

    async def report(self, ended: ExecutionEvent) -> None:
        """Send one event for the execution `ended` (its EXECUTION_FAILED event)."""
        import sentry_sdk

        record = await self._runs.load_execution(ended.execution_id)
        events = await self._runs.events_after(ended.execution_id, 0)
        step_id = ended.data.get("step_id")
        failed = next(
            (
                e
                for e in reversed(events)
                if e.type is EventType.STEP_FAILED and e.step_id == step_id
            ),
            None,
        )
        agent_id = failed.agent_id if failed is not None else None
        error_type = str(failed.data.get("error_type", "")) if failed else ""
        error = self._redactor.redact(str(ended.data.get("error", "")))
        template = record.template_id or "graph"
        with sentry_sdk.new_scope() as scope:
            scope.set_tag("tenant_id", record.tenant_id)
            scope.set_tag("execution_id", record.id)
            scope.set_tag("template_id", template)
            if step_id:
                scope.set_tag("step_id", str(step_id))
            if agent_id:
                scope.set_tag("agent_id", agent_id)
            scope.fingerprint = [
                "execution-failed",
                template,
                str(step_id),
                error_type,
            ]
            scope.set_context("execution", _context(record, ended, failed))
            for event in events:
                level = _BREADCRUMBS.get(event.type)
                if level is not None:
                    scope.add_breadcrumb(
                        category="step",
                        type="default",
                        level=level,
                        message=f"{event.type.value} {event.step_id} "
                        f"(attempt {event.attempt})",
                        data=self._crumb(event),
                        timestamp=event.at,
                    )
            where = f"step '{step_id}' ({agent_id})" if step_id else "an execution"
            sentry_sdk.capture_message(
                f"execution failed at {where}: {error}", level="error"
            )

    def _crumb(self, event: ExecutionEvent) -> dict[str, Any]:
        crumb: dict[str, Any] = {
            "step_id": event.step_id,
            "agent_id": event.agent_id,
            "attempt": event.attempt,
        }
        for key in ("error_type", "error_code", "delay_ms", "retryable"):
            if key in event.data:
                crumb[key] = event.data[key]
        if "error" in event.data:
            crumb["error"] = self._redactor.redact(str(event.data["error"]))
        return crumb


def _context(
    record: ExecutionRecord, ended: ExecutionEvent, failed: ExecutionEvent | None
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "status": record.status.value,
        "created_at": record.created_at.isoformat(),
        "duration_ms": ended.data.get("duration_ms"),
    }
    if failed is not None:
        context["attempts"] = failed.data.get("attempts", failed.attempt)
        context["retryable"] = failed.data.get("retryable")
    return context
