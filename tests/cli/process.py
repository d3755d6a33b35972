"""Running ``agent-orchestrator`` as a real process: with pipes, as a script would, or
on a pseudo-terminal read through a terminal emulator, as a person would see it."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyte

from tests.support.server import ROOT

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

# A terminal's width must not leak in: piped output is tested as scripts get it.
_TERMINAL_VARIABLES = ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE", "TERM")


def environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment for the CLI, with `env` on top."""
    base = {k: v for k, v in os.environ.items() if k not in _TERMINAL_VARIABLES}
    return {**base, "PYTHONPATH": str(ROOT), **(env or {})}


def cli(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """Run the CLI to its end with stdout and stderr on pipes."""
    return subprocess.run(
        [sys.executable, "-m", "agent_orchestrator", *args],
        cwd=cwd,
        env=environment(env),
        capture_output=True,
        text=True,
        timeout=120,
    )


@dataclass
class Terminal:
    """What a terminal of `columns` x `rows` shows after the process wrote `raw`."""

    columns: int
    rows: int
    raw: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        self.screen = pyte.Screen(self.columns, self.rows)
        self._stream = pyte.ByteStream(self.screen)

    def feed(self, data: bytes) -> None:
        self.raw += data
        self._stream.feed(data)

    @property
    def lines(self) -> list[str]:
        """The screen's lines, without trailing blanks."""
        return [line.rstrip() for line in self.screen.display]


def run_in_terminal(
    *args: str,
    env: Mapping[str, str] | None = None,
    columns: int = 160,
    rows: int = 60,
    on_output: Callable[[Terminal], None] | None = None,
    timeout: float = 120,
) -> tuple[int, Terminal]:
    """Run the CLI with stdin, stdout and stderr on one pseudo-terminal.

    `on_output` sees the emulated screen after every read, so that a test can act on
    what is displayed (e.g. let an agent go on once its bar is drawn).

    Returns:
        The exit code and the terminal.
    """
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "agent_orchestrator", *args],
        cwd=ROOT,
        env=environment({"TERM": "xterm-256color", **(env or {})}),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    terminal = Terminal(columns, rows)
    deadline = time.monotonic() + timeout
    try:
        while True:
            assert time.monotonic() < deadline, "\n".join(terminal.lines)
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer of the terminal has closed it
                break
            if not data:
                break
            terminal.feed(data)
            if on_output is not None:
                on_output(terminal)
        return process.wait(timeout=30), terminal
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
