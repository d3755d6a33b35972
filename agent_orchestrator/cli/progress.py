"""Live progress of one execution: a bar per step until it ends, then the result.

Log records written while the bars are drawn go through the display's console, above
the bars. Written straight to the terminal they land wherever the cursor is, and the
display's next refresh, which moves up over the lines it drew last, leaves them torn
among the bars.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections import Counter
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import anyio
from rich.file_proxy import FileProxy
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from ..core.enums import EventType, ExecutionStatus
from ..core.graph import parent_step
from .output import console, err

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from rich.console import Console

    from ..core.graph import StepSpec, WorkflowGraph
    from ..core.protocols import ExecutionRecord
    from ..service.caller import Caller
    from ..service.container import Services

    Start = Callable[[], Awaitable[tuple[ExecutionRecord, bool]]]

_FINAL_STEP_STATES = ("SUCCEEDED", "SKIPPED", "FAILED", "CANCELLED")


async def follow(
    services: Services, caller: Caller, graph: WorkflowGraph, start: Start
) -> int:
    """Start an execution of `graph` with `start`, show its steps live until it
    ends, then print its status and result.

    Ctrl-C (or SIGTERM) cancels the execution rather than leaving it behind.

    Returns:
        The exit code: 0 when the execution succeeded, else 1.
    """
    record, created = await start()
    console.print(
        f"Execution [bold]{record.id}[/bold]" + ("" if created else " (existing)")
    )
    with (
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress,
        logs_above(progress.console),
    ):
        tasks = {
            s.id: progress.add_task(
                f"{s.id} [dim]({_what(s)})[/dim]", total=1, state="waiting"
            )
            for s in graph.steps
        }
        elements: Counter[str] = Counter()
        async with anyio.create_task_group() as tg:
            tg.start_soon(_cancel_on_interrupt, services, caller, record.id)
            # The stored events from the first, then the live ones, up to the final
            # one (an execution that had already ended replays and ends at once).
            async with services.hub.follow(record.id) as events:
                async for event in events:
                    _on_event(
                        progress,
                        tasks,
                        event.type,
                        event.step_id,
                        event.data,
                        event.attempt,
                    )
                    _on_element(progress, tasks, elements, event.type, event.step_id)
            final = await services.executions.wait_finished(caller, record.id)
            tg.cancel_scope.cancel()
    colour = {"SUCCEEDED": "green", "FAILED": "red"}.get(final.status.value, "yellow")
    console.print(
        f"[{colour}]{final.status.value}[/{colour}] in {final.duration_ms or 0} ms"
    )
    if final.error_message:
        console.print(final.error_message, style="red", markup=False)
    console.print_json(data=final.result or {})
    return 0 if final.status is ExecutionStatus.SUCCEEDED else 1


@contextmanager
def logs_above(display: Console) -> Iterator[None]:
    """While a live display draws on `display`, send the log records that handlers
    would write to a terminal through `display`, which prints them above it.

    Streams that are not terminals (a log file, a pipe) keep their records as they
    are: nothing is drawn there. Records of loggers without a handler reach Python's
    last-resort handler, which writes to ``sys.stderr`` as it is at that moment, and
    rich's live display already routes that through the console.
    """
    if not display.is_terminal:
        yield
        return
    proxy = FileProxy(display, sys.stderr)
    moved: list[tuple[logging.StreamHandler[Any], Any]] = [
        (handler, handler.setStream(proxy))
        for handler in _stream_handlers()
        if _is_terminal(handler.stream)
    ]
    try:
        yield
    finally:
        for handler, stream in moved:
            handler.setStream(stream)
        proxy.flush()


def _stream_handlers() -> list[logging.StreamHandler[Any]]:
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    found: dict[int, logging.StreamHandler[Any]] = {}
    for logger in loggers:
        for handler in logger.handlers:
            # FileHandler is a StreamHandler too, but never a terminal.
            if isinstance(handler, logging.StreamHandler):
                found[id(handler)] = handler
    return list(found.values())


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # a closed stream
        return False


_FINAL_EVENTS = frozenset({"STEP_SUCCEEDED", "STEP_FAILED", "STEP_SKIPPED"})


def _what(step: StepSpec) -> str:
    kind = step.agent or "sub-workflow"
    return f"for each: {kind}" if step.for_each is not None else kind


def _on_element(
    progress: Progress,
    tasks: dict[str, TaskID],
    elements: Counter[str],
    kind: EventType,
    step_id: str | None,
) -> None:
    """An element of a for-each (``each[3]``) that ended counts on its step's line;
    the steps inside elements get no lines of their own (a for-each may have
    hundreds)."""
    if step_id in tasks and elements[step_id] and kind.value in _FINAL_EVENTS:
        # The for-each's own end keeps the count on its line.
        state = kind.value.removeprefix("STEP_").lower()
        progress.update(
            tasks[step_id], state=f"{state}, {elements[step_id]} elements done"
        )
        return
    parent, index = parent_step(step_id or "")
    if parent is None or index is None or parent not in tasks:
        return
    if kind in (EventType.STEP_SUCCEEDED, EventType.STEP_SKIPPED):
        elements[parent] += 1
        progress.update(tasks[parent], state=f"{elements[parent]} elements done")


def _show(
    progress: Progress, tasks: dict[str, TaskID], step_id: str, state: str
) -> None:
    if step_id not in tasks:
        return
    done = state in _FINAL_STEP_STATES
    progress.update(tasks[step_id], state=state.lower(), completed=1 if done else 0)


def _on_event(
    progress: Progress,
    tasks: dict[str, TaskID],
    kind: EventType,
    step_id: str | None,
    data: Any,
    attempt: int | None,
) -> None:
    if step_id is None or step_id not in tasks:
        return
    if kind is EventType.STEP_PROGRESS:
        fraction = data.get("fraction")
        progress.update(
            tasks[step_id],
            state=str(data.get("message", ""))[:40],
            completed=fraction if fraction is not None else 0,
        )
    elif kind is EventType.STEP_RETRYING:
        progress.update(tasks[step_id], state=f"retrying in {data.get('delay_ms')} ms")
    elif kind is EventType.APPROVAL_REQUESTED:
        progress.update(
            tasks[step_id], state="odottaa hyväksyntää / waiting for approval"
        )
        progress.console.print(
            f"Vaihe '{step_id}' odottaa hyväksyntää / waits for approval: "
            f"agent-orchestrator approvals approve|reject <execution> {step_id}",
            markup=False,
        )
    elif kind is EventType.APPROVAL_DECIDED:
        progress.update(
            tasks[step_id],
            state="hyväksytty / approved" if data.get("approved") else "hylätty",
        )
    elif kind is EventType.STEP_STARTED:
        progress.update(
            tasks[step_id],
            state="running" + (f" (try {attempt})" if attempt and attempt > 1 else ""),
        )
    else:
        _show(progress, tasks, step_id, kind.value.removeprefix("STEP_"))


async def _cancel_on_interrupt(
    services: Services, caller: Caller, execution_id: str
) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            err.print("[yellow]Cancelling the execution...[/yellow]")
            # Through the use case, so that the cancel is audited like the API's.
            await services.executions.cancel(caller, execution_id)
