"""What the command line prints, and how a failure becomes one line and exit code 2.

Both consoles are made for people at a terminal and for scripts alike: when a stream is
not a terminal (and ``COLUMNS`` does not say otherwise) it gets a width no table or JSON
document reaches and soft wrapping, so that piped output is never folded at rich's
default of 80 columns.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from ..core.errors import AgentOrchestratorError, ValidationFailed

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

T = TypeVar("T")

# Wide enough for any row we print (an agent's description is a few hundred
# characters); rich pads nothing to the console width in what we print.
SCRIPT_WIDTH = 10_000
EXIT_ERROR = 2


def make_console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr) that does not fold piped output."""
    console = Console(stderr=stderr)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = SCRIPT_WIDTH
        console.soft_wrap = True
    return console


console = make_console()
err = make_console(stderr=True)


def fail(exc: BaseException | str) -> NoReturn:
    """Print the error as one line on stderr (a validation error: one line per
    problem) and exit with code 2."""
    if isinstance(exc, ValidationFailed):
        err.print(f"[red]error:[/red] {len(exc.problems)} problem(s):")
        for problem in exc.problems:
            where = escape(problem.path or "(root)")
            err.print(f"  - [bold]{where}[/bold]: {escape(problem.message)}")
    else:
        err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
    raise typer.Exit(EXIT_ERROR)


def warn(text: str) -> None:
    """A warning line on stderr (`text` is rich markup)."""
    err.print(f"[yellow]warning:[/yellow] {text}", soft_wrap=True)


def run(main: Callable[[], Awaitable[T]], database_url: str | None = None) -> T:
    """Run a coroutine function; our errors, and driver errors that mean the database
    at `database_url` cannot be used, become one red line and exit code 2."""
    import anyio

    try:
        return anyio.run(main)
    except Exception as exc:
        ours = known_error(exc, database_url)
        if ours is None:
            raise
        fail(ours)


def known_error(
    exc: BaseException, database_url: str | None
) -> AgentOrchestratorError | OSError | None:
    """The error to show for `exc`, or None when it is unexpected (a bug: let the
    traceback through).

    Task groups wrap what their tasks raise: an exception group is known when every
    error in it is, and its first one is shown.
    """
    leaves = list(_leaves(exc))
    known: list[AgentOrchestratorError | OSError] = []
    for leaf in leaves:
        if isinstance(leaf, AgentOrchestratorError):
            known.append(leaf)
            continue
        if database_url is not None:
            from ..store.migrate import translate_error

            translated = translate_error(leaf, database_url)
            if translated is not None:
                known.append(translated)
                continue
        if isinstance(leaf, OSError):
            known.append(leaf)
            continue
        return None
    return known[0] if known else None


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]
