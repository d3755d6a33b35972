"""A composed Finnish command end to end on a real server (SQLite and PostgreSQL):
receipts are uploaded, copilotExecute plans a for-each over their folder, the VAT
report after it, an approval and an e-mail; the receipts are processed one by one, the
execution waits for the approval, an admin approves, and the VAT report reaches a real
SMTP server."""

from __future__ import annotations

import email
import random
from email.policy import default as default_policy
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.api.test_approvals import keyed, reach, wait_for
from tests.support.documents import make_receipt, text_of
from tests.support.mailbox import smtp_server
from tests.support.server import ServerProcess

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["keyed"]  # the fixture, shared with the approval tests

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

EXECUTE = """
mutation($command: String!, $context: CopilotContextInput) {
  copilotExecute(command: $command, context: $context) {
    plan { templateId explanation warnings graph }
    execution { id status }
  }
}"""
STEPS = """query($id: ID!) { execution(id: $id) { status errorMessage
  steps(flat: true) { stepId status parentStepId } } }"""
DECIDE = """mutation($e: ID!, $s: String!) {
  decideApproval(executionId: $e, stepId: $s, approve: true) { status } }"""
COMMAND = (
    "Käsittele kaikki kuitit kansiosta uploads, tee sen jälkeen ALV-laskelma "
    "lokakuulta ja lähetä se osoitteeseen kirjanpito@firma.fi kun hyväksyntä on saatu"
)
FILES = "/api/v1/agent-orchestrator/files"


async def test_a_composed_command_runs_end_to_end(
    keyed: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    from tests.support.gql import GraphQLClient

    url, keys = keyed
    rng = random.Random(2026)
    with smtp_server() as box:
        env = {
            "DATABASE_URL": url,
            "AGENT_FILES_DIR": str(tmp_path / "files"),
            "AGENT_SMTP_HOST": "127.0.0.1",
            "AGENT_SMTP_PORT": str(box.port),
            "AGENT_SMTP_TLS": "none",
            "AGENT_SMTP_SENDER": "Agent Orchestrator <noreply@example.fi>",
            "AGENT_RATE_LIMIT": "100000/minute",
        }
        with ServerProcess(env, tmp_path / "server.log") as server:
            # The receipts arrive as a user sends them: uploaded, into uploads/.
            async with httpx.AsyncClient(
                base_url=server.url, headers={"X-API-Key": keys["operator"]}
            ) as rest:
                for n in range(3):
                    text = text_of(make_receipt(rng)).encode()
                    sent = await rest.post(
                        FILES, files={"file": (f"kuitti-{n}.txt", text, "text/plain")}
                    )
                    assert sent.status_code == 201, sent.text
            operator = GraphQLClient(server.url, keys["operator"])
            admin = GraphQLClient(server.url, keys["admin"])
            made = (
                await operator.data(
                    EXECUTE,
                    {"command": COMMAND, "context": {"referenceDate": "2026-11-24"}},
                )
            )["copilotExecute"]
            plan, execution_id = made["plan"], made["execution"]["id"]
            assert plan["templateId"] is None
            agents = [s.get("agent") or "workflow" for s in plan["graph"]["steps"]]
            assert agents == [
                "files_agent",
                "workflow",
                "vat_agent",
                "approval_agent",
                "notification_agent",
            ]
            assert plan["explanation"].startswith("1. Luetaan kansion uploads")

            waiting = await reach(operator, execution_id, "WAITING_APPROVAL")
            flat = (await operator.data(STEPS, {"id": execution_id}))["execution"]
            elements = [s for s in flat["steps"] if s["parentStepId"] == "receipts"]
            assert len(elements) == 3, flat["steps"]
            assert all(s["status"] == "SUCCEEDED" for s in elements)
            assert box.received == []  # nothing sent before the approval
            assert waiting["status"] == "WAITING_APPROVAL"

            decided = await admin.data(DECIDE, {"e": execution_id, "s": "approve"})
            assert decided["decideApproval"]["status"] == "APPROVED"
            done = await reach(operator, execution_id, "SUCCEEDED")
            assert done["status"] == "SUCCEEDED"

            async def mail() -> Any:
                return box.received

            [(_, rcpt, raw)] = await wait_for(mail, 30, "the VAT report's e-mail")
    assert rcpt == ["kirjanpito@firma.fi"]
    message = email.message_from_bytes(raw, policy=default_policy)
    assert str(message["Subject"]).startswith("ALV-laskelma 1.10.2026–31.10.2026")
