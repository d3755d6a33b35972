"""``AGENT_ORCHESTRATOR_ENABLED=false``: nothing starts a workflow from the command
line, while `serve` still starts so that /health can tell the state."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy import text

from agent_orchestrator.service.switch import DISABLED_MESSAGE
from agent_orchestrator.store.database import create_database
from tests.cli.process import cli, environment
from tests.support.server import ROOT, free_port

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.anyio

REFUSED = {
    "execute-workflow": (
        "execute-workflow",
        "vat_report",
        "--var",
        "period_start=2026-10-01",
        "--var",
        "period_end=2026-10-31",
    ),
    "copilot": ("copilot", "Tee ALV-laskelma viime kuulta"),
    "copilot --dry-run": ("copilot", "Tee ALV-laskelma viime kuulta", "--dry-run"),
    "worker": ("worker",),
}


@pytest.mark.parametrize("command", sorted(REFUSED))
async def test_off_refuses_to_run_workflows(command: str, database_url: str) -> None:
    done = cli(
        *REFUSED[command],
        env={
            "DATABASE_URL": database_url,
            "AGENT_ORCHESTRATOR_ENABLED": "false",
            "OPENAI_API_KEY": "",
        },
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [f"error: {DISABLED_MESSAGE}"]
    async with create_database(database_url) as db, db.read() as conn:
        count = await conn.execute(
            text("select count(*) from agent_workflow_executions")
        )
        assert count.scalar() == 0


def test_off_still_serves_health(tmp_path: Path) -> None:
    env = environment(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'off.db'}",
            "AGENT_ORCHESTRATOR_ENABLED": "false",
            "AGENT_FILES_DIR": str(tmp_path / "files"),
        }
    )
    assert cli("migrate", env=env).returncode == 0
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "agent_orchestrator", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        # The body is the server's to define; that it answers is the CLI's part.
        assert response.status_code in (200, 503)
        assert "switched off (AGENT_ORCHESTRATOR_ENABLED=false)" in log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_on_by_default(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'on.db'}"}
    assert cli("migrate", env=env).returncode == 0
    done = cli(*REFUSED["copilot --dry-run"], env={**env, "OPENAI_API_KEY": ""})
    assert done.returncode == 0, done.stderr
    assert "switched off" not in done.stderr
