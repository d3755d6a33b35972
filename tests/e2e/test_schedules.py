"""Schedules in real server processes on PostgreSQL, on a shared test clock
(``AGENT_TEST_CLOCK``: it runs 12 times faster, so a cron slot a minute comes every
5 real seconds): two processes fire each slot exactly once between them, and a
schedule whose graph no longer validates (its agent gone) fails each slot with an
audit entry and a Sentry event and keeps its next slots."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from sqlalchemy import text

from agent_orchestrator.config import load_settings
from agent_orchestrator.core.clocks import ScaledClock
from agent_orchestrator.service.caller import Caller
from agent_orchestrator.service.schedules import NewSchedule, Schedules
from agent_orchestrator.store.database import create_database
from agent_orchestrator.store.schedules import ScheduleStore
from agent_orchestrator.store.workflows import WorkflowStore
from agent_orchestrator.wiring.services import open_services
from tests.api.conftest import make_keys
from tests.support.gql import GraphQLClient
from tests.support.sentry import FakeSentry
from tests.support.server import ServerProcess

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator
    from pathlib import Path

    from tests.support.databases import DatabaseFactory

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
SPEED = 12
ECHO = {"steps": [{"id": "echo", "agent": "echo_agent", "inputs": {"text": "hei"}}]}
CREATE = """mutation($input: CreateScheduleInput!) {
  createSchedule(input: $input) { id cron timezone enabled nextRunAt } }"""


@pytest.fixture
def postgres_url(database_factory: DatabaseFactory) -> Iterator[str]:
    url = database_factory.postgres()
    try:
        yield url
    finally:
        database_factory.drop(url)


@pytest.fixture
def operator_key(postgres_url: str) -> str:
    return make_keys(postgres_url, {"operator": ("operator", "acme")})["operator"]


def shared_clock(origin: str) -> str:
    """The clock every process of a test shares: `origin` now, SPEED times faster."""
    return f"{origin},{time.time()},{SPEED}"


async def wait_for(
    predicate: Callable[[], Awaitable[bool]], timeout: float, what: str
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await anyio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def rows(database_url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with create_database(database_url) as db, db.read() as conn:
        found = (await conn.execute(text(sql), params)).mappings().all()
    return [dict(r) for r in found]


def server_env(database_url: str, tmp_path: Path, clock: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "AGENT_FILES_DIR": str(tmp_path / "files"),
        "AGENT_TEST_CLOCK": clock,
        "AGENT_LEASE_SECONDS": "5",
        # Schedules made by the other process are seen within a second.
        "AGENT_SCHEDULE_RESCAN_S": "1",
    }


async def test_two_processes_fire_each_slot_once(
    postgres_url: str, operator_key: str, tmp_path: Path
) -> None:
    clock = shared_clock("2026-12-01T05:50:00+00:00")
    env = server_env(postgres_url, tmp_path, clock)
    with (
        ServerProcess(env, tmp_path / "a.log") as first,
        ServerProcess(env, tmp_path / "b.log") as second,
    ):
        client = GraphQLClient(first.url, operator_key)
        made = (
            await client.data(
                CREATE,
                {
                    "input": {
                        "name": "joka minuutti",
                        "cron": "* * * * *",
                        "graph": ECHO,
                    }
                },
            )
        )["createSchedule"]
        prefix = f"schedule:{made['id']}:%"

        async def enough() -> bool:
            found = await rows(
                postgres_url,
                "select count(*) as n from agent_workflow_executions "
                "where idempotency_key like :p",
                p=prefix,
            )
            return int(found[0]["n"]) >= 8

        await wait_for(enough, 120, "eight slots to fire")
    executions = await rows(
        postgres_url,
        "select idempotency_key, status from agent_workflow_executions "
        "where idempotency_key like :p order by idempotency_key",
        p=prefix,
    )
    slots = [
        dt.datetime.fromisoformat(r["idempotency_key"].split(":", 2)[2])
        for r in executions
    ]
    # One execution a slot (the key is unique), every minute, none skipped while
    # both processes ran.
    assert len(set(slots)) == len(slots)
    assert all(
        b - a == dt.timedelta(minutes=1) for a, b in zip(slots, slots[1:], strict=False)
    ), slots
    audits = await rows(
        postgres_url,
        "select details from agent_audit_logs where action = 'schedule.fire'",
    )
    assert len(audits) == len(slots)
    # Each slot was moved on by exactly one of the two processes.
    pattern = re.compile(rf"schedule {made['id']} fired slot (\S+):")
    moved = {
        name: pattern.findall(server.log())
        for name, server in (("a", first), ("b", second))
    }
    fired = moved["a"] + moved["b"]
    assert len(fired) == len(set(fired)), moved
    assert {dt.datetime.fromisoformat(s) for s in fired} >= set(slots[:-1])
    by_a, by_b = len(moved["a"]), len(moved["b"])
    print(f"slots fired: {len(slots)}; by process a {by_a}, b {by_b}")


async def test_graph_no_longer_valid_fails_each_slot_with_audit_and_sentry(
    postgres_url: str, tmp_path: Path
) -> None:
    clock = shared_clock("2026-12-01T05:50:00+00:00")
    # Made while the agent exists (its plugin loaded), on the same clock.
    settings = load_settings(
        database_url=postgres_url,
        agent_plugins=["tests.support.agents"],
        agent_files_dir=tmp_path,
    )
    async with open_services(settings, resume=False) as services:
        store = ScheduleStore(services.database)
        schedules = Schedules(
            services.access,
            store,
            services.starter,
            WorkflowStore(services.database),
            ScaledClock.parse(clock),
        )
        made = await schedules.create(
            Caller.cli("acme"),
            NewSchedule(name="kaiku", cron="* * * * *", graph=ECHO),
        )
    with FakeSentry() as sentry:
        env = {
            **server_env(postgres_url, tmp_path, clock),
            # The agent is gone.
            "AGENT_PLUGINS": "",
            "SENTRY_DSN": sentry.dsn,
        }
        with ServerProcess(env, tmp_path / "server.log") as server:

            async def failed_twice() -> bool:
                found = await rows(
                    postgres_url,
                    "select count(*) as n from agent_audit_logs "
                    "where action = 'schedule.fire' and result = 'failed'",
                )
                return int(found[0]["n"]) >= 2

            await wait_for(failed_twice, 120, "two slots to fail")

            async def reported() -> bool:
                return any("could not fire" in e for e in sentry.envelopes)

            await wait_for(reported, 30, "the Sentry event")
            log = server.log()
    audits = await rows(
        postgres_url,
        "select resource_id, details, result from agent_audit_logs "
        "where action = 'schedule.fire' order by created_at",
    )
    assert {a["resource_id"] for a in audits} == {made.id}
    details = audits[0]["details"]
    details = json.loads(details) if isinstance(details, str) else details
    assert any("echo_agent" in p["message"] for p in details["problems"])
    slots = {
        (json.loads(d) if isinstance(d := a["details"], str) else d)["slot"]
        for a in audits
    }
    assert len(slots) == len(audits)
    (schedule,) = await rows(
        postgres_url,
        "select enabled, next_run_at, last_error from agent_schedules where id = :id",
        id=made.id,
    )
    assert schedule["enabled"] and "echo_agent" in schedule["last_error"]
    event = next(e for e in sentry.envelopes if "could not fire" in e)
    assert made.id in event
    assert "could not fire slot" in log
    assert (await rows(postgres_url, "select id from agent_workflow_executions")) == []
