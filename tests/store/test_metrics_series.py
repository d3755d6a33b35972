"""The metrics series on SQLite and PostgreSQL: executions counted per interval by
status, nearest-rank p50/p95 per interval, the agents' outcomes and the queue now, from
rows written with known times, one tenant at a time."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import insert

from agent_orchestrator.core.ids import new_id
from agent_orchestrator.core.windows import ZONE, series_window
from agent_orchestrator.store.metrics import MetricsQueries
from agent_orchestrator.store.models import ExecutionRow, StepRunRow, table_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from agent_orchestrator.core.records import MetricsSeries
    from agent_orchestrator.store.database import Database

pytestmark = pytest.mark.anyio
executions = table_of(ExecutionRow)
steps = table_of(StepRunRow)
UTC = dt.UTC
NOW = dt.datetime(2026, 11, 24, 10, 30, 15, tzinfo=UTC)


async def add(
    database: Database,
    created_at: dt.datetime,
    status: str,
    duration_ms: int | None = None,
    *,
    tenant: str = "acme",
    step_runs: Sequence[tuple[str, str]] = (),
) -> str:
    """An execution as the engine leaves it, with its steps' (agent, status)."""
    execution_id = new_id()
    async with database.write() as conn:
        await conn.execute(
            insert(executions).values(
                id=execution_id,
                tenant_id=tenant,
                status=status,
                graph={},
                variables={},
                metadata={},
                created_at=created_at,
                duration_ms=duration_ms,
            )
        )
        for position, (agent, step_status) in enumerate(step_runs):
            await conn.execute(
                insert(steps).values(
                    execution_id=execution_id,
                    tenant_id=tenant,
                    step_id=f"s{position}",
                    agent_id=agent,
                    position=position,
                    status=step_status,
                )
            )
    return execution_id


def at(minute: int, second: int = 0, microsecond: int = 0) -> dt.datetime:
    """A time in the hour before `NOW` (10:minute:second UTC, or 09:... past 30)."""
    hour = 10 if minute <= 30 else 9
    return dt.datetime(2026, 11, 24, hour, minute, second, microsecond, tzinfo=UTC)


def counts(series: MetricsSeries) -> dict[int, dict[str, int]]:
    """The non-empty buckets' counts by index."""
    return {i: dict(b.by_status) for i, b in enumerate(series.buckets) if b.total}


async def test_executions_are_counted_per_minute_by_status(database: Database) -> None:
    await add(database, at(30, 5), "SUCCEEDED", 100)
    await add(database, at(30, 10), "SUCCEEDED", 300)
    await add(database, at(30, 1), "FAILED", 200)
    await add(database, at(30, 0), "CANCELLED", 50)
    await add(database, at(30, 14), "RUNNING")
    # The last microsecond of the minute before, and the first of the window.
    await add(database, at(29, 59, 999_999), "SUCCEEDED", 1000)
    await add(database, at(31), "PENDING")
    # Outside: a microsecond before the window, and another tenant's.
    await add(database, at(31) - dt.timedelta(microseconds=1), "SUCCEEDED", 7)
    await add(database, at(30, 5), "SUCCEEDED", 9, tenant="globex")

    series = await MetricsQueries(database).series("acme", series_window("1h"), NOW)

    assert series.window == "1h" and series.interval_s == 60
    assert series.since == at(31) and series.until == NOW
    assert len(series.buckets) == 60
    assert series.buckets[-1].start == at(30)
    assert counts(series) == {
        0: {"PENDING": 1},
        58: {"SUCCEEDED": 1},
        59: {"SUCCEEDED": 2, "FAILED": 1, "CANCELLED": 1, "RUNNING": 1},
    }
    last = series.buckets[-1]
    # Ended: 50, 100, 200, 300 -> nearest ranks 2 and 4.
    assert (last.p50_duration_ms, last.p95_duration_ms) == (100.0, 300.0)
    assert (series.buckets[58].p50_duration_ms, series.buckets[58].p95_duration_ms) == (
        1000.0,
        1000.0,
    )
    assert all(
        b.p50_duration_ms is None and b.p95_duration_ms is None
        for b in series.buckets[:58]
    )


