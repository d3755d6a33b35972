"""A database that cannot be used stops every command with one line that names
``DATABASE_URL`` and the fix, and exit code 2; `migrate` says what it did."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import uuid
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy import text

from agent_orchestrator.store.database import create_database
from agent_orchestrator.store.migrate import head_revision, upgrade
from tests.cli.process import cli, environment
from tests.support.databases import postgres_url
from tests.support.server import free_port

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.anyio

HEAD = head_revision()

# Every command that opens the database, with arguments that would otherwise work.
COMMANDS = {
    "migrate": ("migrate",),
    "serve": ("serve", "--port", str(free_port())),
    "worker": ("worker",),
    "execute-workflow": (
        "execute-workflow",
        "vat_report",
        "--var",
        "period_start=2026-10-01",
        "--var",
        "period_end=2026-10-31",
    ),
    "generate-api-key": ("generate-api-key", "ci", "viewer"),
    "metrics": ("metrics",),
}


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single line a failed start-up prints, after checking there is no more."""
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "Uvicorn running" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_postgresql_that_does_not_listen(command: str) -> None:
    url = f"postgresql://postgres:s3cret@127.0.0.1:{free_port()}/agents"
    line = one_error_line(cli(*COMMANDS[command], env={"DATABASE_URL": url}))
    assert "cannot connect to PostgreSQL at 127.0.0.1:" in line
    assert "connection refused" in line and "start the server" in line
    assert "DATABASE_URL" in line and "s3cret" not in line and "***" in line


@pytest.mark.parametrize("command", ["migrate", "serve", "execute-workflow"])
def test_a_database_missing_on_the_real_server(command: str) -> None:
    name = f"ao_missing_{uuid.uuid4().hex[:8]}"
    line = one_error_line(
        cli(*COMMANDS[command], env={"DATABASE_URL": postgres_url(name)})
    )
    assert f"database '{name}' does not exist" in line
    assert f"createdb -h 127.0.0.1 -p 5432 -U postgres {name}" in line
    assert "agent-orchestrator migrate" in line and "DATABASE_URL" in line


@pytest.mark.parametrize("command", ["serve", "worker", "execute-workflow", "metrics"])
def test_an_unmigrated_database_says_to_migrate(
    command: str, empty_database_url: str, tmp_path: Path
) -> None:
    line = one_error_line(
        cli(*COMMANDS[command], env={"DATABASE_URL": empty_database_url})
    )
    assert "has no schema yet: run `agent-orchestrator migrate`" in line
    assert f"revision {HEAD}" in line


def test_an_unmigrated_sqlite_file(tmp_path: Path) -> None:
    """A file that exists but was never migrated (not the default file: that one is
    migrated by `serve` itself)."""
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table notes (body text)")
    env = {"DATABASE_URL": f"sqlite:///{path}"}
    for command in ("serve", "generate-api-key"):
        line = one_error_line(cli(*COMMANDS[command], env=env))
        assert "has no schema yet: run `agent-orchestrator migrate`" in line, line
    done = cli("migrate", env=env)
    assert done.returncode == 0, done.stderr
    assert f"created the schema at {HEAD}" in done.stdout


def test_an_older_revision_says_so_and_migrate_upgrades_it(
    empty_database_url: str,
) -> None:
    upgrade(empty_database_url, "0001")
    env = {"DATABASE_URL": empty_database_url}
    line = one_error_line(cli(*COMMANDS["serve"], env=env))
    assert f"is at schema revision 0001, this version needs {HEAD}" in line
    assert "run `agent-orchestrator migrate`" in line
    done = cli("migrate", env=env)
    assert done.returncode == 0, done.stderr
    assert f"upgraded 0001 → {HEAD}" in done.stdout
    again = cli("migrate", env=env)
    assert again.returncode == 0, again.stderr
    assert f"already at {HEAD}" in again.stdout


async def test_a_newer_revision_is_refused(database_url: str) -> None:
    async with create_database(database_url) as db, db.write() as conn:
        await conn.execute(text("update alembic_version set version_num = '9999'"))
    env = {"DATABASE_URL": database_url}
    for command in ("migrate", "serve"):
        line = one_error_line(cli(*COMMANDS[command], env=env))
        assert "at schema revision 9999, which this version does not know" in line


def test_migrate_names_the_database_and_hides_the_password(tmp_path: Path) -> None:
    done = cli("migrate", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == (
        f"Database sqlite:///{tmp_path / 'a.db'}: created the schema at {HEAD}"
    )
    url = postgres_url(f"ao_missing_{uuid.uuid4().hex[:8]}").replace(
        "postgres@", "postgres:hunter2@"
    )
    line = one_error_line(cli("migrate", env={"DATABASE_URL": url}))
    assert "hunter2" not in line and "postgres:***@" in line


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("not a url", "is not a database URL; use e.g. sqlite:///"),
        ("mysql://root@localhost/books", "uses 'mysql'; supported are sqlite and"),
        ("postgresql://postgres@localhost:port/x", "DATABASE_URL cannot be read"),
        (
            "postgresql://postgres@127.0.0.1:5432/postgres?sslmode=require",
            "the parameter 'sslmode', which the asyncpg driver does not accept",
        ),
    ],
)
@pytest.mark.parametrize("command", ["migrate", "serve"])
def test_a_wrong_database_url(command: str, url: str, said: str) -> None:
    line = one_error_line(cli(*COMMANDS[command], env={"DATABASE_URL": url}))
    assert said in line and "DATABASE_URL" in line


def test_a_missing_sqlite_folder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nowhere' / 'x.db'}"
    for command in ("migrate", "serve"):
        line = one_error_line(cli(*COMMANDS[command], env={"DATABASE_URL": url}))
        assert f"the folder {tmp_path / 'nowhere'} does not exist" in line


def test_serve_migrates_the_default_sqlite_file_itself(tmp_path: Path) -> None:
    """`make run` on a fresh checkout: no DATABASE_URL, no database file yet."""
    env = environment({"AGENT_FILES_DIR": str(tmp_path / "files")})
    env.pop("DATABASE_URL", None)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "agent_orchestrator", "serve", "--port", str(port)],
            cwd=tmp_path,
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
        assert response.status_code == 200, response.text
        printed = log.read_text()
        assert (
            f"Database sqlite:///agent_orchestrator.db: created the schema at {HEAD}"
            in printed
        )
        assert printed.index("created the schema") < printed.index("GraphiQL")
        assert (tmp_path / "agent_orchestrator.db").is_file()
    finally:
        process.terminate()
        process.wait(timeout=30)
