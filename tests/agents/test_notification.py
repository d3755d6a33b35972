"""`notification_agent` against a real SMTP server (aiosmtpd) and a real webhook
receiver (Starlette on uvicorn), both on loopback, with artifacts and the outbox in the
real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import io
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from pydantic import ValidationError
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agent_orchestrator.agents.notification import (
    NotificationAgent,
    NotificationInput,
)
from agent_orchestrator.agents.registry import AgentRegistry
from agent_orchestrator.agents.resources import AgentResources
from agent_orchestrator.config import Settings
from agent_orchestrator.core.enums import ExecutionStatus, StepStatus
from agent_orchestrator.core.errors import (
    AgentError,
    NonRetryableAgentError,
    ValidationFailed,
)
from agent_orchestrator.core.protocols import AgentContext
from agent_orchestrator.core.validation import validate_workflow
from agent_orchestrator.engine.bus import EventBus
from agent_orchestrator.engine.runner import Runner
from agent_orchestrator.engine.settings import EngineSettings
from agent_orchestrator.service.starting import ExecuteRequest, ExecutionStarter
from agent_orchestrator.store.artifacts import SqlArtifactStore
from agent_orchestrator.store.outbox import SqlOutbox
from agent_orchestrator.store.runs import SqlRunStore
from tests.support.fake_openai import serve_app
from tests.support.mailbox import Mailbox, smtp_server
from tests.support.server import free_port

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Mapping

    from starlette.requests import Request

    from agent_orchestrator.store.database import Database

pytestmark = pytest.mark.anyio

SECRET = "whsec-testi-avain"
SENDER = "Agent Orchestrator <noreply@example.fi>"
SUBJECT = "Talousraportti lokakuu 2026 – ÄÖÅ äöå"
ADDRESS = "kirjanpito@example.fi"
TEXT = {"subject": "ALV-laskelma", "body": "Liitteenä."}
BODY = "Hei,\n\nliitteenä lokakuun talousraportti.\n\nTerveisin\nKirjanpitäjä"


# --- a real SMTP server ---------------------------------------------------------------


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


# --- a real webhook receiver ----------------------------------------------------------


@dataclass
class Receiver:
    """Records each POST, checks its signature, answers the queued statuses."""

    url: str = ""
    calls: list[tuple[dict[str, str], bytes, bool]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    async def hook(self, request: Request) -> Response:
        raw = await request.body()
        expected = (
            "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        )
        given = request.headers.get("x-agent-signature", "")
        verified = hmac.compare_digest(expected, given)
        self.calls.append((dict(request.headers), raw, verified))
        status = self.statuses.pop(0) if self.statuses else 200
        if 300 <= status < 400:
            return Response(status_code=status, headers={"location": "/moved?t=x"})
        return JSONResponse({"ok": status < 300, "verified": verified}, status)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    app = Starlette(routes=[Route("/hooks/agent", rec.hook, methods=["POST"])])
    with serve_app(app) as url:
        rec.url = f"{url}/hooks/agent?token=abc"
        yield rec


# --- the agent and its context --------------------------------------------------------


def settings(box: Mailbox | None = None, **values: Any) -> Settings:
    smtp: dict[str, Any] = {"agent_smtp_host": None}
    if box is not None:
        smtp = {
            "agent_smtp_host": "127.0.0.1",
            "agent_smtp_port": box.port,
            "agent_smtp_tls": "none",
            "agent_smtp_sender": SENDER,
            "agent_smtp_timeout_s": 5,
        }
    return Settings(
        _env_file=None,
        **{
            "agent_webhook_secret": SECRET,
            # The test receiver listens on the loopback, a private address.
            "agent_webhook_allowed_hosts": ["127.0.0.1"],
            **smtp,
            **values,
        },
    )


def agent(database: Database, config: Settings) -> NotificationAgent:
    return NotificationAgent(
        AgentResources(
            mail=config.mail,
            webhooks=config.webhooks,
            artifacts=SqlArtifactStore(database),
            outbox=SqlOutbox(database),
        )
    )


@dataclass
class Step:
    """An execution step's context, and the progress it reported."""

    execution_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    tenant_id: str = "acme"
    progress: list[str] = field(default_factory=list)

    def context(self, attempt: int = 1) -> AgentContext:
        async def report(
            message: str, fraction: float | None, data: Mapping[str, Any] | None
        ) -> None:
            del fraction, data
            self.progress.append(message)

        return AgentContext(
            tenant_id=self.tenant_id,
            execution_id=self.execution_id,
            step_id="notify",
            agent_id="notification_agent",
            attempt=attempt,
            logger=logging.getLogger("test.notification"),
            progress=report,
        )


