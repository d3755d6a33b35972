"""A for-each longer than AGENT_MAX_FOREACH_ITEMS, or an expansion past the step-run
budget, fails its step with an error that says so (not a hang)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from agent_orchestrator.core.enums import ExecutionStatus
from agent_orchestrator.engine.settings import EngineSettings

from .conftest import FAST
from .test_engine import run

if TYPE_CHECKING:
    from .conftest import Engine

pytestmark = pytest.mark.anyio


@pytest.fixture
def engine_settings() -> EngineSettings:
    return EngineSettings(
        max_retries=FAST.max_retries,
        timeout_ms=FAST.timeout_ms,
        retry_initial_ms=FAST.retry_initial_ms,
        retry_max_ms=FAST.retry_max_ms,
        lease_s=FAST.lease_s,
        max_foreach_items=5,
        max_step_runs=40,
    )


async def test_too_many_elements_fail_the_step_with_a_clear_error(
    engine: Engine,
) -> None:
    graph: dict[str, Any] = {
        "steps": [
            {"id": "src", "agent": "echo_agent", "inputs": {"value": list(range(6))}},
            {
                "id": "each",
                "agent": "echo_agent",
                "for_each": "${steps.src.value}",
                "inputs": {"value": "${item}"},
            },
        ]
    }
    final = await run(engine, graph)
    assert final.status is ExecutionStatus.FAILED
    assert "6 elements; at most 5" in (final.error_message or "")
    assert "AGENT_MAX_FOREACH_ITEMS" in (final.error_message or "")
    # The step-run budget bounds nested expansion: 5 x 9 inner steps is over 40.
    inner = {"steps": [{"id": f"s{i}", "agent": "echo_agent"} for i in range(9)]}
    graph = {
        "steps": [
            {"id": "each", "for_each": [1, 2, 3, 4, 5], "workflow": {"graph": inner}}
        ]
    }
    final = await run(engine, graph)
    assert final.status is ExecutionStatus.FAILED
    assert "at most 40" in (final.error_message or "")
