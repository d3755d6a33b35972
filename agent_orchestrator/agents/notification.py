"""`notification_agent`: sends a result by e-mail (SMTP, with report attachments) and/or
to a webhook (signed JSON).

Both channels are idempotent per execution step: what was sent is recorded in the
outbox under the step's `AgentContext.idempotency_key` plus the channel, and a retried
or resumed step returns the recorded result without sending again. The e-mail's
Message-ID is derived from the same key, so that even a crash between sending and
recording gives the receiving side one Message-ID to deduplicate on.

A webhook is ``POST``ed as JSON ``{execution_id, step_id, subject, body, data}`` with
the headers ``X-Agent-Signature: sha256=<hex HMAC-SHA256(AGENT_WEBHOOK_SECRET, raw
body)>``, ``X-Agent-Timestamp`` (Unix seconds) and ``Idempotency-Key``. A receiver
verifies the signature over the exact bytes it received, with `hmac.compare_digest`.

Health: ok when e-mail is configured (``AGENT_SMTP_HOST``, ``AGENT_SMTP_SENDER``) and
the SMTP server answers EHLO. The planner's notification steps send e-mail, so a
deployment that only has webhooks reports not ok, and the detail says that webhooks
are ready.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from .. import __version__
from ..core.enums import Role
from ..core.errors import AgentError, NonRetryableAgentError, NotFound
from ..core.protocols import AgentContext, AgentHealth, LocalizedText
from .base import BaseAgent
from .network import check_public_target
from .smtp import SmtpServer, message_id, send_message, smtp_error

if TYPE_CHECKING:
    from ..core.bookkeeping import Artifact, ArtifactStore
    from .resources import AgentResources

_T = TypeVar("_T")
WEBHOOK_TIMEOUT_S = 10.0
HEALTH_TIMEOUT_S = 5.0
SMTP_VARIABLES = "AGENT_SMTP_HOST and AGENT_SMTP_SENDER"


def check_recipients(addresses: list[str]) -> list[str]:
    """The addresses normalised and without duplicates.

    Raises:
        ValueError: Naming every address that is not one, and why.
    """
    import email_validator

    good: list[str] = []
    bad: list[str] = []
    for address in addresses:
        try:
            valid = email_validator.validate_email(
                address.strip(), check_deliverability=False
            )
        except email_validator.EmailNotValidError as exc:
            bad.append(f"{address!r} ({exc})")
            continue
        if valid.normalized.lower() not in (g.lower() for g in good):
            good.append(valid.normalized)
    if bad:
        raise ValueError(
            "not an e-mail address: " + "; ".join(bad) + "; give addresses such as "
            "kirjanpito@yritys.fi"
        )
    return good


def check_webhook_url(url: str) -> str:
    """The URL, if it is an absolute http(s) URL without credentials.

    Raises:
        ValueError: Saying what is wrong with it.
    """
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"webhook_url {redact_url(url)!r} is not an http(s) URL; give one such as "
            "https://example.fi/hooks/agent"
        )
    if parts.username or parts.password:
        raise ValueError(
            "webhook_url must not carry a user name or password; the receiver checks "
            "the X-Agent-Signature instead"
        )
    return url


def _check_optional_url(url: str | None) -> str | None:
    return None if url is None else check_webhook_url(url)


def redact_url(url: str) -> str:
    """The URL without its query and fragment (which may carry tokens), for messages."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class NotificationInput(BaseModel):
    """What to send, and where."""

    model_config = ConfigDict(extra="forbid")

    recipients: Annotated[list[str], AfterValidator(check_recipients)] = Field(
        default_factory=list,
        max_length=50,
        description="E-mail addresses to send to, e.g. kirjanpito@yritys.fi.",
    )
    webhook_url: Annotated[str | None, AfterValidator(_check_optional_url)] = Field(
        default=None,
        max_length=2_000,
        description="An http(s) URL to POST the message to as signed JSON, if any.",
    )
    subject: str = Field(
        min_length=1, max_length=500, description="The subject line (one line)."
    )
    body: str = Field(max_length=1_000_000, description="The message as plain text.")
    attachments: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Artifact ids to attach to the e-mail (a report's artifact_id).",
    )
    data: Any = Field(
        default=None, description="Any JSON value sent along in the webhook's data."
    )

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        # A header cannot hold line breaks; a subject interpolated from step outputs
        # may carry some.
        value = " ".join(value.split())
        if not value:
            raise ValueError("the subject is empty; give a one-line subject")
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> NotificationInput:
        if not self.recipients and self.webhook_url is None:
            raise ValueError(
                "nowhere to send: give recipients (e-mail addresses), a webhook_url, "
                "or both"
            )
        if self.attachments and not self.recipients:
            raise ValueError(
                "attachments travel by e-mail only: add recipients or drop attachments"
            )
        return self


