"""The use cases in-process, on a real database of each kind, with the audit trail read
back with SQL."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text

from agent_orchestrator.config import load_settings
from agent_orchestrator.wiring.services import open_services

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from agent_orchestrator.service.container import Services


@pytest.fixture
async def services(database_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    settings = load_settings(
        database_url=database_url,
        agent_plugins=["tests.support.agents"],
        agent_files_dir=tmp_path,
        agent_retry_initial_ms=20,
    )
    async with open_services(settings) as opened:
        yield opened


async def audit_rows(services: Services) -> list[dict[str, Any]]:
    """Every audit row of every tenant, oldest first."""
    async with services.database.read() as conn:
        rows = (
            (
                await conn.execute(
                    text(
                        "select tenant_id, action, user_id, resource_type, "
                        "resource_id, details, ip_address, result, request_id "
                        "from agent_audit_logs order by created_at, id"
                    )
                )
            )
            .mappings()
            .all()
        )
    # SQLite hands the JSON column back as text.
    return [
        {**r, "details": json.loads(d) if isinstance(d := r["details"], str) else d}
        for r in rows
    ]