def report_pdf() -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle("Talousraportti lokakuu 2026")
    pdf.drawString(72, 770, "Talousraportti 1.10.–31.10.2026")
    pdf.drawString(72, 750, "Tulos: 1 234,50 € (ALV 25,5 %)")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def parse(raw: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


# --- e-mail ---------------------------------------------------------------------------


async def test_the_report_arrives_by_email_once(
    database: Database, mailbox: Mailbox
) -> None:
    pdf = report_pdf()
    saved = await SqlArtifactStore(database).save(
        "acme", "talousraportti_2026-10.pdf", "application/pdf", pdf
    )
    step = Step()
    inputs = NotificationInput(
        recipients=["Kirjanpito@Example.fi", "toimitusjohtaja@example.fi"],
        subject=SUBJECT,
        body=BODY,
        attachments=[saved.id],
    )
    first = await agent(database, settings(mailbox)).run(inputs, step.context())

    assert first.sent_to == ["Kirjanpito@example.fi", "toimitusjohtaja@example.fi"]
    assert first.webhook_status is None
    ((sender, rcpt_tos, raw),) = mailbox.received
    assert sender == "noreply@example.fi"
    assert rcpt_tos == first.sent_to
    message = parse(raw)
    assert message["Subject"] == SUBJECT
    assert message["From"] == SENDER
    assert message["Message-ID"] == first.message_id
    text = message.get_body(("plain",))
    assert text is not None
    assert text.get_content().replace("\r\n", "\n").rstrip("\n") == BODY
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "talousraportti_2026-10.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pdf
    assert step.progress == ["e-mail sent to 2 recipient(s)"]

    # The same step again (a retry, or a resume after a crash, with a new agent
    # instance): the recorded result, and nothing more is sent.
    again = await agent(database, settings(mailbox)).run(inputs, step.context(2))
    assert again == first
    assert len(mailbox.received) == 1

    # Another step is another message, with another Message-ID.
    other = await agent(database, settings(mailbox)).run(inputs, Step().context())
    assert len(mailbox.received) == 2
    assert other.message_id != first.message_id


async def test_another_tenants_artifact_is_refused_and_nothing_sent(
    database: Database, mailbox: Mailbox
) -> None:
    theirs = await SqlArtifactStore(database).save(
        "globex", "salainen.pdf", "application/pdf", report_pdf()
    )
    inputs = NotificationInput(
        recipients=["kirjanpito@example.fi"],
        subject=SUBJECT,
        body=BODY,
        attachments=[theirs.id],
    )
    with pytest.raises(NonRetryableAgentError) as caught:
        await agent(database, settings(mailbox)).run(inputs, Step().context())
    assert theirs.id in str(caught.value)
    assert "not an artifact of this tenant" in str(caught.value)
    assert mailbox.received == []


async def test_permanent_rejections_are_final_and_temporary_ones_retryable(
    database: Database, mailbox: Mailbox
) -> None:
    mailbox.refuse = {
        "ei.ole@example.fi": "550 5.1.1 No such user",
        "taynna@example.fi": "452 4.2.2 Mailbox full",
    }
    config = settings(mailbox)
    with pytest.raises(NonRetryableAgentError) as final:
        await agent(database, config).run(
            NotificationInput(recipients=["ei.ole@example.fi"], subject="x", body="y"),
            Step().context(),
        )
    assert "ei.ole@example.fi (550 5.1.1 No such user)" in str(final.value)
    with pytest.raises(AgentError) as later:
        await agent(database, config).run(
            NotificationInput(recipients=["taynna@example.fi"], subject="x", body="y"),
            Step().context(),
        )
    assert later.value.retryable
    # One refused among accepted ones: sent to the others, and not sent again.
    step = Step()
    inputs = NotificationInput(
        recipients=["ok@example.fi", "ei.ole@example.fi"], subject="x", body="y"
    )
    partial = await agent(database, config).run(inputs, step.context())
    assert partial.sent_to == ["ok@example.fi"]
    assert await agent(database, config).run(inputs, step.context(2)) == partial
    assert [r for _, r, _ in mailbox.received] == [["ok@example.fi"]]


async def test_unconfigured_email_names_the_variables_to_set(
    database: Database,
) -> None:
    unconfigured = agent(database, settings(None))
    inputs = NotificationInput(
        recipients=["kirjanpito@example.fi"], subject="x", body="y"
    )
    with pytest.raises(NonRetryableAgentError) as caught:
        await unconfigured.run(inputs, Step().context())
    assert "set AGENT_SMTP_HOST and AGENT_SMTP_SENDER" in str(caught.value)
    health = await unconfigured.health()
    assert not health.ok
    assert health.detail.startswith("e-mail not configured")
    assert "webhooks ready" in health.detail


async def test_an_unreachable_server_is_retryable(database: Database) -> None:
    config = settings(Mailbox(port=free_port()))  # nothing listens there
    inputs = NotificationInput(
        recipients=["kirjanpito@example.fi"], subject="x", body="y"
    )
    with pytest.raises(AgentError) as caught:
        await agent(database, config).run(inputs, Step().context())
    assert caught.value.retryable
    assert "cannot reach the SMTP server 127.0.0.1" in str(caught.value)
    health = await agent(database, config).health()
    assert not health.ok
    assert health.checks["smtp_reachable"] is False


async def test_starttls_demanded_from_a_plain_server_is_a_configuration_error(
    database: Database, mailbox: Mailbox
) -> None:
    config = settings(mailbox, agent_smtp_tls="starttls")
    inputs = NotificationInput(
        recipients=["kirjanpito@example.fi"], subject="x", body="y"
    )
    with pytest.raises(NonRetryableAgentError, match="check AGENT_SMTP_TLS"):
        await agent(database, config).run(inputs, Step().context())
    assert mailbox.received == []


async def test_health_says_ehlo_when_the_server_answers(
    database: Database, mailbox: Mailbox
) -> None:
    health = await agent(database, settings(mailbox)).health()
    assert health.ok
    assert health.detail.startswith(f"SMTP 127.0.0.1:{mailbox.port} answers")
    assert health.checks == {
        "webhook_configured": True,
        "smtp_configured": True,
        "smtp_reachable": True,
    }


async def test_the_login_is_used_and_a_refused_one_is_final(
    database: Database, mailbox: Mailbox
) -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, auth: Any
    ) -> AuthResult:
        logins.append((auth.login, auth.password))
        return AuthResult(success=auth.password == b"oikea-salasana", handled=False)

    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,  # loopback only; production uses starttls or ssl
    )
    controller.start()
    try:
        inputs = NotificationInput(recipients=[ADDRESS], subject="x", body="y")
        login = {"agent_smtp_port": port, "agent_smtp_username": "kirjaaja"}
        good = settings(mailbox, **login, agent_smtp_password="oikea-salasana")
        result = await agent(database, good).run(inputs, Step().context())
        assert result.sent_to == [ADDRESS]
        bad = settings(mailbox, **login, agent_smtp_password="väärä")
        with pytest.raises(NonRetryableAgentError) as caught:
            await agent(database, bad).run(inputs, Step().context())
    finally:
        controller.stop()
    assert "check AGENT_SMTP_USERNAME and AGENT_SMTP_PASSWORD" in str(caught.value)
    assert "väärä" not in str(caught.value)
    assert logins[0] == (b"kirjaaja", b"oikea-salasana")
    assert len(mailbox.received) == 1


