"""Sentry hears of an execution once, when it ends FAILED, from the process that ran
it: tagged with the tenant, template, step, agent and execution, its attempts as
breadcrumbs, and no event for each failed attempt. A real server process sends to a
stand-in Sentry on loopback."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest

from tests.api.conftest import make_keys
from tests.support.gql import follow_to_end
from tests.support.sentry import FakeSentry
from tests.support.server import ServerProcess

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SECRET = "sk-test-0123456789abcdefghij"
FAILING = {
    "steps": [
        {"id": "ok", "agent": "echo_agent", "inputs": {"text": "alku"}},
        {
            "id": "read",
            "agent": "flaky_agent",
            "depends_on": ["ok"],
            "inputs": {
                "fail_times": 9,
                "unexpected": True,
                "message": f"could not reach the bank with {SECRET}",
            },
            "retry": {"max_retries": 2, "initial_delay_ms": 10, "backoff": 1.0},
        },
    ]
}
RECOVERS = {
    "steps": [
        {
            "id": "once",
            "agent": "flaky_agent",
            "inputs": {"fail_times": 1},
            "retry": {"max_retries": 2, "initial_delay_ms": 10},
        }
    ]
}


def events_of(envelopes: list[str]) -> list[dict[str, Any]]:
    """The error events in the envelopes (one JSON item per line after headers)."""
    found = []
    for envelope in envelopes:
        lines = envelope.splitlines()
        for header, item in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                found.append(json.loads(item))
    return found


async def run_to_end(
    http: httpx.AsyncClient, url: str, key: str, graph: dict[str, Any]
) -> str:
    started = (
        await http.post(
            "/graphql",
            json={
                "query": "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) "
                "{ id } }",
                "variables": {"g": graph},
            },
        )
    ).json()
    assert not started.get("errors"), started
    execution_id: str = started["data"]["executeWorkflow"]["id"]
    await follow_to_end(url, key, execution_id)
    return execution_id


async def test_one_event_per_failed_execution_with_its_attempts(
    database_url: str, tmp_path: Path
) -> None:
    specs = {"ops": ("operator", "acme")}
    key = (await anyio.to_thread.run_sync(make_keys, database_url, specs))["ops"]
    with FakeSentry() as sentry:
        env = {
            "DATABASE_URL": database_url,
            "AGENT_FILES_DIR": str(tmp_path),
            "SENTRY_DSN": sentry.dsn,
            "OPENAI_API_KEY": SECRET,
        }
        with ServerProcess(env, tmp_path / "server.log") as server:
            async with httpx.AsyncClient(
                base_url=server.url, headers={"X-API-Key": key}, timeout=60
            ) as http:
                recovered = await run_to_end(http, server.url, key, RECOVERS)
                failed = await run_to_end(http, server.url, key, FAILING)
                # Sent after the execution's end is stored. The second failure's
                # report comes after anything the first would (wrongly) send later.
                await anyio.to_thread.run_sync(sentry.wait_for, failed, 60)
                second = await run_to_end(http, server.url, key, FAILING)
                await anyio.to_thread.run_sync(sentry.wait_for, second, 60)
            log = server.log()
    events = events_of(sentry.envelopes)
    about = [e for e in events if e.get("tags", {}).get("execution_id") == failed]
    assert len(about) == 1, [e.get("message") for e in events]
    [event] = about
    assert event["tags"] == {
        "tenant_id": "acme",
        "execution_id": failed,
        "template_id": "graph",
        "step_id": "read",
        "agent_id": "flaky_agent",
    }
    assert event["level"] == "error"
    message = event["message"] if isinstance(event["message"], str) else ""
    message = message or event.get("logentry", {}).get("message", "")
    assert "step 'read' (flaky_agent)" in message
    crumbs = [b for b in event["breadcrumbs"]["values"] if b.get("category") == "step"]
    read = [b for b in crumbs if b["data"]["step_id"] == "read"]
    assert [b["data"]["attempt"] for b in read if "STEP_STARTED" in b["message"]] == [
        1,
        2,
        3,
    ]
    assert sum("STEP_RETRYING" in b["message"] for b in read) == 2
    assert read[-1]["level"] == "error" and "STEP_FAILED" in read[-1]["message"]
    assert event["contexts"]["execution"]["attempts"] == 3
    # Only failed executions, one each: nothing for the recovered one, nothing per
    # failed attempt (the agent's own "failed unexpectedly" log lines), and the two
    # failed executions group together.
    assert not [e for e in events if recovered in json.dumps(e)]
    assert len(events) == 2, [e.get("message") or e.get("logentry") for e in events]
    assert events[0]["fingerprint"] == events[1]["fingerprint"]
    assert "failed unexpectedly" in log
    # No secret in anything sent.
    assert not [e for e in sentry.envelopes if SECRET in e]
