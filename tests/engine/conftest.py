"""Engine fixtures: the same tests on the memory store (asyncio and trio) and on the
SQL store (SQLite and PostgreSQL; their drivers are asyncio-only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from agent_orchestrator.agents.approval import ApprovalAgent
from agent_orchestrator.agents.registry import AgentRegistry
from agent_orchestrator.agents.wait import WaitAgent
from agent_orchestrator.core.protocols import RunStore
from agent_orchestrator.engine.bus import EventBus
from agent_orchestrator.engine.runner import Runner
from agent_orchestrator.engine.settings import EngineSettings
from agent_orchestrator.service.starting import ExecutionStarter
from agent_orchestrator.store.database import create_database
from agent_orchestrator.store.memory import MemoryRunStore
from agent_orchestrator.store.runs import SqlRunStore
from tests.api import gate_agent
from tests.support.agents import create_agents

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.support.databases import DatabaseFactory

COMBINATIONS = [
    ("memory", "asyncio"),
    ("memory", "trio"),
    ("sqlite", "asyncio"),
    ("postgresql", "asyncio"),
]

FAST = EngineSettings(
    max_retries=3,
    timeout_ms=5_000,
    retry_initial_ms=20,
    retry_max_ms=2_000,
    lease_s=5,
    drain_s=0.5,
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames:
        metafunc.parametrize(
            ("store_kind", "anyio_backend"),
            COMBINATIONS,
            ids=[f"{s}-{b}" for s, b in COMBINATIONS],
        )


@dataclass
class Engine:
    store: RunStore
    runner: Runner
    bus: EventBus
    service: ExecutionStarter
    registry: AgentRegistry


def make_registry() -> AgentRegistry:
    return AgentRegistry(
        [WaitAgent(), ApprovalAgent(), *create_agents(None), gate_agent.GateAgent()]
    )


@pytest.fixture
def engine_settings() -> EngineSettings:
    return FAST


@pytest.fixture
async def engine(
    store_kind: str,
    database_factory: DatabaseFactory,
    tmp_path: Path,
    engine_settings: EngineSettings,
) -> AsyncIterator[Engine]:
    registry = make_registry()
    bus = EventBus()
    if store_kind == "memory":
        store: RunStore = MemoryRunStore()
        async with Runner(store, registry, bus, engine_settings) as runner:
            yield Engine(
                store, runner, bus, ExecutionStarter(runner, registry, {}), registry
            )
        return
    url = database_factory.new(store_kind, tmp_path)
    try:
        async with create_database(url) as db:
            store = SqlRunStore(db)
            async with Runner(store, registry, bus, engine_settings) as runner:
                yield Engine(
                    store, runner, bus, ExecutionStarter(runner, registry, {}), registry
                )
    finally:
        database_factory.drop(url)