# --- webhooks -------------------------------------------------------------------------


async def test_the_webhook_is_signed_and_called_once(
    database: Database, receiver: Receiver
) -> None:
    step = Step()
    data = {"payable": 1234.5, "kausi": "2026-10"}
    inputs = NotificationInput(
        webhook_url=receiver.url, subject=SUBJECT, body=BODY, data=data
    )
    before = int(time.time())
    first = await agent(database, settings()).run(inputs, step.context())
    assert first.webhook_status == 200
    assert first.sent_to == [] and first.message_id is None

    ((headers, raw, verified),) = receiver.calls
    assert verified, "the receiver could not verify X-Agent-Signature"
    assert json.loads(raw) == {
        "execution_id": step.execution_id,
        "step_id": "notify",
        "subject": SUBJECT,
        "body": BODY,
        "data": data,
    }
    assert headers["idempotency-key"] == f"{step.execution_id}:notify"
    assert before <= int(headers["x-agent-timestamp"]) <= int(time.time())

    again = await agent(database, settings()).run(inputs, step.context(2))
    assert again == first
    assert len(receiver.calls) == 1


async def test_a_failed_webhook_is_retried_without_mailing_again(
    database: Database, mailbox: Mailbox, receiver: Receiver
) -> None:
    receiver.statuses = [503]
    step = Step()
    inputs = NotificationInput(
        recipients=["kirjanpito@example.fi"],
        webhook_url=receiver.url,
        subject=SUBJECT,
        body=BODY,
    )
    config = settings(mailbox)
    with pytest.raises(AgentError) as caught:
        await agent(database, config).run(inputs, step.context())
    assert caught.value.retryable
    assert "HTTP 503" in str(caught.value)
    assert "token=abc" not in str(caught.value)  # the query may carry a secret

    result = await agent(database, config).run(inputs, step.context(2))
    assert result.webhook_status == 200
    assert len(mailbox.received) == 1
    assert len(receiver.calls) == 2
    assert result.message_id == parse(mailbox.received[0][2])["Message-ID"]


