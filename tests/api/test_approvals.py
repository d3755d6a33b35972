"""Approvals over the real server, on SQLite and PostgreSQL: an execution parks at its
approval step, the approvers get a Finnish e-mail (a real SMTP server on loopback),
the server is killed with SIGKILL and restarted and the approval still waits; GraphQL
refuses the starter (four eyes), a viewer (role) and another tenant (NOT_FOUND); REST
approves and the execution finishes; a second decision is CONFLICT; the CLI rejects
another one, which ends FAILED naming who and why."""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
import time
from email.policy import default as default_policy
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest

from tests.support.mailbox import smtp_server
from tests.support.server import ROOT, ServerProcess

from .conftest import make_keys

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator
    from pathlib import Path

    from tests.support.databases import DatabaseFactory
    from tests.support.gql import GraphQLClient

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
BASE = "/api/v1/agent-orchestrator"
START = """mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id status } }"""
STATUS = """query($id: ID!) { execution(id: $id) { status errorMessage
  steps { stepId status attempts output } } }"""
PENDING = """query { approvals(status: PENDING) { executionId stepId title details
  approverRole status requestedBy expiresAt } }"""
DECIDE = """mutation($e: ID!, $s: String!, $a: Boolean!, $c: String) {
  decideApproval(executionId: $e, stepId: $s, approve: $a, comment: $c) {
    status decidedBy comment } }"""
GRAPH = {
    "steps": [
        {"id": "report", "agent": "wait_agent", "inputs": {"seconds": 0}},
        {
            "id": "approve",
            "agent": "approval_agent",
            "inputs": {
                "title": "Lähetä lokakuun ALV-raportti",
                "details": "Maksettava ALV 1 234,56 €",
                "notify": ["kirjanpitaja@example.fi"],
            },
            "depends_on": ["report"],
        },
        {
            "id": "send",
            "agent": "wait_agent",
            "inputs": {"seconds": 0},
            "depends_on": ["approve"],
        },
    ]
}


