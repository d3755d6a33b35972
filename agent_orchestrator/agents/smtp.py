"""Sending e-mail over SMTP for `notification_agent` (the ``AGENT_SMTP_*`` settings),
with aiosmtplib; failures become agent errors, permanent (5xx) ones not retryable."""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass
from email.utils import parseaddr
from typing import TYPE_CHECKING, Literal

from ..core.errors import AgentError, NonRetryableAgentError

if TYPE_CHECKING:
    from email.message import EmailMessage

    import aiosmtplib

    from ..config import MailSettings


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where and how to send e-mail (the ``AGENT_SMTP_*`` settings)."""

    host: str
    port: int
    tls: Literal["starttls", "ssl", "none"]
    sender: str
    username: str | None
    password: str | None
    timeout_s: float

    @classmethod
    def from_settings(cls, mail: MailSettings) -> SmtpServer | None:
        """The server, or None when e-mail is not configured (no host or sender)."""
        if not mail.host or not mail.sender:
            return None
        return cls(
            host=mail.host,
            port=mail.port,
            tls=mail.tls,
            sender=mail.sender,
            username=mail.username,
            password=mail.password.get_secret_value() if mail.password else None,
            timeout_s=mail.timeout_s,
        )

    @property
    def where(self) -> str:
        """``host:port`` for messages."""
        return f"{self.host}:{self.port}"

    def client(self, timeout_s: float | None = None) -> aiosmtplib.SMTP:
        """An unconnected client; use it as ``async with``."""
        import aiosmtplib

        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.tls == "ssl",
            # True demands STARTTLS (an error if the server does not offer it); False
            # never upgrades, for a relay on a trusted network.
            start_tls=self.tls == "starttls",
            username=self.username,
            password=self.password,
            timeout=timeout_s or self.timeout_s,
        )

    async def ehlo(self, timeout_s: float) -> str:
        """Connect, say EHLO and quit; the server's greeting line."""
        async with self.client(timeout_s) as smtp:
            response = await smtp.ehlo()
        return response.message.splitlines()[0] if response.message else "ok"


async def send_message(
    server: SmtpServer, message: EmailMessage, recipients: list[str]
) -> tuple[list[str], list[str]]:
    """Send one message.

    Returns:
        The recipients the server accepted, and the refused ones with the reason
        (when some were accepted; when none is, an error is raised).

    Raises:
        AgentError: From `smtp_error`.
    """
    try:
        async with server.client() as smtp:
            refused, _reply = await smtp.send_message(
                message, sender=parseaddr(server.sender)[1], recipients=recipients
            )
    except Exception as exc:
        raise smtp_error(exc, server) from exc
    accepted = [r for r in recipients if r not in refused]
    return accepted, [f"{r} ({e.code} {e.message})" for r, e in refused.items()]


def smtp_error(exc: BaseException, server: SmtpServer) -> AgentError:
    """An agent error for an SMTP failure: permanent (5xx) ones are not retryable."""
    import aiosmtplib

    where = f"the SMTP server {server.where}"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        reasons = "; ".join(
            f"{r.recipient} ({r.code} {r.message})" for r in exc.recipients
        )
        permanent = all(r.code >= 500 for r in exc.recipients)
        kind = NonRetryableAgentError if permanent else AgentError
        return kind(f"{where} refused every recipient: {reasons}")
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        kind = NonRetryableAgentError if exc.code >= 500 else AgentError
        return kind(
            f"{where} refused the login ({exc.code} {exc.message}); check "
            "AGENT_SMTP_USERNAME and AGENT_SMTP_PASSWORD"
        )
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        kind = NonRetryableAgentError if exc.code >= 500 else AgentError
        return kind(
            f"{where} refused the sender {exc.sender} ({exc.code} {exc.message}); "
            "check AGENT_SMTP_SENDER"
        )
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return NonRetryableAgentError(
            f"{where} cannot take this message: {exc.message}"
        )
    if type(exc) is aiosmtplib.SMTPException:
        # aiosmtplib raises the bare class when the session cannot be set up as
        # configured: STARTTLS or AUTH not offered, TLS already on.
        return NonRetryableAgentError(
            f"{where}: {exc.message}; check AGENT_SMTP_TLS (starttls, ssl or none), "
            "AGENT_SMTP_PORT and whether the server wants AGENT_SMTP_USERNAME"
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if exc.code >= 500:
            return NonRetryableAgentError(
                f"{where} rejected the message for good ({exc.code} {exc.message})"
            )
        return AgentError(f"{where} asked to try later ({exc.code} {exc.message})")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return NonRetryableAgentError(
            f"{where} has a certificate that cannot be verified "
            f"({exc.verify_message}); check AGENT_SMTP_HOST and AGENT_SMTP_TLS"
        )
    if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError):
        return AgentError(f"cannot reach {where}: {exc}")
    return AgentError(f"sending e-mail through {where} failed: {exc!r}")


def message_id(tenant_id: str, key: str, server: SmtpServer) -> str:
    """A Message-ID that is the same on every attempt of one step."""
    digest = hashlib.sha256(f"{tenant_id}\0{key}".encode()).hexdigest()[:40]
    domain = parseaddr(server.sender)[1].rpartition("@")[2] or "agent-orchestrator"
    return f"<{digest}@{domain}>"
