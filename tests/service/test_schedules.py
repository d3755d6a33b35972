"""Schedules in-process on SQLite and PostgreSQL, with an injected clock: creation is
validated like executeWorkflow (cron, zone, graph, variables, period references), each
slot fires once however many schedulers look, only the latest missed slot fires after
downtime, a paused schedule fires nothing, the DST nights of Europe/Helsinki fire a
daily slot once, period variables resolve in the schedule's zone at fire time, and a
graph that no longer validates fails its slot with an audit entry and keeps the
others."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import anyio
import pytest
from sqlalchemy import text

from agent_orchestrator.config import load_settings
from agent_orchestrator.core.auth import Principal
from agent_orchestrator.core.enums import Role
from agent_orchestrator.core.errors import Forbidden, NotFound, ValidationFailed
from agent_orchestrator.service.caller import Caller, Transport
from agent_orchestrator.service.container import Services
from agent_orchestrator.service.schedules import NewSchedule, Schedules
from agent_orchestrator.service.scheduling import Scheduler
from agent_orchestrator.store.schedules import ScheduleStore
from agent_orchestrator.store.workflows import WorkflowStore
from agent_orchestrator.wiring.services import open_services

from .conftest import audit_rows

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

pytestmark = pytest.mark.anyio
UTC = dt.UTC
HELSINKI = ZoneInfo("Europe/Helsinki")
ECHO = {"steps": [{"id": "echo", "agent": "echo_agent", "inputs": {"text": "hei"}}]}


@dataclass
class ManualClock:
    """Time that moves only when the test says so."""

    at: dt.datetime

    def now(self) -> dt.datetime:
        return self.at

    def seconds_until(self, moment: dt.datetime) -> float:
        return 0.0 if moment <= self.at else math.inf


@dataclass
class Rig:
    services: Services
    clock: ManualClock
    schedules: Schedules
    scheduler: Scheduler

    def other_scheduler(self) -> Scheduler:
        """Another process's scheduler over the same database."""
        return Scheduler(
            ScheduleStore(self.services.database),
            self.services.starter,
            WorkflowStore(self.services.database),
            clock=self.clock,
        )


def caller(role: Role = Role.OPERATOR, tenant: str = "acme") -> Caller:
    return Caller(
        Principal(tenant, role, key_id=f"key-{role.value}"), Transport.GRAPHQL
    )