@pytest.mark.parametrize(("status", "words"), [(400, "HTTP 400"), (302, "redirects")])
async def test_a_refusing_webhook_is_final(
    database: Database, receiver: Receiver, status: int, words: str
) -> None:
    receiver.statuses = [status]
    inputs = NotificationInput(webhook_url=receiver.url, subject="x", body="y")
    with pytest.raises(NonRetryableAgentError, match=words):
        await agent(database, settings()).run(inputs, Step().context())


async def test_a_private_webhook_host_is_refused_before_anything_is_sent(
    database: Database, mailbox: Mailbox, receiver: Receiver
) -> None:
    inputs = NotificationInput(
        recipients=[ADDRESS], webhook_url=receiver.url, subject="x", body="y"
    )
    config = settings(mailbox, agent_webhook_allowed_hosts=[])
    with pytest.raises(NonRetryableAgentError) as caught:
        await agent(database, config).run(inputs, Step().context())
    assert "private address (127.0.0.1)" in str(caught.value)
    assert "AGENT_WEBHOOK_ALLOWED_HOSTS" in str(caught.value)
    assert receiver.calls == [] and mailbox.received == [], "nothing half-sent"


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://10.1.2.3/hook",
        "https://192.168.0.10:8443/hook",
        "http://100.64.0.1/hook",  # shared address space
        "http://[::1]:8080/hook",
        "http://[::ffff:127.0.0.1]/hook",  # loopback dressed as IPv6
        "http://[fd00::1]/hook",
        "http://localhost:9/hook",  # a name that resolves to the loopback
    ],
)
async def test_webhooks_to_private_addresses_are_refused(
    database: Database, url: str
) -> None:
    inputs = NotificationInput(webhook_url=url, subject="x", body="y")
    config = settings(agent_webhook_allowed_hosts=[])
    with pytest.raises(NonRetryableAgentError, match="AGENT_WEBHOOK_ALLOWED_HOSTS"):
        await agent(database, config).run(inputs, Step().context())


async def test_an_allowed_private_network_reaches_the_webhook(
    database: Database, receiver: Receiver
) -> None:
    inputs = NotificationInput(webhook_url=receiver.url, subject="x", body="y")
    config = settings(agent_webhook_allowed_hosts=["10.0.0.0/8", "127.0.0.0/8"])
    result = await agent(database, config).run(inputs, Step().context())
    assert result.webhook_status == 200 and len(receiver.calls) == 1


def test_a_bad_allow_list_entry_is_named() -> None:
    with pytest.raises(ValidationError) as caught:
        settings(agent_webhook_allowed_hosts="hooks.internal, http://x/")
    assert "agent_webhook_allowed_hosts" in str(caught.value)
    assert "'http://x/' is neither a host name" in str(caught.value)
    assert settings(
        agent_webhook_allowed_hosts="hooks.internal, 10.0.0.0/8"
    ).agent_webhook_allowed_hosts == ["hooks.internal", "10.0.0.0/8"]


async def test_webhooks_need_a_secret(database: Database, receiver: Receiver) -> None:
    inputs = NotificationInput(webhook_url=receiver.url, subject="x", body="y")
    config = settings(agent_webhook_secret=None)
    with pytest.raises(NonRetryableAgentError, match="set AGENT_WEBHOOK_SECRET"):
        await agent(database, config).run(inputs, Step().context())
    assert receiver.calls == []


