"""What built-in and plugin agents are given when they are made (the app fills it
in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import MailSettings, ModelSettings, WebhookSettings
from ..core.bookkeeping import ArtifactStore, LedgerStore, Outbox


@dataclass(frozen=True)
class AgentResources:
    """The settings and stores agents may use, each typed for its concern.

    A store left None is one the app did not wire (a test, a tool without a
    database): the agents that need it refuse with a message that says so. Settings
    default to "not configured".

    Attributes:
        files_dir: The root of the files agents may read (``AGENT_FILES_DIR``); each
            tenant has its own area below it.
        ledger: The tenants' ledgers (`ledger_agent`, `vat_agent`, `report_agent`).
        artifacts: Files agents made (`report_agent` saves, `notification_agent`
            attaches).
        outbox: What side effects were done, by idempotency key
            (`notification_agent`).
        model: The OpenAI-compatible model (``OPENAI_*``, ``AGENT_TIMEOUT_MS``).
        mail: E-mail (``AGENT_SMTP_*``).
        webhooks: Webhooks (``AGENT_WEBHOOK_*``).
    """

    files_dir: Path = Path("files")
    ledger: LedgerStore | None = None
    artifacts: ArtifactStore | None = None
    outbox: Outbox | None = None
    model: ModelSettings = field(default_factory=ModelSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