async def test_percentiles_are_the_nearest_ranks_of_the_ended(
    database: Database,
) -> None:
    for ms in range(20, 0, -1):  # 20 ended executions, 1..20 ms, in any order
        await add(database, at(10, ms), "SUCCEEDED" if ms % 3 else "FAILED", ms)
    await add(database, at(10, 30), "RUNNING", 5_000)  # not ended: not counted
    for ms in (5, 7, 9):
        await add(database, at(11, ms), "CANCELLED", ms)

    series = await MetricsQueries(database).series("acme", series_window("1h"), NOW)

    ten, eleven = series.buckets[39], series.buckets[40]
    assert ten.start == at(10) and eleven.start == at(11)
    # ceil(0.5 * 20) = 10th and ceil(0.95 * 20) = 19th smallest.
    assert (ten.p50_duration_ms, ten.p95_duration_ms) == (10.0, 19.0)
    assert ten.by_status == {"SUCCEEDED": 14, "FAILED": 6, "RUNNING": 1}
    # ceil(1.5) = 2nd and ceil(2.85) = 3rd of three.
    assert (eleven.p50_duration_ms, eleven.p95_duration_ms) == (7.0, 9.0)


async def test_agents_outcomes_and_the_queue_now(database: Database) -> None:
    await add(
        database,
        at(20),
        "FAILED",
        10,
        step_runs=[
            ("ocr_agent", "SUCCEEDED"),
            ("receipt_parser_agent", "FAILED"),
            ("ledger_agent", "PENDING"),
            ("", "SUCCEEDED"),  # a for-each step runs no agent itself
        ],
    )
    await add(
        database,
        at(25),
        "SUCCEEDED",
        10,
        step_runs=[("ocr_agent", "SUCCEEDED"), ("receipt_parser_agent", "SUCCEEDED")],
    )
    await add(database, at(26), "WAITING_APPROVAL", step_runs=[("ocr_agent", "FAILED")])
    # Queued or parked long ago: in the queue now, in no bucket.
    old = dt.datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    await add(database, old, "PENDING", step_runs=[("ocr_agent", "SUCCEEDED")])
    await add(database, old, "WAITING_APPROVAL")
    await add(database, at(29), "PENDING")
    await add(database, at(29), "RUNNING")
    await add(database, at(29), "RUNNING", tenant="globex")
    await add(
        database, at(29), "SUCCEEDED", 1, tenant="globex", step_runs=[("x", "FAILED")]
    )

    series = await MetricsQueries(database).series("acme", series_window("1h"), NOW)

    assert [(a.agent_id, a.succeeded, a.failed) for a in series.agents] == [
        ("ocr_agent", 2, 1),
        ("receipt_parser_agent", 1, 1),
    ]
    assert (series.queued, series.running, series.waiting_approval) == (2, 1, 2)


async def test_a_tenant_without_executions_gets_empty_intervals(
    database: Database,
) -> None:
    await add(database, at(29), "SUCCEEDED", 5, tenant="globex")

    series = await MetricsQueries(database).series("acme", series_window("24h"), NOW)

    assert len(series.buckets) == 24
    assert [b.total for b in series.buckets] == [0] * 24
    assert series.agents == []
    assert (series.queued, series.running, series.waiting_approval) == (0, 0, 0)


async def test_days_follow_helsinki_midnight_across_the_clock_change(
    database: Database,
) -> None:
    now = dt.datetime(2026, 10, 26, 12, 0, tzinfo=UTC)
    # 2026-10-25 in Helsinki is 25 hours: 24.10. 21:00 UTC to 25.10. 22:00 UTC.
    for local in (
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=ZONE),  # 24.10. 21:30 UTC
        dt.datetime(2026, 10, 25, 23, 30, tzinfo=ZONE),  # 25.10. 21:30 UTC
        dt.datetime(2026, 10, 26, 0, 0, tzinfo=ZONE),  # the next day's first moment
        dt.datetime(2026, 10, 24, 23, 59, tzinfo=ZONE),  # the day before's last
    ):
        await add(database, local.astimezone(UTC), "SUCCEEDED", 60)

    series = await MetricsQueries(database).series("acme", series_window("30d"), now)

    by_day = {b.start.astimezone(ZONE).date(): b.total for b in series.buckets}
    assert {day: n for day, n in by_day.items() if n} == {
        dt.date(2026, 10, 24): 1,
        dt.date(2026, 10, 25): 2,
        dt.date(2026, 10, 26): 1,
    }