class NotificationOutput(BaseModel):
    """What was sent."""

    sent_to: list[str] = Field(description="The e-mail addresses the server accepted.")
    message_id: str | None = Field(description="The e-mail's Message-ID, if sent.")
    webhook_status: int | None = Field(
        description="The webhook's HTTP status, if one was called."
    )


class NotificationAgent(BaseAgent[NotificationInput, NotificationOutput]):
    """Sends a message by e-mail and/or webhook, once per execution step."""

    id = "notification_agent"
    name = "Notification"
    description = LocalizedText(
        fi=(
            "Lähettää viestin sähköpostilla (liitteenä esim. raportti) annetuille "
            "vastaanottajille ja/tai allekirjoitettuna JSON-viestinä "
            "webhook-osoitteeseen."
        ),
        en=(
            "Sends a message by e-mail (with e.g. a report attached) to the given "
            "recipients and/or as signed JSON to a webhook URL."
        ),
    )
    input_model = NotificationInput
    output_model = NotificationOutput
    side_effects = True
    min_role = Role.OPERATOR

    def __init__(self, resources: AgentResources) -> None:
        self.mail = resources.mail
        self.webhooks = resources.webhooks
        self.artifacts = resources.artifacts
        self.outbox = resources.outbox

    async def run(
        self, inputs: NotificationInput, ctx: AgentContext
    ) -> NotificationOutput:
        """Send by every channel asked for that has not been used by this step yet.

        Everything is checked (settings, attachments) before anything is sent.

        Raises:
            NonRetryableAgentError: A channel is not configured, an attachment is not
                the tenant's, the webhook's host is private and not allowed
                (``AGENT_WEBHOOK_ALLOWED_HOSTS``), or the server refused for good.
            AgentError: The SMTP server or webhook could not be reached, or asked to
                try again later.
        """
        outbox = self._service(self.outbox, "outbox")
        email_key = f"{ctx.idempotency_key}:email"
        hook_key = f"{ctx.idempotency_key}:webhook"
        email = (
            await outbox.done(ctx.tenant_id, email_key) if inputs.recipients else None
        )
        hook = (
            await outbox.done(ctx.tenant_id, hook_key) if inputs.webhook_url else None
        )
        send_email = bool(inputs.recipients) and email is None
        call_hook = inputs.webhook_url is not None and hook is None
        if not send_email and not call_hook:
            ctx.logger.info("notification already sent by an earlier attempt")

        server = self._smtp() if send_email else None
        secret = self._webhook_secret() if call_hook else None
        if call_hook and inputs.webhook_url is not None:
            await check_public_target(
                inputs.webhook_url, list(self.webhooks.allowed_hosts)
            )
        if server is not None:
            files = [await self._artifact(i, ctx) for i in inputs.attachments]
            message = self._message(inputs, ctx, server, files)
            email = await self._send(server, message, inputs.recipients, ctx)
            await outbox.record(ctx.tenant_id, email_key, email)
            # Announced only once recorded: a failed announcement must not make a
            # retry send again.
            await ctx.report_progress(
                f"e-mail sent to {len(email['sent_to'])} recipient(s)",
                data={"sent_to": email["sent_to"]},
            )
        if secret is not None and inputs.webhook_url is not None:
            status = await self._post(inputs, ctx, inputs.webhook_url, secret)
            hook = {"status": status}
            await outbox.record(ctx.tenant_id, hook_key, hook)
            await ctx.report_progress(f"webhook answered {status}")
        return NotificationOutput(
            sent_to=list(email["sent_to"]) if email else [],
            message_id=email["message_id"] if email else None,
            webhook_status=hook["status"] if hook else None,
        )

    async def health(self) -> AgentHealth:
        """Connect to the SMTP server and say EHLO (at most 5 s), when configured."""
        hooks = self.webhooks.secret is not None
        webhooks = (
            "webhooks ready"
            if hooks
            else "webhooks not configured (set AGENT_WEBHOOK_SECRET)"
        )
        checks = {"webhook_configured": hooks}
        server = SmtpServer.from_settings(self.mail)
        if server is None:
            return AgentHealth(
                ok=False,
                detail=f"e-mail not configured (set {SMTP_VARIABLES}); {webhooks}",
                checks={**checks, "smtp_configured": False},
            )
        checks["smtp_configured"] = True
        try:
            greeting = await server.ehlo(timeout_s=HEALTH_TIMEOUT_S)
        except Exception as exc:  # any failure is the answer; health never raises
            error = smtp_error(exc, server)
            return AgentHealth(
                ok=False,
                detail=f"{error}; {webhooks}",
                checks={**checks, "smtp_reachable": False},
            )
        return AgentHealth(
            ok=True,
            detail=f"SMTP {server.where} answers ({greeting}); {webhooks}",
            checks={**checks, "smtp_reachable": True},
        )

    # --- parts -----------------------------------------------------------------------

    @staticmethod
    def _service(service: _T | None, name: str) -> _T:
        if service is None:
            raise NonRetryableAgentError(
                f"notification_agent was made without the {name} store; "
                "the application wires it in open_services"
            )
        return service

    def _smtp(self) -> SmtpServer:
        server = SmtpServer.from_settings(self.mail)
        if server is None:
            raise NonRetryableAgentError(
                f"e-mail is not configured: set {SMTP_VARIABLES} (and AGENT_SMTP_PORT, "
                "AGENT_SMTP_TLS, AGENT_SMTP_USERNAME, AGENT_SMTP_PASSWORD as your "
                "server needs), or send to a webhook_url instead"
            )
        return server

    def _webhook_secret(self) -> bytes:
        secret = self.webhooks.secret
        if secret is None:
            raise NonRetryableAgentError(
                "webhooks are not configured: set AGENT_WEBHOOK_SECRET (the key of "
                "the X-Agent-Signature the receiver verifies)"
            )
        return secret.get_secret_value().encode("utf-8")

    async def _artifact(self, artifact_id: str, ctx: AgentContext) -> Artifact:
        artifacts: ArtifactStore = self._service(self.artifacts, "artifacts")
        try:
            return await artifacts.get(artifact_id, ctx.tenant_id)
        except NotFound as exc:
            raise NonRetryableAgentError(
                f"attachment {artifact_id!r} is not an artifact of this tenant; use "
                "the artifact_id a report step of your own gave"
            ) from exc

    @staticmethod
    def _message(
        inputs: NotificationInput,
        ctx: AgentContext,
        server: SmtpServer,
        files: list[Artifact],
    ) -> EmailMessage:
        message = EmailMessage()
        message["From"] = server.sender
        message["To"] = ", ".join(inputs.recipients)
        # The email package encodes non-ASCII headers (RFC 2047) and file names
        # (RFC 2231) itself.
        message["Subject"] = inputs.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = message_id(ctx.tenant_id, ctx.idempotency_key, server)
        message.set_content(inputs.body, charset="utf-8")
        for file in files:
            maintype, _, subtype = file.content_type.partition("/")
            message.add_attachment(
                file.content,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=file.filename,
            )
        return message

    @staticmethod
    async def _send(
        server: SmtpServer,
        message: EmailMessage,
        recipients: list[str],
        ctx: AgentContext,
    ) -> dict[str, Any]:
        accepted, refused = await send_message(server, message, recipients)
        if refused:
            ctx.logger.warning("the SMTP server refused %s", "; ".join(refused))
        return {"sent_to": accepted, "message_id": message["Message-ID"]}

    @staticmethod
    async def _post(
        inputs: NotificationInput, ctx: AgentContext, url: str, secret: bytes
    ) -> int:
        payload = {
            "execution_id": ctx.execution_id,
            "step_id": ctx.step_id,
            "subject": inputs.subject,
            "body": inputs.body,
            "data": inputs.data,
        }
        raw = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
        signature = hmac.new(secret, raw, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Agent-Signature": f"sha256={signature}",
            "X-Agent-Timestamp": str(int(time.time())),
            "Idempotency-Key": ctx.idempotency_key,
            "User-Agent": f"agent-orchestrator/{__version__}",
        }
        import httpx

        where = redact_url(url)
        try:
            async with httpx.AsyncClient(
                timeout=WEBHOOK_TIMEOUT_S, follow_redirects=False
            ) as client:
                response = await client.post(url, content=raw, headers=headers)
        except httpx.TimeoutException as exc:
            raise AgentError(f"the webhook {where} did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise AgentError(f"cannot reach the webhook {where}: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return status
        if status in (408, 425, 429) or status >= 500:
            raise AgentError(f"the webhook {where} answered HTTP {status}")
        if 300 <= status < 400:
            target = redact_url(response.headers.get("location", "?"))
            raise NonRetryableAgentError(
                f"the webhook {where} redirects (HTTP {status}) to {target}; "
                "give the final URL as webhook_url"
            )
        raise NonRetryableAgentError(
            f"the webhook {where} refused the message (HTTP {status}): "
            f"{response.text[:200]}"
        )
