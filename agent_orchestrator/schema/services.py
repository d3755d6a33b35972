"""The long-lived parts one process uses, as the API layer sees them (made and closed
by `app.open_services`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..agents.registry import AgentRegistry
from ..config import Settings
from ..core.templates import WorkflowTemplate
from ..engine.bus import EventBus
from ..engine.hub import EventHub
from ..engine.runner import Runner
from ..engine.service import WorkflowService
from ..security.api_keys import ApiKeyService
from ..store.api_keys import ApiKeyStore
from ..store.audit import AuditStore
from ..store.database import Database
from ..store.executions import ExecutionQueries
from ..store.metrics import MetricsQueries
from ..store.runs import SqlRunStore
from ..store.workflows import WorkflowStore


@dataclass
class Services:
    """Everything long-lived, made once per process and closed together."""

    settings: Settings
    database: Database
    registry: AgentRegistry
    templates: dict[str, WorkflowTemplate]
    bus: EventBus
    hub: EventHub
    runs: SqlRunStore
    runner: Runner
    workflows: WorkflowService
    api_keys: ApiKeyService
    api_key_store: ApiKeyStore
    executions: ExecutionQueries
    saved_workflows: WorkflowStore
    audit: AuditStore
    metrics: MetricsQueries
    planner: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
