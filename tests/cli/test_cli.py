"""The command-line tool, run as a real process against SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy import text

from agent_orchestrator.security.keys import hash_key, is_well_formed
from agent_orchestrator.store.database import create_database
from agent_orchestrator.store.migrate import head_revision
from tests.cli.process import cli, environment
from tests.support.server import free_port

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.anyio


async def test_generate_api_key_prints_the_key_last_and_stores_only_its_hash(
    database_url: str,
) -> None:
    done = cli(
        "generate-api-key",
        "ci bot",
        "operator",
        "--tenant",
        "acme",
        "--expires-in-days",
        "30",
        env={"DATABASE_URL": database_url},
    )
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1]
    assert is_well_formed(key)
    assert "role operator tenant acme" in " ".join(done.stderr.split())
    async with create_database(database_url) as db, db.read() as conn:
        rows = (
            (await conn.execute(text("select * from agent_api_keys"))).mappings().all()
        )
    assert len(rows) == 1
    row = rows[0]
    assert row["key_hash"] == hash_key(key) and row["role"] == "OPERATOR"
    assert row["tenant_id"] == "acme" and key.startswith(row["prefix"])
    assert all(key not in str(value) for value in row.values())

    revoked = cli("revoke-api-key", row["id"], env={"DATABASE_URL": database_url})
    assert revoked.returncode == 0, revoked.stderr
    async with create_database(database_url) as db, db.read() as conn:
        revoked_at = (
            await conn.execute(text("select revoked_at from agent_api_keys"))
        ).scalar()
    assert revoked_at is not None


def test_generate_api_key_refuses_a_bad_role_and_expiry(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    bad_role = cli("generate-api-key", "x", "superuser", env=env)
    assert bad_role.returncode == 2
    assert "use one of: viewer, operator, admin" in bad_role.stderr
    assert cli("migrate", env=env).returncode == 0
    too_long = cli(
        "generate-api-key", "x", "admin", "--expires-in-days", "400", env=env
    )
    assert too_long.returncode == 2
    assert "expire within 1 to 366 days" in too_long.stderr


def test_migrate_creates_the_schema_and_is_repeatable(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    head = head_revision()
    for said in (f"created the schema at {head}", f"already at {head}"):
        done = cli("migrate", env=env)
        assert done.returncode == 0, done.stderr
        assert said in done.stdout


def test_a_wrong_setting_names_the_variable_and_what_it_accepts(tmp_path: Path) -> None:
    done = cli(
        "migrate",
        env={"AGENT_MAX_RETRIES": "lots", "DATABASE_URL": "sqlite:///x.db"},
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "AGENT_MAX_RETRIES='lots': expected a whole number" in done.stderr
    done = cli(
        "migrate", env={"DATABASE_URL": "mysql://root@localhost/x"}, cwd=tmp_path
    )
    assert done.returncode == 2
    assert "supported are sqlite and postgresql" in done.stderr


def test_list_agents(tmp_path: Path) -> None:
    done = cli("list-agents", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert '"id": "wait_agent"' in done.stdout


def test_first_start_prints_an_admin_key_and_serves_health(tmp_path: Path) -> None:
    """What `make run` does: migrate, then serve, printing a first admin key."""
    env = environment(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
            "AGENT_FILES_DIR": str(tmp_path / "files"),
        }
    )
    assert cli("migrate", env=env).returncode == 0
    port = free_port()
    out = tmp_path / "serve.log"
    with out.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "agent_orchestrator", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, out.read_text()
                time.sleep(0.1)
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok" and body["database"]["ok"] is True
        assert body["database"]["version"].startswith("SQLite")
        printed = out.read_text()
        assert (
            "First start" in printed and f"http://localhost:{port}/graphql" in printed
        )
        keys = [w for w in printed.split() if w.startswith("ao_")]
        assert len(keys) == 1 and is_well_formed(keys[0])
    finally:
        process.terminate()
        process.wait(timeout=10)
    # Second start: a key exists, none is printed.
    again = tmp_path / "again.log"
    with again.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "agent_orchestrator", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while "GraphiQL" not in again.read_text():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert "First start" not in again.read_text()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_metrics_command(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    assert cli("migrate", env=env).returncode == 0
    done = cli("metrics", "--hours-back", "12", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert '"total_executions": 0' in done.stdout and '"hours_back": 12' in done.stdout
    bad = cli("metrics", "--hours-back", "0", env=env)
    assert bad.returncode == 2 and "hoursBack" in bad.stderr


def test_keys_off_refuses_a_public_address(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}",
        "AGENT_API_KEY_ENABLED": "false",
    }
    done = cli("serve", "--host", "0.0.0.0", "--port", "1", env=env)
    assert done.returncode == 2
    assert "would be an admin" in done.stderr and "--allow-insecure" in done.stderr