@pytest.fixture
async def open_rig(database_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    """Opens services (without their own scheduler: resume=False) and a scheduler
    and schedule use cases on a manual clock."""

    async def opener(at: dt.datetime, *, plugins: bool = True) -> AsyncIterator[Rig]:
        settings = load_settings(
            database_url=database_url,
            agent_plugins=["tests.support.agents"] if plugins else [],
            agent_files_dir=tmp_path,
        )
        async with open_services(settings, resume=False) as services:
            assert services.scheduler is None
            clock = ManualClock(at)
            store = ScheduleStore(services.database)
            saved = WorkflowStore(services.database)
            scheduler = Scheduler(store, services.starter, saved, clock=clock)
            schedules = Schedules(
                services.access, store, services.starter, saved, clock, scheduler
            )
            yield Rig(services, clock, schedules, scheduler)

    from contextlib import asynccontextmanager

    yield asynccontextmanager(opener)


async def executions(services: Services) -> list[dict[str, Any]]:
    async with services.database.read() as conn:
        rows = (
            (
                await conn.execute(
                    text(
                        "select id, idempotency_key, variables, created_by, "
                        "tenant_id, metadata from agent_workflow_executions "
                        "order by idempotency_key"
                    )
                )
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def slot_of(key: str) -> dt.datetime:
    return dt.datetime.fromisoformat(key.split(":", 2)[2])


async def test_creation_is_validated_like_execute_workflow(open_rig: Any) -> None:
    async with open_rig(dt.datetime(2026, 11, 30, 10, tzinfo=UTC)) as rig:
        with pytest.raises(ValidationFailed) as bad:
            await rig.schedules.create(
                caller(),
                NewSchedule(
                    name="x",
                    cron="0 25 * * *",
                    timezone="Europe/Helsingfors",
                    graph={"steps": [{"id": "a", "agent": "no_such_agent"}]},
                    variables={"when": "${period.last_decade.start}"},
                ),
            )
        paths = {p.path for p in bad.value.problems}
        assert {"input.cron", "input.timezone", "input.variables.when"} <= paths
        # The graph and its variables go through the executeWorkflow validator.
        with pytest.raises(ValidationFailed) as bad_graph:
            await rig.schedules.create(
                caller(),
                NewSchedule(
                    name="x",
                    cron="0 8 1 * *",
                    graph={"steps": [{"id": "a", "agent": "no_such_agent"}]},
                ),
            )
        assert any("no_such_agent" in p.message for p in bad_graph.value.problems)
        with pytest.raises(ValidationFailed) as bad_vars:
            await rig.schedules.create(
                caller(),
                NewSchedule(
                    name="alv",
                    cron="0 8 1 * *",
                    template_id="vat_report",
                    variables={"period_start": "${period.previous_month.start}"},
                ),
            )
        assert any("period_end" in p.path for p in bad_vars.value.problems)
        with pytest.raises(NotFound):
            await rig.schedules.create(
                caller(), NewSchedule(name="x", cron="0 8 1 * *", template_id="nope")
            )
        assert await rig.schedules.list(caller()) == []
        failed = [
            r
            for r in await audit_rows(rig.services)
            if r["action"] == "schedule.create"
        ]
        assert [r["result"] for r in failed] == ["failed"] * 3 + ["denied"]


async def test_rights_and_tenants(open_rig: Any) -> None:
    async with open_rig(dt.datetime(2026, 11, 30, 10, tzinfo=UTC)) as rig:
        request = NewSchedule(name="kaiku", cron="0 8 * * *", graph=ECHO)
        with pytest.raises(Forbidden):
            await rig.schedules.create(caller(Role.VIEWER), request)
        made = await rig.schedules.create(caller(), request)
        assert made.timezone == "Europe/Helsinki"
        # 08:00 in Helsinki on 1 December is 06:00 UTC.
        assert made.next_run_at == dt.datetime(2026, 12, 1, 6, tzinfo=UTC)
        assert [s.id for s in await rig.schedules.list(caller(Role.VIEWER))] == [
            made.id
        ]
        with pytest.raises(Forbidden):
            await rig.schedules.pause(caller(Role.VIEWER), made.id)
        other = caller(Role.ADMIN, tenant="globex")
        assert await rig.schedules.list(other) == []
        for use in (
            rig.schedules.get,
            rig.schedules.pause,
            rig.schedules.resume,
            rig.schedules.delete,
        ):
            with pytest.raises(NotFound):
                await use(other, made.id)
        await rig.schedules.delete(caller(), made.id)
        assert await rig.schedules.list(caller()) == []
        actions = [
            (r["action"], r["result"], r["tenant_id"])
            for r in await audit_rows(rig.services)
            if r["action"].startswith("schedule.")
        ]
        assert ("schedule.create", "success", "acme") in actions
        assert ("schedule.delete", "success", "acme") in actions
        assert ("schedule.delete", "denied", "globex") in actions
        assert ("schedule.create", "denied", "acme") in actions


async def test_each_slot_fires_once_however_many_schedulers(open_rig: Any) -> None:
    async with open_rig(dt.datetime(2026, 11, 30, 10, tzinfo=UTC)) as rig:
        made = await rig.schedules.create(
            caller(), NewSchedule(name="kaiku", cron="0 8 * * *", graph=ECHO)
        )
        assert await rig.scheduler.fire_due() == 0
        rig.clock.at = dt.datetime(2026, 12, 1, 6, 0, 5, tzinfo=UTC)
        other = rig.other_scheduler()
        stale = await rig.schedules.get(caller(), made.id)
        # Two processes that both saw the slot due: one moves it on, the other's
        # fire finds the same execution (idempotency key) and moves nothing.
        assert await rig.scheduler.fire(stale, rig.clock.at) is True
        assert await other.fire(stale, rig.clock.at) is False
        assert await other.fire_due() == 0
        assert await rig.scheduler.fire_due() == 0
        rows = await executions(rig.services)
        assert [r["idempotency_key"] for r in rows] == [
            f"schedule:{made.id}:2026-12-01T06:00:00+00:00"
        ]
        assert rows[0]["created_by"] == "key-OPERATOR"
        after = await rig.schedules.get(caller(), made.id)
        assert after.last_run_at == dt.datetime(2026, 12, 1, 6, tzinfo=UTC)
        assert after.next_run_at == dt.datetime(2026, 12, 2, 6, tzinfo=UTC)
        assert after.last_execution_id == rows[0]["id"]
        final = await rig.services.runner.wait_finished(rows[0]["id"])
        assert final.status.value == "SUCCEEDED"
        fired = [
            r for r in await audit_rows(rig.services) if r["action"] == "schedule.fire"
        ]
        assert len(fired) == 1 and fired[0]["resource_id"] == rows[0]["id"]


async def test_loop_waits_for_the_next_slot_and_wakes(open_rig: Any) -> None:
    async with open_rig(dt.datetime(2026, 11, 30, 10, tzinfo=UTC)) as rig:
        async with anyio.create_task_group() as tg:
            await tg.start(rig.scheduler.run)
            made = await rig.schedules.create(
                caller(), NewSchedule(name="kaiku", cron="*/5 * * * *", graph=ECHO)
            )
            rounds = rig.scheduler.statistics().rounds
            for minutes in (5, 10, 15):
                rig.clock.at = dt.datetime(2026, 11, 30, 10, minutes, tzinfo=UTC)
                rig.scheduler.wake()
                with anyio.fail_after(20):
                    while rig.scheduler.statistics().fired < minutes // 5:
                        await anyio.sleep(0.01)
            # Without a due slot the loop waits (the manual clock never comes):
            # a few rounds, not a spin.
            assert rig.scheduler.statistics().rounds - rounds <= 8
            tg.cancel_scope.cancel()
        keys = [r["idempotency_key"] for r in await executions(rig.services)]
        assert [slot_of(k).minute for k in keys] == [5, 10, 15]
        assert all(k.startswith(f"schedule:{made.id}:") for k in keys)


async def test_after_downtime_only_the_latest_missed_slot_fires(open_rig: Any) -> None:
    async with open_rig(dt.datetime(2026, 11, 30, 10, tzinfo=UTC)) as rig:
        made = await rig.schedules.create(
            caller(), NewSchedule(name="tunneittain", cron="0 * * * *", graph=ECHO)
        )
        # Down from 10:00 to 19:30: slots 11:00 ... 19:00 were missed.
        rig.clock.at = dt.datetime(2026, 11, 30, 19, 30, tzinfo=UTC)
        assert await rig.scheduler.fire_due() == 1
        keys = [r["idempotency_key"] for r in await executions(rig.services)]
        assert [slot_of(k) for k in keys] == [dt.datetime(2026, 11, 30, 19, tzinfo=UTC)]
        after = await rig.schedules.get(caller(), made.id)
        assert after.next_run_at == dt.datetime(2026, 11, 30, 20, tzinfo=UTC)


async def test_paused_fires_nothing_and_resume_skips_what_was_missed(
    open_rig: Any,
) -> None:
    async with open_rig(dt.datetime(2026, 11, 30, 10, tzinfo=UTC)) as rig:
        made = await rig.schedules.create(
            caller(), NewSchedule(name="tunneittain", cron="0 * * * *", graph=ECHO)
        )
        paused = await rig.schedules.pause(caller(), made.id)
        assert not paused.enabled and paused.next_run_at is None
        rig.clock.at = dt.datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
        assert await rig.scheduler.fire_due() == 0
        # A scheduler holding the record from before the pause moves nothing.
        assert await rig.other_scheduler().fire(made, rig.clock.at) is False
        resumed = await rig.schedules.resume(caller(), made.id)
        assert resumed.enabled
        assert resumed.next_run_at == dt.datetime(2026, 11, 30, 16, tzinfo=UTC)
        assert await rig.scheduler.fire_due() == 0
        # The racing fire above may have started the 15:00 slot's execution under
        # its key, but the schedule was not moved: only that one, no others.
        keys = [r["idempotency_key"] for r in await executions(rig.services)]
        assert len(keys) <= 1
        rig.clock.at = dt.datetime(2026, 11, 30, 16, 0, 1, tzinfo=UTC)
        assert await rig.scheduler.fire_due() == 1
        actions = [
            r["action"]
            for r in await audit_rows(rig.services)
            if r["action"] in ("schedule.pause", "schedule.resume")
        ]
        assert actions == ["schedule.pause", "schedule.resume"]


async def fires_per_local_day(
    rig: Rig, cron: str, timezone: str, start: dt.datetime, days: int
) -> dict[dt.date, list[dt.datetime]]:
    """Walk the clock in 10-minute steps for `days` days from `start`, firing what
    is due, and group the fired slots by local date."""
    rig.clock.at = start
    made = await rig.schedules.create(
        caller(), NewSchedule(name=cron, cron=cron, timezone=timezone, graph=ECHO)
    )
    zone = ZoneInfo(timezone)
    while rig.clock.at < start + dt.timedelta(days=days):
        rig.clock.at += dt.timedelta(minutes=10)
        await rig.scheduler.fire_due()
    fired: dict[dt.date, list[dt.datetime]] = {}
    for row in await executions(rig.services):
        if row["idempotency_key"].startswith(f"schedule:{made.id}:"):
            slot = slot_of(row["idempotency_key"]).astimezone(zone)
            fired.setdefault(slot.date(), []).append(slot)
    return fired


@pytest.mark.parametrize(
    ("cron", "timezone"),
    [
        # The 02:30; in Helsinki the hour skipped in spring and repeated in
        # autumn is 03:00-04:00, so 03:30 is the slot DST actually moves there;
        # 02:30 is Central Europe's skipped and repeated time.
        ("30 2 * * *", "Europe/Helsinki"),
        ("30 3 * * *", "Europe/Helsinki"),
        ("30 2 * * *", "Europe/Berlin"),
    ],
)
async def test_dst_days_fire_once(open_rig: Any, cron: str, timezone: str) -> None:
    async with open_rig(dt.datetime(2026, 3, 27, 12, tzinfo=UTC)) as rig:
        spring = await fires_per_local_day(
            rig, cron, timezone, dt.datetime(2026, 3, 27, 12, tzinfo=UTC), 3
        )
        assert sorted(spring) == [
            dt.date(2026, 3, 28),
            dt.date(2026, 3, 29),
            dt.date(2026, 3, 30),
        ]
        assert all(len(slots) == 1 for slots in spring.values()), spring
        # The spring-forward day: a skipped local time runs right after the change.
        changed = spring[dt.date(2026, 3, 29)][0]
        hour = int(cron.split()[1])
        assert changed.hour in (hour, hour + 1)
        autumn = await fires_per_local_day(
            rig, cron, timezone, dt.datetime(2026, 10, 23, 12, tzinfo=UTC), 3
        )
        assert sorted(autumn) == [
            dt.date(2026, 10, 24),
            dt.date(2026, 10, 25),
            dt.date(2026, 10, 26),
        ]
        assert all(len(slots) == 1 for slots in autumn.values()), autumn
        assert all(
            s.hour == hour and s.minute == 30
            for slots in autumn.values()
            for s in slots
        )


async def test_period_variables_resolve_at_fire_time_in_the_zone(
    open_rig: Any,
) -> None:
    async with open_rig(dt.datetime(2026, 11, 30, 10, tzinfo=UTC)) as rig:
        made = await rig.schedules.create(
            caller(),
            NewSchedule(
                name="alv kuukausittain",
                # 00:30 on the 1st in Helsinki: still the previous day in UTC.
                cron="30 0 1 * *",
                template_id="vat_report",
                variables={
                    "period_start": "${period.previous_month.start}",
                    "period_end": "${period.previous_month.end}",
                },
            ),
        )
        assert made.variables["period_start"] == "${period.previous_month.start}"
        rig.clock.at = dt.datetime(2026, 12, 31, 22, 31, tzinfo=UTC)
        assert await rig.scheduler.fire_due() == 1
        (row,) = await executions(rig.services)
        variables = row["variables"]
        if isinstance(variables, str):
            import json

            variables = json.loads(variables)
        # The slot is 1 January 2027 in Helsinki: the previous month is December.
        assert variables["period_start"] == "2026-12-01"
        assert variables["period_end"] == "2026-12-31"


async def test_graph_that_no_longer_validates_fails_its_slot_and_keeps_the_others(
    open_rig: Any,
) -> None:
    start = dt.datetime(2026, 11, 30, 10, tzinfo=UTC)
    async with open_rig(start) as rig:
        made = await rig.schedules.create(
            caller(), NewSchedule(name="kaiku", cron="0 * * * *", graph=ECHO)
        )
    # The agent is gone (its plugin no longer loaded) when the slots come.
    async with open_rig(start, plugins=False) as rig:
        for hour in (11, 12):
            rig.clock.at = dt.datetime(2026, 11, 30, hour, 0, 1, tzinfo=UTC)
            assert await rig.scheduler.fire_due() == 1
            after = await rig.schedules.get(caller(), made.id)
            assert after.enabled
            assert after.next_run_at == dt.datetime(2026, 11, 30, hour + 1, tzinfo=UTC)
            assert after.last_error is not None and "echo_agent" in after.last_error
        assert rig.scheduler.statistics().failed == 2
        assert await executions(rig.services) == []
        failed = [
            r for r in await audit_rows(rig.services) if r["action"] == "schedule.fire"
        ]
        assert [(r["result"], r["resource_id"]) for r in failed] == [
            ("failed", made.id),
            ("failed", made.id),
        ]
        assert any(
            "echo_agent" in p["message"] for p in failed[0]["details"]["problems"]
        )
    # Back with the agent, the next slot runs.
    async with open_rig(dt.datetime(2026, 11, 30, 13, 0, 1, tzinfo=UTC)) as rig:
        assert await rig.scheduler.fire_due() == 1
        after = await rig.schedules.get(caller(), made.id)
        assert after.last_error is None and after.last_execution_id is not None


async def test_a_request_cannot_take_a_schedules_slot_key(open_rig: Any) -> None:
    from agent_orchestrator.service.executions import StartExecution

    async with open_rig(dt.datetime(2026, 11, 30, 10, tzinfo=UTC)) as rig:
        made = await rig.schedules.create(
            caller(), NewSchedule(name="kaiku", cron="0 8 * * *", graph=ECHO)
        )
        key = f"schedule:{made.id}:2026-12-01T06:00:00+00:00"
        with pytest.raises(ValidationFailed) as refused:
            await rig.services.executions.start(
                caller(), StartExecution(graph=ECHO, idempotency_key=key)
            )
        assert [p.path for p in refused.value.problems] == ["idempotencyKey"]
        rig.clock.at = dt.datetime(2026, 12, 1, 6, 0, 1, tzinfo=UTC)
        assert await rig.scheduler.fire_due() == 1
        assert [r["idempotency_key"] for r in await executions(rig.services)] == [key]


async def test_a_monthly_copilot_command_fires_each_month_for_its_own_month(
    open_rig: Any,
) -> None:
    from agent_orchestrator.service.copilot import Copilot, CopilotOptions

    async with open_rig(dt.datetime(2026, 11, 24, 10, tzinfo=UTC)) as rig:
        services = rig.services
        copilot = Copilot(
            services.access,
            services.copilot.planner,
            services.starter,
            schedules=rig.schedules,
        )
        command = (
            "Joka kuun ensimmäisenä päivänä klo 8 tee ALV-laskelma edelliseltä "
            "kuukaudelta"
        )
        outcome = await copilot.execute(
            caller(), command, CopilotOptions(reference_date=dt.date(2026, 11, 24))
        )
        assert outcome.execution is None and outcome.schedule is not None
        assert outcome.schedule.command == command
        assert outcome.schedule.cron == "0 8 1 * *"
        # 08:00 in Helsinki on 1 December is 06:00 UTC; 1 January, 06:00 UTC too.
        assert outcome.schedule.next_run_at == dt.datetime(2026, 12, 1, 6, tzinfo=UTC)
        assert await rig.scheduler.fire_due() == 0
        rig.clock.at = dt.datetime(2026, 12, 1, 6, 0, 5, tzinfo=UTC)
        assert await rig.scheduler.fire_due() == 1
        rig.clock.at = dt.datetime(2027, 1, 1, 6, 0, 5, tzinfo=UTC)
        assert await rig.scheduler.fire_due() == 1
        rows = await executions(services)
        values = [_json(r["variables"]) for r in rows]
        periods = sorted((v["period_start"], v["period_end"]) for v in values)
        assert periods == [
            ("2026-11-01", "2026-11-30"),
            ("2026-12-01", "2026-12-31"),
        ]
        # Each execution it fires says which command made it, and what the plan was.
        for row in rows:
            metadata = _json(row["metadata"])
            assert metadata["source"] == "schedule"
            assert metadata["schedule_id"] == outcome.schedule.id
            assert metadata["copilot"]["command"] == command
            assert metadata["copilot"]["explanation"] == outcome.plan.explanation
        stored = await rig.schedules.get(caller(), outcome.schedule.id)
        assert stored.command == command
        made = [
            r for r in await audit_rows(services) if r["action"] == "copilot.execute"
        ]
        details = _json(made[0]["details"]) if made else {}
        assert len(made) == 1 and details["schedule"] == "0 8 1 * *"
        assert len(details["graph_sha256"]) == 64


def _json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value
