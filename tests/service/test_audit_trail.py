"""Each use case writes its audit entry once per action, whoever calls it (here the
CLI's caller, in-process); each refusal (a role too low, an id the tenant does not have)
leaves one ``denied`` entry with the reason."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from sqlalchemy import text

from agent_orchestrator.config import load_settings
from agent_orchestrator.core.auth import Principal
from agent_orchestrator.core.enums import ExecutionStatus, Role
from agent_orchestrator.core.errors import Forbidden, NotFound, PlanningFailed
from agent_orchestrator.service.caller import Caller, Transport
from agent_orchestrator.service.copilot import CopilotOptions
from agent_orchestrator.service.executions import StartExecution
from agent_orchestrator.wiring.admin import open_admin_services

from .conftest import audit_rows

if TYPE_CHECKING:
    from pathlib import Path

    from agent_orchestrator.service.container import Services

pytestmark = pytest.mark.anyio

ECHO = {"steps": [{"id": "a", "agent": "echo_agent", "inputs": {"value": 1}}]}
WAIT = {"steps": [{"id": "w", "agent": "wait_agent", "inputs": {"seconds": 30}}]}
OCTOBER = CopilotOptions(reference_date=dt.date(2026, 11, 24))
CLI = Caller.cli("acme")


def api_caller(role: Role, tenant: str = "acme", request_id: str = "r") -> Caller:
    key = f"key-{tenant}-{role.value.lower()}"
    return Caller(
        Principal(tenant, role, key), Transport.GRAPHQL, "10.1.2.3", request_id
    )


async def test_every_use_case_writes_one_entry_per_action(services: Services) -> None:
    saved = await services.saved_workflows.save(CLI, name="a", graph=ECHO)
    await services.saved_workflows.save(CLI, name="b", graph=ECHO, workflow_id=saved.id)
    from_saved, _ = await services.executions.start(
        CLI, StartExecution(workflow_id=saved.id)
    )
    with anyio.fail_after(30):
        done = await services.executions.wait_finished(CLI, from_saved.id)
    assert done.status is ExecutionStatus.SUCCEEDED
    waiting, _ = await services.executions.start(CLI, StartExecution(graph=WAIT))
    await services.executions.cancel(CLI, waiting.id)
    await services.saved_workflows.delete(CLI, saved.id)
    await services.copilot.plan(CLI, "Tee ALV-laskelma viime kuulta", OCTOBER)
    planned = (
        await services.copilot.execute(CLI, "Tee ALV-laskelma viime kuulta", OCTOBER)
    ).execution
    assert planned is not None
    key, _ = await services.api_keys.create(CLI, name="ci", role=Role.OPERATOR)
    await services.api_keys.revoke(CLI, key.id)
    stored = await services.files.store(
        CLI, filename="kuitti.txt", kind="text", source=io.BytesIO(b"Kuitti 12,40")
    )
    # Reads write nothing.
    await services.executions.get(CLI, waiting.id)
    await services.metrics.snapshot(CLI, 24)
    await services.audit.page(CLI)

    rows = await audit_rows(services)
    assert Counter((r["action"], r["resource_id"]) for r in rows) == Counter(
        {
            ("workflow.save", saved.id): 2,
            ("execution.start", from_saved.id): 1,
            ("execution.start", waiting.id): 1,
            ("execution.cancel", waiting.id): 1,
            ("workflow.delete", saved.id): 1,
            ("copilot.plan", None): 1,
            ("copilot.execute", planned.id): 1,
            ("api_key.create", key.id): 1,
            ("api_key.revoke", key.id): 1,
            ("file.upload", stored.name): 1,
        }
    )
    assert all(
        r["tenant_id"] == "acme"
        and r["user_id"] == "cli"
        and r["result"] == "success"
        and r["details"]["via"] == "cli"
        for r in rows
    ), rows


async def refusal(
    services: Services, request_id: str, call: Any, error: type[Exception]
) -> dict[str, Any]:
    """Run a refused call; its one audit row (by the caller's request id)."""
    with pytest.raises(error):
        await call
    rows = [r for r in await audit_rows(services) if r["request_id"] == request_id]
    assert len(rows) == 1, rows
    assert rows[0]["result"] == "denied" and rows[0]["details"]["reason"], rows
    return rows[0]


async def test_each_refusal_leaves_one_denied_entry(services: Services) -> None:
    admin = api_caller(Role.ADMIN)
    owned, _ = await services.executions.start(admin, StartExecution(graph=WAIT))

    viewer = api_caller(Role.VIEWER, request_id="forbidden")
    row = await refusal(
        services,
        "forbidden",
        services.executions.start(viewer, StartExecution(graph=ECHO)),
        Forbidden,
    )
    assert row["action"] == "execution.start" and row["tenant_id"] == "acme"
    assert "OPERATOR" in row["details"]["reason"]

    for action, call in (
        ("execution.cancel", services.executions.cancel),
        ("execution.read", services.executions.get),
    ):
        other = api_caller(Role.ADMIN, "globex", request_id=action)
        row = await refusal(services, action, call(other, owned.id), NotFound)
        assert (row["action"], row["resource_id"]) == (action, owned.id)
        assert row["tenant_id"] == "globex" and row["user_id"] == "key-globex-admin"
        assert row["ip_address"] == "10.1.2.3"

    row = await refusal(
        services,
        "key-for-other",
        services.api_keys.create(
            replace(admin, request_id="key-for-other"),
            name="k",
            role=Role.VIEWER,
            tenant_id="globex",
        ),
        NotFound,
    )
    assert row["action"] == "api_key.create" and row["tenant_id"] == "acme"

    operator = api_caller(Role.OPERATOR, request_id="poem")
    row = await refusal(
        services,
        "poem",
        services.copilot.execute(operator, "Kirjoita runo kissoista", OCTOBER),
        PlanningFailed,
    )
    assert row["action"] == "copilot.plan"

    row = await refusal(
        services,
        "widen",
        services.copilot.plan(
            replace(operator, request_id="widen"),
            "Tee ALV-laskelma viime kuulta",
            replace(OCTOBER, tenant_id="globex"),
        ),
        PlanningFailed,
    )
    assert row["action"] == "copilot.plan"

    # The running execution was never touched by the refused cancel.
    assert (await services.executions.get(admin, owned.id)).status in (
        ExecutionStatus.PENDING,
        ExecutionStatus.RUNNING,
    )
    await services.executions.cancel(admin, owned.id)


async def test_a_refused_upload_is_recorded_with_its_transport(
    services: Services,
) -> None:
    viewer = api_caller(Role.VIEWER, request_id="upload")
    row = await refusal(
        services,
        "upload",
        services.files.store(
            replace(viewer, via=Transport.REST),
            filename="a.txt",
            kind="text",
            source=io.BytesIO(b"x"),
        ),
        Forbidden,
    )
    assert row["action"] == "file.upload" and row["details"]["via"] == "rest"


async def test_the_cli_admin_commands_leave_the_same_entries(
    database_url: str, tmp_path: Path
) -> None:
    """``generate-api-key`` and ``revoke-api-key`` through the database-only
    services the CLI opens: one entry each, by ``cli``, in the key's tenant."""
    settings = load_settings(database_url=database_url, agent_files_dir=tmp_path)
    async with open_admin_services(settings) as admin:
        record, key = await admin.api_keys.create(
            Caller.cli("acme"), name="ci", role=Role.OPERATOR, expires_in_days=5
        )
        tenant = await admin.api_keys.tenant_of(record.id)
        revoked = await admin.api_keys.revoke(Caller.cli(tenant), record.id)
        snapshot = await admin.metrics.snapshot(Caller.cli("acme"), 24)
        async with admin.database.read() as conn:
            rows = (
                await conn.execute(
                    text(
                        "select tenant_id, action, user_id, resource_id, result "
                        "from agent_audit_logs"
                    )
                )
            ).all()
    assert revoked.revoked_at is not None and snapshot.total_executions == 0
    assert sorted(tuple(r) for r in rows) == [
        ("acme", "api_key.create", "cli", record.id, "success"),
        ("acme", "api_key.revoke", "cli", record.id, "success"),
    ]
    assert key not in str(rows)
