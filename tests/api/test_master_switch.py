"""``AGENT_ORCHESTRATOR_ENABLED=false``, the master switch, on a real server process
and the CLI (SQLite and PostgreSQL): ``/health`` answers 200 with ``"status":
"disabled"``, every other request is 503 with the reason (GraphQL-shaped on
``/graphql``, ``{"error": ...}`` elsewhere), no execution runs, and the CLI refuses to
execute or plan. Switched on again, the same database runs the waiting execution."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from agent_orchestrator.agents.builtin import create_agent_registry
from agent_orchestrator.config import load_settings
from agent_orchestrator.core.enums import ExecutionStatus
from agent_orchestrator.core.ids import new_id
from agent_orchestrator.core.protocols import NewExecution
from agent_orchestrator.core.validation import validate_workflow
from agent_orchestrator.store.database import create_database
from agent_orchestrator.store.runs import SqlRunStore
from tests.support.gql import PROTOCOL
from tests.support.server import ROOT, ServerProcess

if TYPE_CHECKING:
    from pathlib import Path

    from agent_orchestrator.core.protocols import ExecutionRecord

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
SWITCH = "AGENT_ORCHESTRATOR_ENABLED=false"
ECHO = {"steps": [{"id": "a", "agent": "echo_agent", "inputs": {"value": 1}}]}


async def waiting_execution(database_url: str) -> str:
    """An execution nobody holds, which any started runner claims at once."""
    registry = create_agent_registry(
        load_settings(agent_plugins=["tests.support.agents"])
    )
    graph = validate_workflow(ECHO, registry)
    async with create_database(database_url) as db:
        record, _ = await SqlRunStore(db).create_execution(
            NewExecution(
                id=new_id(),
                tenant_id="acme",
                graph=graph.to_document(),
                variables={},
                steps=[("a", "echo_agent")],
            )
        )
    return record.id


async def load(database_url: str, execution_id: str) -> ExecutionRecord:
    async with create_database(database_url) as db:
        return await SqlRunStore(db).load_execution(execution_id)


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent_orchestrator", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def said(text: str) -> str:
    return " ".join(text.split())


async def test_switched_off_nothing_runs_and_everyone_is_told_why(
    database_url: str, tmp_path: Path
) -> None:
    execution_id = await waiting_execution(database_url)
    env = {
        "DATABASE_URL": database_url,
        "AGENT_FILES_DIR": str(tmp_path),
        "AGENT_ORCHESTRATOR_ENABLED": "false",
    }
    with ServerProcess(env, tmp_path / "off.log") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            health = await http.get("/health")
            assert health.status_code == 200
            body = health.json()
            assert body["status"] == "disabled" and body["enabled"] is False
            assert SWITCH in body["message"] and body["database"]["ok"]
            assert body["executions_running"] == 0

            graphql = await http.post("/graphql", json={"query": "{ agents { id } }"})
            assert graphql.status_code == 503
            error = graphql.json()["errors"][0]
            assert error["extensions"]["code"] == "SERVICE_DISABLED"
            assert SWITCH in error["message"]
            assert graphql.json()["data"] is None
            ide = await http.get("/graphql", headers={"Accept": "text/html"})
            assert ide.status_code == 503

            for path in ("/api/v1/agent-orchestrator/agents", "/metrics", "/"):
                refused = await http.get(path, headers={"X-API-Key": "anything"})
                assert refused.status_code == 503, path
                assert refused.json()["error"]["code"] == "SERVICE_DISABLED"
                assert SWITCH in refused.json()["error"]["message"]
            posted = await http.post(
                "/api/v1/agent-orchestrator/workflows/execute",
                json={"template_id": "vat_report"},
            )
            assert posted.status_code == 503

        url = server.url.replace("http://", "ws://") + "/graphql"
        with pytest.raises(InvalidStatus) as rejected:
            async with websockets.connect(url, subprotocols=[PROTOCOL]):
                pass
        assert rejected.value.response.status_code == 503
        assert SWITCH in rejected.value.response.body.decode()

        for args in (
            ("execute-workflow", "vat_report", "--var", "period_start=2026-10-01"),
            ("copilot", "Tee ALV-laskelma viime kuulta", "--dry-run"),
        ):
            done = cli(*args, env=env)
            assert done.returncode == 2, done
            assert SWITCH in said(done.stderr), done.stderr

    untouched = await load(database_url, execution_id)
    assert untouched.status is ExecutionStatus.PENDING
    assert untouched.started_at is None and untouched.last_seq == 0

    # Switched on, the same database runs it: what the switched-off process left alone
    # was there to be run.
    env["AGENT_ORCHESTRATOR_ENABLED"] = "true"
    with ServerProcess(env, tmp_path / "on.log"):
        deadline = time.monotonic() + 60
        while (record := await load(database_url, execution_id)).status is not (
            ExecutionStatus.SUCCEEDED
        ):
            assert time.monotonic() < deadline, record
            await anyio.sleep(0.1)
