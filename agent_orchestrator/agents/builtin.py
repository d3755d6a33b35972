"""The built-in agents, made from the app's resources, and the registry of every agent
(built-in, entry-point and ``AGENT_PLUGINS``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .approval import ApprovalAgent
from .categorizer import CategorizerAgent
from .files import FilesAgent
from .invoices import InvoiceParserAgent
from .ledger import LedgerAgent
from .llm import LlmAgent
from .notification import NotificationAgent
from .ocr import OcrAgent
from .receipts import ReceiptParserAgent
from .registry import AgentRegistry, create_registry
from .report import ReportAgent
from .resources import AgentResources
from .vat import VatAgent
from .wait import WaitAgent

if TYPE_CHECKING:
    from ..config import Settings
    from ..core.bookkeeping import ArtifactStore, LedgerStore, Outbox
    from ..core.protocols import Agent


def create_builtin_agents(resources: AgentResources) -> list[Agent]:
    """Every built-in agent, ready to register."""
    return [
        WaitAgent(),
        OcrAgent(resources),
        ReceiptParserAgent(),
        InvoiceParserAgent(),
        ReportAgent.from_resources(resources),
        CategorizerAgent(resources),
        LedgerAgent(resources),
        VatAgent(resources),
        LlmAgent(resources),
        NotificationAgent(resources),
        FilesAgent(resources),
        ApprovalAgent(),
    ]


def create_agent_registry(
    settings: Settings,
    *,
    ledger: LedgerStore | None = None,
    artifacts: ArtifactStore | None = None,
    outbox: Outbox | None = None,
) -> AgentRegistry:
    """Built-in agents plus entry-point and ``AGENT_PLUGINS`` agents.

    Args:
        settings: The configuration; the agents get its files directory and the
            model, mail and webhook settings.
        ledger: The ledger store; without it the agents that read or book refuse.
        artifacts: The artifact store (reports, attachments).
        outbox: The record of side effects done (notifications).
    """
    resources = AgentResources(
        files_dir=settings.agent_files_dir.resolve(),
        ledger=ledger,
        artifacts=artifacts,
        outbox=outbox,
        model=settings.openai,
        mail=settings.mail,
        webhooks=settings.webhooks,
    )
    return create_registry(
        resources,
        builtins=create_builtin_agents(resources),
        plugins=settings.agent_plugins,
    )
