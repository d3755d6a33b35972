"""``agent-orchestrator schedules list|create|pause|resume|delete`` on both databases:
the same use cases as the API (validated, audited), as the tenant's admin."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .process import cli

if TYPE_CHECKING:
    from pathlib import Path


def test_schedules_commands(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url, "AGENT_FILES_DIR": str(tmp_path)}
    bad = cli(
        "schedules", "create", "rikki", "0 8 * *", "--template", "vat_report", env=env
    )
    assert bad.returncode == 2
    assert "input.cron" in bad.stderr and "five fields" in bad.stderr
    made = cli(
        "schedules",
        "create",
        "ALV kuukausittain",
        "0 8 1 * *",
        "--template",
        "vat_report",
        "--var",
        "period_start=${period.previous_month.start}",
        "--var",
        "period_end=${period.previous_month.end}",
        "--tenant",
        "acme",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    assert "0 8 1 * * (Europe/Helsinki)" in made.stdout
    listed = cli("schedules", "list", "--json", "--tenant", "acme", env=env)
    assert listed.returncode == 0, listed.stderr
    (schedule,) = json.loads(listed.stdout)
    assert schedule["variables"]["period_end"] == "${period.previous_month.end}"
    assert json.loads(cli("schedules", "list", "--json", env=env).stdout) == []
    other = cli("schedules", "pause", schedule["id"], env=env)
    assert other.returncode == 2 and "not found" in other.stderr
    paused = cli("schedules", "pause", schedule["id"], "--tenant", "acme", env=env)
    assert paused.returncode == 0 and "paused" in paused.stdout
    resumed = cli("schedules", "resume", schedule["id"], "--tenant", "acme", env=env)
    assert resumed.returncode == 0 and "enabled" in resumed.stdout
    table = cli("schedules", "list", "--tenant", "acme", env=env)
    assert "ALV kuukausittain" in table.stdout
    deleted = cli("schedules", "delete", schedule["id"], "--tenant", "acme", env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert (
        json.loads(
            cli("schedules", "list", "--json", "--tenant", "acme", env=env).stdout
        )
        == []
    )
    audit = cli("audit", "--tenant", "acme", "--json", env=env)
    assert audit.returncode == 0, audit.stderr
    actions = {line["action"] for line in json.loads(audit.stdout)}
    assert {"schedule.create", "schedule.pause", "schedule.delete"} <= actions
