"""The service containers `app.py` makes: named, typed use cases and the long-lived
parts transports need beside them."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings
from ..engine.bus import EventBus
from ..engine.hub import EventHub
from ..engine.runner import Runner
from ..observability.prometheus import PrometheusMetrics
from ..security.sockets import KeySockets
from ..store.database import Database
from .access import Access
from .api_keys import ApiKeys
from .approvals import Approvals
from .artifacts import Artifacts
from .audit import AuditLog
from .catalogue import Catalogue
from .copilot import Copilot
from .executions import Executions
from .files import Files
from .metrics import Metrics
from .review import Review
from .schedules import Schedules
from .scheduling import Scheduler
from .starting import ExecutionStarter
from .stores import ExecutionReader
from .workflows import SavedWorkflows


@dataclass(frozen=True, slots=True)
class AdminServices:
    """The use cases that need only the database: API keys, the audit log and
    metrics (`app.open_admin_services`; the CLI's quick commands use them).

    Attributes:
        settings: The configuration.
        database: The open database.
        access: Rights and the audit trail (transports that check a right before
            reading their input use it).
        api_keys: Create, revoke and list keys; authenticate presented ones.
        audit: The audit log.
        metrics: Execution metrics.
    """

    settings: Settings
    database: Database
    access: Access
    api_keys: ApiKeys
    audit: AuditLog
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class Services(AdminServices):
    """Everything one process uses, made once and closed together
    (`app.open_services`).

    Attributes:
        catalogue: Agents and templates.
        executions: Start, cancel, read and list executions.
        saved_workflows: Save, delete, read and list saved workflows.
        copilot: Plan and run Finnish commands.
        files: Store uploaded documents.
        artifacts: Files agents made.
        review: Documents held for review: correct and book them.
        approvals: Approval requests: list and decide them.
        schedules: Create, list, pause, resume and delete schedules.
        scheduler: This process's scheduler (None unless it runs workflows).
        starter: Validates and submits executions (the use cases' building block;
            it checks no rights and writes no audit entry of its own).
        runner: The process's runner (started only when the service is enabled).
        bus: Events of this process's executions, as they are stored.
        hub: Stored-then-live event streams of one execution.
        runs: Reads executions and their events for the event streams.
        prometheus: The process's Prometheus figures.
        sockets: The open WebSockets of each API key.
    """

    catalogue: Catalogue
    executions: Executions
    saved_workflows: SavedWorkflows
    copilot: Copilot
    files: Files
    artifacts: Artifacts
    review: Review
    approvals: Approvals
    schedules: Schedules
    scheduler: Scheduler | None
    starter: ExecutionStarter
    runner: Runner
    bus: EventBus
    hub: EventHub
    runs: ExecutionReader
    prometheus: PrometheusMetrics
    sockets: KeySockets

    @property
    def enabled(self) -> bool:
        """``AGENT_ORCHESTRATOR_ENABLED``: False when nothing may run."""
        return self.settings.agent_orchestrator_enabled
