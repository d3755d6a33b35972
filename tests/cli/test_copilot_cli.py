"""`agent-orchestrator copilot`, run as a real process against SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from agent_orchestrator.store.database import create_database
from tests.cli.process import cli

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.anyio

COMMAND = "Tee ALV-laskelma viime kuulta"


def environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    # The offline planner, whatever the surrounding environment says.
    return {
        "DATABASE_URL": database_url,
        "AGENT_FILES_DIR": str(tmp_path / "files"),
        "OPENAI_API_KEY": "",
    }


async def executions(database_url: str) -> list[dict[str, object]]:
    async with create_database(database_url) as db, db.read() as conn:
        rows = await conn.execute(
            text(
                "select id, tenant_id, status, template_id, metadata "
                "from agent_workflow_executions"
            )
        )
        return [dict(row) for row in rows.mappings()]


async def test_a_dry_run_prints_the_plan_and_runs_nothing(
    database_url: str, tmp_path: Path
) -> None:
    done = cli(
        "copilot",
        COMMAND,
        "--dry-run",
        "--reference-date",
        "2026-11-24",
        env=environment(database_url, tmp_path),
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for shown in ("vat_report", "offline", "period_start", "2026-10-01", "2026-10-31"):
        assert shown in out, out
    assert "vat_agent" in out  # the steps
    assert "1.10.2026–31.10.2026" in out  # the explanation
    assert await executions(database_url) == []


async def test_a_run_shows_the_plan_then_ends_with_the_result(
    database_url: str, tmp_path: Path
) -> None:
    done = cli(
        "copilot",
        COMMAND,
        "--reference-date",
        "2026-11-24",
        "--tenant",
        "acme",
        env=environment(database_url, tmp_path),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.index("vat_report") < out.index("Execution") < out.index("SUCCEEDED")
    assert '"payable"' in out  # the result, last
    (row,) = await executions(database_url)
    assert row["tenant_id"] == "acme" and row["status"] == "SUCCEEDED"
    metadata = row["metadata"]
    if isinstance(metadata, str):  # SQLite hands JSON back as text
        metadata = json.loads(metadata)
    assert isinstance(metadata, dict)
    assert metadata["source"] == "copilot" and metadata["via"] == "cli"
    assert metadata["copilot"]["command"] == COMMAND
    assert metadata["copilot"]["variables"] == {
        "period_start": "2026-10-01",
        "period_end": "2026-10-31",
    }


async def test_a_refused_command_says_why(database_url: str, tmp_path: Path) -> None:
    done = cli(
        "copilot",
        "Kirjoita runo kissoista",
        env=environment(database_url, tmp_path),
    )
    assert done.returncode == 2
    assert "error:" in done.stderr and len(done.stderr.strip()) > len("error:")
    bad = cli(
        "copilot",
        COMMAND,
        "--reference-date",
        "24.11.2026",
        env=environment(database_url, tmp_path),
    )
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
    assert await executions(database_url) == []