async def wait_for(
    predicate: Callable[[], Awaitable[Any]], timeout: float, what: str
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await predicate()
        if found:
            return found
        await anyio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def status_of(client: GraphQLClient, execution_id: str) -> dict[str, Any]:
    data = await client.data(STATUS, {"id": execution_id})
    return dict(data["execution"])


async def reach(client: GraphQLClient, execution_id: str, status: str) -> Any:
    async def check() -> Any:
        found = await status_of(client, execution_id)
        return found if found["status"] == status else None

    return await wait_for(check, 60, f"execution {execution_id} to be {status}")


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``agent-orchestrator ARGS`` against the server's database."""
    return subprocess.run(
        [sys.executable, "-m", "agent_orchestrator", *args],
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def error_code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


@pytest.fixture
def keyed(
    db_kind: str, database_factory: DatabaseFactory, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    """A fresh database of each kind with keys of three roles in tenant acme and an
    admin of globex."""
    url = (
        database_factory.sqlite(tmp_path)
        if db_kind == "sqlite"
        else database_factory.postgres()
    )
    keys = make_keys(
        url,
        {
            "admin": ("admin", "acme"),
            "operator": ("operator", "acme"),
            "viewer": ("viewer", "acme"),
            "other": ("admin", "globex"),
        },
    )
    try:
        yield url, keys
    finally:
        if db_kind == "postgresql":
            database_factory.drop(url)


async def test_approvals_survive_a_kill_and_are_decided_once(
    keyed: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    from tests.support.gql import GraphQLClient

    url, keys = keyed
    with smtp_server() as box:
        env = {
            "DATABASE_URL": url,
            "AGENT_FILES_DIR": str(tmp_path / "files"),
            "AGENT_LEASE_SECONDS": "2",
            "AGENT_APPROVAL_CHECK_S": "0.2",
            "AGENT_APPROVAL_RECIPIENTS": "talousjohtaja@example.fi",
            "AGENT_SMTP_HOST": "127.0.0.1",
            "AGENT_SMTP_PORT": str(box.port),
            "AGENT_SMTP_TLS": "none",
            "AGENT_SMTP_SENDER": "Agent Orchestrator <noreply@example.fi>",
            "AGENT_RATE_LIMIT": "100000/minute",
        }
        first = ServerProcess(env, tmp_path / "first.log").start()
        try:
            client = GraphQLClient(first.url, keys["operator"])
            started = await client.data(START, {"g": GRAPH})
            execution_id = started["executeWorkflow"]["id"]
            waiting = await reach(client, execution_id, "WAITING_APPROVAL")
            steps = {s["stepId"]: s["status"] for s in waiting["steps"]}
            assert steps == {
                "report": "SUCCEEDED",
                "approve": "WAITING_APPROVAL",
                "send": "PENDING",
            }

            async def mail() -> Any:
                return box.received

            [(_, rcpt, raw)] = await wait_for(mail, 30, "the approvers' e-mail")
        finally:
            first.kill()
    assert sorted(rcpt) == ["kirjanpitaja@example.fi", "talousjohtaja@example.fi"]
    message = email.message_from_bytes(raw, policy=default_policy)
    assert message["Subject"] == "Hyväksyntä odottaa: Lähetä lokakuun ALV-raportti"
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "odottaa hyväksyntääsi" in text
    assert execution_id in text
    assert "Maksettava ALV 1 234,56 €" in text
    assert "decideApproval" in text
    assert f"/workflows/{execution_id}/approvals/approve" in text
    assert f"agent-orchestrator approvals approve {execution_id} approve" in text

    second = ServerProcess(env, tmp_path / "second.log").start()
    try:
        admin = GraphQLClient(second.url, keys["admin"])
        operator = GraphQLClient(second.url, keys["operator"])
        # Still waiting after the kill, and listed.
        pending = (await admin.data(PENDING))["approvals"]
        assert [(a["executionId"], a["stepId"]) for a in pending] == [
            (execution_id, "approve")
        ]
        assert pending[0]["approverRole"] == "ADMIN"
        assert pending[0]["status"] == "PENDING"
        other = GraphQLClient(second.url, keys["other"])
        assert (await other.data(PENDING))["approvals"] == []

        args = {"e": execution_id, "s": "approve", "a": True, "c": None}
        refused = await operator(DECIDE, args)
        assert error_code(refused) == "FORBIDDEN"
        assert "four eyes" in refused["errors"][0]["message"]
        viewer = GraphQLClient(second.url, keys["viewer"])
        refused = await viewer(DECIDE, args)
        assert error_code(refused) == "FORBIDDEN"
        assert "needs role ADMIN" in refused["errors"][0]["message"]
        assert error_code(await other(DECIDE, args)) == "NOT_FOUND"

        async with httpx.AsyncClient(base_url=second.url, timeout=30) as http:
            path = f"{BASE}/workflows/{execution_id}/approvals/approve"
            headers = {"X-API-Key": keys["admin"]}
            bad = await http.post(path, headers=headers, json={"approve": "yes"})
            assert bad.status_code == 422
            done = await http.post(
                path, headers=headers, json={"approve": True, "comment": "OK"}
            )
            assert done.status_code == 200, done.text
            assert done.json()["status"] == "APPROVED"
            finished = await reach(operator, execution_id, "SUCCEEDED")
            outputs = {s["stepId"]: s["output"] for s in finished["steps"]}
            assert outputs["approve"]["approved"] is True
            assert outputs["approve"]["comment"] == "OK"
            again = await http.post(path, headers=headers, json={"approve": False})
            assert again.status_code == 409
            assert "a decision is made once" in again.json()["error"]["message"]
            listed = await http.get(
                f"{BASE}/approvals", params={"status": "APPROVED"}, headers=headers
            )
            assert [a["execution_id"] for a in listed.json()["approvals"]] == [
                execution_id
            ]

        # The CLI rejects another one; the running server finishes it.
        started = await operator.data(START, {"g": GRAPH})
        rejected_id = started["executeWorkflow"]["id"]
        await reach(operator, rejected_id, "WAITING_APPROVAL")
        listed_cli = cli(env, "approvals", "list", "--tenant", "acme", "--json")
        assert listed_cli.returncode == 0, listed_cli.stderr
        assert [
            (a["execution_id"], a["status"]) for a in json.loads(listed_cli.stdout)
        ] == [(rejected_id, "PENDING")]
        done_cli = cli(
            env,
            "approvals",
            "reject",
            rejected_id,
            "approve",
            "--tenant",
            "acme",
            "--comment",
            "Luvut eivät täsmää",
        )
        assert done_cli.returncode == 0, done_cli.stderr
        assert "Hylätty / rejected" in done_cli.stdout
        failed = await reach(operator, rejected_id, "FAILED")
        assert "cli" in failed["errorMessage"]
        assert "Luvut eivät täsmää" in failed["errorMessage"]
        steps = {s["stepId"]: s for s in failed["steps"]}
        assert steps["approve"]["status"] == "FAILED"
        assert steps["send"]["status"] == "CANCELLED"
        assert steps["send"]["attempts"] == 0
    finally:
        second.stop()
