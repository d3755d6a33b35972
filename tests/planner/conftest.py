"""The built-in agents and the offline planner, shared by the planner's tests (a module
that needs other agents defines its own `registry`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from agent_orchestrator.agents.builtin import create_agent_registry
from agent_orchestrator.config import Settings
from agent_orchestrator.core.templates import load_templates
from agent_orchestrator.planner.offline import OfflinePlanner

if TYPE_CHECKING:
    from collections.abc import Iterator

    from agent_orchestrator.agents.registry import AgentRegistry


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> AgentRegistry:
    files = tmp_path_factory.mktemp("files")
    return create_agent_registry(Settings(_env_file=None, agent_files_dir=files))


@pytest.fixture(scope="module")
def planner(registry: AgentRegistry) -> Iterator[OfflinePlanner]:
    offline = OfflinePlanner(load_templates(), registry)
    yield offline
    offline.close()
