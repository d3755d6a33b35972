"""The real engine with the real built-in agents on a test database: the same wiring as
`app.open_services`, without the HTTP server."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio

from agent_orchestrator.agents.builtin import create_agent_registry
from agent_orchestrator.config import Settings
from agent_orchestrator.engine.bus import EventBus
from agent_orchestrator.engine.runner import Runner
from agent_orchestrator.engine.settings import EngineSettings
from agent_orchestrator.service.starting import ExecuteRequest, ExecutionStarter
from agent_orchestrator.store.artifacts import SqlArtifactStore
from agent_orchestrator.store.ledger import SqlLedgerStore
from agent_orchestrator.store.outbox import SqlOutbox
from agent_orchestrator.store.runs import SqlRunStore
from agent_orchestrator.wiring.services import load_checked_templates

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from agent_orchestrator.core.protocols import ExecutionRecord
    from agent_orchestrator.store.database import Database

FAST = EngineSettings(
    max_retries=2,
    timeout_ms=60_000,
    retry_initial_ms=20,
    retry_max_ms=500,
    lease_s=5,
)


@asynccontextmanager
async def open_workflows(
    database: Database, files_dir: Path, **settings: Any
) -> AsyncIterator[ExecutionStarter]:
    """A workflow service whose runner runs on `database`, reading `files_dir`."""
    config = Settings(
        _env_file=None,
        database_url=str(database.url),
        agent_files_dir=files_dir,
        **settings,
    )
    registry = create_agent_registry(
        config,
        ledger=SqlLedgerStore(database),
        artifacts=SqlArtifactStore(database),
        outbox=SqlOutbox(database),
    )
    templates = load_checked_templates(registry)
    async with Runner(SqlRunStore(database), registry, EventBus(), FAST) as runner:
        yield ExecutionStarter(runner, registry, templates)


async def run(
    service: ExecutionStarter, tenant_id: str = "acme", **request: Any
) -> ExecutionRecord:
    """Start an execution and wait until it ends."""
    record, _ = await service.execute(ExecuteRequest(tenant_id=tenant_id, **request))
    with anyio.fail_after(120):
        return await service.runner.wait_finished(record.id)