# --- inputs ---------------------------------------------------------------------------


def test_a_bad_recipient_is_named() -> None:
    with pytest.raises(ValidationError) as caught:
        NotificationInput(
            recipients=["kirjanpito@example.fi", "matti.meikalainen@"],
            subject="x",
            body="y",
        )
    (error,) = caught.value.errors()
    assert error["loc"] == ("recipients",)
    assert error["msg"] == (
        "Value error, not an e-mail address: 'matti.meikalainen@' (There must be "
        "something after the @-sign.); give addresses such as kirjanpito@yritys.fi"
    )


def test_a_bad_literal_address_fails_graph_validation_before_anything_runs() -> None:
    registry = AgentRegistry([NotificationAgent(AgentResources())])
    graph = {
        "steps": [
            {
                "id": "notify",
                "agent": "notification_agent",
                "inputs": {"recipients": [ADDRESS, "matti@@example.fi"], **TEXT},
            }
        ]
    }
    with pytest.raises(ValidationFailed) as caught:
        validate_workflow(graph, registry)
    (problem,) = caught.value.problems
    assert problem.path == "steps[0].inputs.recipients"
    assert "not an e-mail address: 'matti@@example.fi'" in problem.message


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({}, "nowhere to send"),
        ({"webhook_url": "ftp://example.fi/x"}, "not an http(s) URL"),
        ({"webhook_url": "https://user:pw@example.fi/x"}, "user name or password"),
        (
            {"webhook_url": "https://example.fi/x", "attachments": ["a1"]},
            "attachments travel by e-mail only",
        ),
    ],
)
def test_inputs_say_what_is_wrong(values: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(words)):
        NotificationInput(subject="x", body="y", **values)


def test_a_subject_is_one_line() -> None:
    inputs = NotificationInput(
        recipients=["a@example.fi"], subject="ALV-laskelma\nlokakuu", body=""
    )
    assert inputs.subject == "ALV-laskelma lokakuu"


# --- in a workflow --------------------------------------------------------------------


@pytest.fixture
async def engine(
    database: Database, mailbox: Mailbox
) -> AsyncIterator[ExecutionStarter]:
    registry = AgentRegistry([agent(database, settings(mailbox))])
    fast = EngineSettings(max_retries=2, timeout_ms=10_000, retry_initial_ms=10)
    async with Runner(SqlRunStore(database), registry, EventBus(), fast) as runner:
        yield ExecutionStarter(runner, registry, {})


GRAPH = {
    "variables": {
        "recipients": {"type": "array", "required": True},
        "report_id": {"type": "string", "required": True},
    },
    "steps": [
        {
            "id": "notify",
            "agent": "notification_agent",
            "inputs": {
                "recipients": "${vars.recipients}",
                "subject": SUBJECT,
                "body": BODY,
                "attachments": ["${vars.report_id}"],
            },
        }
    ],
    "outputs": {"sent_to": "${steps.notify.sent_to}"},
}


async def test_in_a_workflow_the_report_is_mailed_and_a_bad_address_fails_at_once(
    database: Database, mailbox: Mailbox, engine: ExecutionStarter
) -> None:
    saved = await SqlArtifactStore(database).save(
        "acme", "raportti.pdf", "application/pdf", report_pdf()
    )
    record, _ = await engine.execute(
        ExecuteRequest(
            tenant_id="acme",
            graph=GRAPH,
            variables={"recipients": ["kirjanpito@example.fi"], "report_id": saved.id},
        )
    )
    with anyio.fail_after(30):
        done = await engine.runner.wait_finished(record.id)
    assert done.status is ExecutionStatus.SUCCEEDED, done.error_message
    assert done.result == {"sent_to": ["kirjanpito@example.fi"]}
    assert len(mailbox.received) == 1

    record, _ = await engine.execute(
        ExecuteRequest(
            tenant_id="acme",
            graph=GRAPH,
            variables={"recipients": ["matti@@example.fi"], "report_id": saved.id},
        )
    )
    with anyio.fail_after(30):
        failed = await engine.runner.wait_finished(record.id)
    assert failed.status is ExecutionStatus.FAILED
    (step,) = failed.steps
    assert step.status is StepStatus.FAILED
    assert step.attempts == 1, "a bad address is not retried"
    assert "matti@@example.fi" in (step.error or "")
    assert len(mailbox.received) == 1
