"""What the command line does leaves the same audit entries as the API (one per
action, ``via`` ``cli``), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text

from agent_orchestrator.store.database import create_database
from tests.cli.process import cli

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.anyio

GRAPH = {"steps": [{"id": "pause", "agent": "wait_agent", "inputs": {"seconds": 0}}]}


async def audit_rows(database_url: str) -> list[dict[str, Any]]:
    async with create_database(database_url) as db, db.read() as conn:
        rows = await conn.execute(
            text(
                "select tenant_id, action, resource_type, resource_id, details, result "
                "from agent_audit_logs order by created_at"
            )
        )
        found = [dict(r._mapping) for r in rows]
    for row in found:
        if isinstance(row["details"], str):
            row["details"] = json.loads(row["details"])
    return found


async def test_cli_actions_are_audited_once_each(
    database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url, "AGENT_FILES_DIR": str(tmp_path / "files")}
    made = cli("generate-api-key", "nightly", "viewer", "--tenant", "acme", env=env)
    assert made.returncode == 0, made.stderr
    key_id = made.stderr.split("Created API key ")[1].split()[0]
    revoked = cli("revoke-api-key", key_id, env=env)
    assert revoked.returncode == 0, revoked.stderr
    graph = tmp_path / "graph.json"
    graph.write_text(json.dumps(GRAPH), encoding="utf-8")
    ran = cli("execute-workflow", "--graph", str(graph), "--tenant", "acme", env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr

    rows = await audit_rows(database_url)
    actions = [(r["action"], r["tenant_id"], r["result"]) for r in rows]
    assert actions == [
        ("api_key.create", "acme", "success"),
        ("api_key.revoke", "acme", "success"),
        ("execution.start", "acme", "success"),
    ], rows
    assert all(r["details"].get("via") == "cli" for r in rows), rows
    assert rows[1]["resource_id"] == key_id
    assert rows[2]["resource_id"], "the entry names the execution it started"
