"""The built-in agents, made from the app's resources."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .categorizer import CategorizerAgent
from .invoices import InvoiceParserAgent
from .ledger import LedgerAgent
from .llm import LlmAgent
from .notification import NotificationAgent
from .ocr import OcrAgent
from .receipts import ReceiptParserAgent
from .report import ReportAgent
from .vat import VatAgent
from .wait import WaitAgent

if TYPE_CHECKING:
    from ..core.protocols import Agent
    from .resources import AgentResources


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
    ]
