"""Amplification limits through the wired use cases, on SQLite and PostgreSQL: the
upload quota a day per tenant (counted from the stored uploads) and the steps a graph
may have (``AGENT_MAX_STEPS``)."""

from __future__ import annotations

import io
import os
import re
import time
from typing import TYPE_CHECKING

import pytest

from agent_orchestrator.config import load_settings
from agent_orchestrator.core.errors import QuotaExceeded, ValidationFailed
from agent_orchestrator.service.caller import Caller
from agent_orchestrator.service.executions import StartExecution
from agent_orchestrator.service.files import Files
from agent_orchestrator.wiring.services import open_services

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from agent_orchestrator.service.container import Services

pytestmark = pytest.mark.anyio
ACME = Caller.cli("acme")
GLOBEX = Caller.cli("globex")


@pytest.fixture
async def services(database_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    settings = load_settings(
        database_url=database_url,
        agent_plugins=["tests.support.agents"],
        agent_files_dir=tmp_path,
        agent_upload_quota_bytes_per_day=1000,
        agent_max_steps=5,
    )
    async with open_services(settings) as opened:
        yield opened


async def upload(services: Services, caller: Caller, size: int) -> str:
    stored = await services.files.store(
        caller, filename="k.txt", kind="text", source=io.BytesIO(b"k" * size)
    )
    return stored.name


def uploads(tmp_path: Path, tenant: str) -> list[str]:
    return sorted(p.name for p in (tmp_path / tenant / "uploads").iterdir())


async def test_uploads_over_the_daily_quota_are_refused_and_nothing_is_written(
    services: Services, tmp_path: Path
) -> None:
    first = await upload(services, ACME, 600)
    await upload(services, ACME, 400)  # exactly the quota
    before = uploads(tmp_path, "acme")
    with pytest.raises(QuotaExceeded) as refused:
        await upload(services, ACME, 1)
    assert str(refused.value).startswith(
        "this upload of 1 bytes would take your uploads over the quota of 1000 bytes "
        "in 24 hours (1000 bytes uploaded in the last 24 hours, 0 left)"
    )
    assert "AGENT_UPLOAD_QUOTA_BYTES_PER_DAY" in str(refused.value)
    assert uploads(tmp_path, "acme") == before
    # Another tenant has its own quota.
    await upload(services, GLOBEX, 1000)
    # Uploads older than 24 hours no longer count; the count is read from the files,
    # so a second use case on the same directory (another process) sees the same.
    day_ago = time.time() - 24 * 60 * 60 - 1
    os.utime(tmp_path / "acme" / first, (day_ago, day_ago))
    other_process = Files(services.access, tmp_path, quota_bytes_per_day=1000)
    await other_process.store(
        ACME, filename="k.txt", kind="text", source=io.BytesIO(b"k" * 600)
    )
    with pytest.raises(QuotaExceeded):
        await upload(services, ACME, 1)


async def test_the_step_limit_setting_reaches_every_way_in(services: Services) -> None:
    graph = {
        "steps": [
            {"id": f"s{i}", "agent": "echo_agent", "inputs": {}} for i in range(6)
        ]
    }
    message = "the graph has 6 steps; at most 5 are allowed (AGENT_MAX_STEPS)"
    with pytest.raises(ValidationFailed, match=re.escape(message)):
        await services.executions.start(ACME, StartExecution(graph=graph))
    with pytest.raises(ValidationFailed, match=re.escape(message)):
        await services.saved_workflows.save(ACME, name="iso", graph=graph)
