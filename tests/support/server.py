"""Real server processes on loopback ports, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_url() -> str:
    """The Redis that tests share rate limits through (``TEST_REDIS_URL``)."""
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def check_redis() -> None:
    """Fail loudly (never skip) when the test Redis is not reachable."""
    where = urlsplit(redis_url())
    host, port = where.hostname or "127.0.0.1", where.port or 6379
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        raise RuntimeError(
            f"Redis for the rate-limit tests is not reachable at {redis_url()}: "
            f"{exc}. Run `make test` (it starts one) or set TEST_REDIS_URL."
        ) from exc


class ServerProcess:
    """``agent-orchestrator serve`` in a child process (in a session of its own, so
    that the worker processes of ``--workers N`` go with it when it is killed).

    Example::

        with ServerProcess({"DATABASE_URL": url}, log_path) as server:
            httpx.get(server.url + "/health")

    Args:
        env: Variables on top of this process's environment.
        log_path: Where the server's output goes.
        port: The port to bind (default: a free one).
        args: More options of ``serve`` (``["--workers", "2"]``).
    """

    def __init__(
        self,
        env: Mapping[str, str],
        log_path: Path,
        *,
        port: int | None = None,
        args: Sequence[str] = (),
    ) -> None:
        self.port = port or free_port()
        self.args = list(args)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "AGENT_PLUGINS": "tests.support.agents",
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> ServerProcess:
        """Start the process and wait until /health answers 200.

        The deadline is generous: on a busy machine the interpreter alone may take
        tens of seconds to import what the server needs; a healthy start returns
        at once.
        """
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agent_orchestrator",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-bootstrap-key",
                *self.args,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(
            f"server did not become healthy in {timeout} s:\n{self.log()}"
        )

    def log(self) -> str:
        """What the process printed so far."""
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    def kill(self) -> None:
        """SIGKILL: the process (and any worker process of its) dies mid-whatever,
        as in a crash."""
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # the whole group is gone already
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after 10 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
