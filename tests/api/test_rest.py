"""The deployment guide's REST endpoints, as its curl examples use them."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest

if TYPE_CHECKING:
    from .conftest import Api

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
BASE = "/api/v1/agent-orchestrator"


def http(api: Api, who: str = "operator") -> httpx.AsyncClient:
    headers = {"X-API-Key": api.keys[who]} if who else {}
    return httpx.AsyncClient(base_url=api.url, headers=headers, timeout=30)


async def test_health(api: Api) -> None:
    async with http(api, "") as client:
        body = (await client.get("/health")).json()
    assert body["status"] == "ok" and body["database"]["ok"] and body["version"]


async def test_agents(api: Api) -> None:
    async with http(api, "viewer") as client:
        agents = (await client.get(f"{BASE}/agents")).json()["agents"]
        assert "wait_agent" in {a["id"] for a in agents}
        one = await client.get(f"{BASE}/agents/wait_agent")
        assert one.status_code == 200 and one.json()["input_schema"]["required"] == [
            "seconds"
        ]
        health = await client.get(f"{BASE}/agents/wait_agent/health")
        assert health.json() == {
            "agent_id": "wait_agent",
            "healthy": True,
            "detail": "ready",
            "checks": {},
        }
        assert (await client.get(f"{BASE}/agents/nope")).status_code == 404


async def test_execute_status_result(api: Api) -> None:
    async with http(api) as client:
        # The templates ship with the bookkeeping agents; an unknown one is a 404.
        missing = await client.post(
            f"{BASE}/workflows/execute", json={"template_id": "nope"}
        )
        assert (
            missing.status_code == 404
            and "templates" in missing.json()["error"]["message"]
        )
        bad = await client.post(
            f"{BASE}/workflows/execute", json={"initial_variables": [], "x": 1}
        )
        assert bad.status_code == 422
        assert {p["path"] for p in bad.json()["error"]["problems"]} == {
            "template_id",
            "initial_variables",
            "x",
        }
        broken = await client.post(f"{BASE}/workflows/execute", content=b"{not json")
        assert broken.status_code == 422
        unknown = await client.get(
            f"{BASE}/workflows/00000000-0000-0000-0000-000000000000/status"
        )
        assert unknown.status_code == 404


async def test_execute_a_template_over_rest(api: Api) -> None:
    async with http(api, "admin") as client:
        templates = (
            await client.post(
                "/graphql", json={"query": "{ templates { id variables } }"}
            )
        ).json()
    runnable = [t for t in templates["data"]["templates"] if t["id"] == "vat_report"]
    if not runnable:
        pytest.fail("the vat_report template is not shipped")
    async with http(api) as client:
        started = await client.post(
            f"{BASE}/workflows/execute",
            json={
                "template_id": "vat_report",
                "initial_variables": {
                    "period_start": "2026-10-01",
                    "period_end": "2026-10-31",
                },
            },
        )
        assert started.status_code == 202, started.text
        execution_id = started.json()["execution_id"]
        deadline = time.monotonic() + 30
        while True:
            status = (
                await client.get(f"{BASE}/workflows/{execution_id}/status")
            ).json()
            if status["status"] in ("SUCCEEDED", "FAILED"):
                break
            assert time.monotonic() < deadline
            await anyio.sleep(0.1)
        result = (await client.get(f"{BASE}/workflows/{execution_id}/result")).json()
    assert status["status"] == "SUCCEEDED", status
    assert result["finished"] and result["result"]


async def test_metrics(api: Api) -> None:
    async with http(api, "viewer") as client:
        body = (await client.get(f"{BASE}/metrics", params={"hours_back": 24})).json()
        assert {"total_executions", "success_rate", "avg_duration_ms", "agents"} <= set(
            body
        )
        assert isinstance(body["agents"], dict)
        assert (
            await client.get(f"{BASE}/metrics", params={"hours_back": "x"})
        ).status_code == 422


async def test_keys_and_roles_on_rest(api: Api) -> None:
    async with http(api, "") as client:
        assert (await client.get(f"{BASE}/agents")).status_code == 401
    async with http(api, "viewer") as client:
        denied = await client.post(
            f"{BASE}/workflows/execute", json={"template_id": "vat_report"}
        )
        assert (
            denied.status_code == 403 and denied.json()["error"]["code"] == "FORBIDDEN"
        )


async def test_prometheus_exposition(api: Api) -> None:
    """Every tenant's counts together: an admin's (AGENT_METRICS_PUBLIC is false)."""
    async with http(api, "") as client:
        assert (await client.get("/metrics")).status_code == 401
    async with http(api, "viewer") as client:
        refused = await client.get("/metrics")
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "FORBIDDEN"
    async with http(api, "admin") as client:
        text = (await client.get("/metrics")).text
    assert (
        "agent_orchestrator_queue_depth" in text
        and "agent_orchestrator_subscribers" in text
    )
    assert "agent_orchestrator_step_duration_seconds" in text
