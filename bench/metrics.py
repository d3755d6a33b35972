"""Metrics benchmark: the dashboard's queries over one tenant's many executions, with
each way of indexing the executions by tenant and creation time, in one run.

A fresh database (SQLite in a temporary folder, or a new PostgreSQL database dropped at
the end) is migrated and filled with `--n` executions of the tenant spread over the last
30 days (statuses and durations as a busy month has them, two steps each) and a tenth
as many of another tenant. Then, for each index variant, the index on (tenant_id,
created_at) is replaced by the variant's, the database's statistics are refreshed, and
the queries the dashboard makes are timed (median of `--repeat`, after one warm-up):
`metrics(hoursBack)` for 24 h and 30 d, and `series(window)` for every window.

    python bench/metrics.py --n 100000 --persist sqlite
    python bench/metrics.py --n 100000 --persist postgres   # DATABASE_URL: the server

One JSON line per variant and query, then a table with each variant's time against
the first variant's (the index as migrated).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import asyncpg
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_orchestrator.core.windows import SERIES_WINDOWS  # noqa: E402
from agent_orchestrator.store.database import create_database  # noqa: E402
from agent_orchestrator.store.metrics import (  # noqa: E402
    MetricsQueries,
    executions,
    steps,
)
from agent_orchestrator.store.migrate import upgrade_async  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import Database as FreshPostgres  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from agent_orchestrator.store.database import Database

TENANT = "bench"
INDEX = "ix_agent_workflow_executions_tenant_created"
#: The index variants: the columns of the index on the tenant's executions by time.
VARIANTS = {
    "migrated": None,
    "tenant_created": ("tenant_id", "created_at"),
    "covering": ("tenant_id", "created_at", "status", "duration_ms"),
}
STATUSES = (
    ["SUCCEEDED"] * 85 + ["FAILED"] * 9 + ["CANCELLED"] * 3 + ["RUNNING", "PENDING"]
)
AGENTS = ("receipt_ocr", "categorizer", "vat_calculator", "report_writer", "notify")
CHUNK = 2_000


def rows(
    n: int, tenant: str, now: dt.datetime, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`n` executions of `tenant` over the last 30 days, with two steps each."""
    made, made_steps = [], []
    for _ in range(n):
        created = now - dt.timedelta(seconds=rng.uniform(0, 30 * 86_400))
        status = rng.choice(STATUSES)
        final = status in ("SUCCEEDED", "FAILED", "CANCELLED")
        duration = int(rng.lognormvariate(7, 1)) if final else None
        execution_id = str(uuid.UUID(int=rng.getrandbits(128)))
        made.append(
            {
                "id": execution_id,
                "tenant_id": tenant,
                "template_id": "receipt_processing",
                "status": status,
                "graph": {},
                "variables": {},
                "created_at": created,
                "started_at": created,
                "completed_at": created + dt.timedelta(milliseconds=duration or 0)
                if final
                else None,
                "duration_ms": duration,
                "cancel_requested": False,
                "metadata": {},
            }
        )
        for position, agent in enumerate(rng.sample(AGENTS, 2)):
            made_steps.append(
                {
                    "execution_id": execution_id,
                    "tenant_id": tenant,
                    "step_id": f"s{position}",
                    "agent_id": agent,
                    "position": position,
                    # An ended execution's steps ended as it did; an open one's wait.
                    "status": status if final else "PENDING",
                    "attempts": 1,
                }
            )
    return made, made_steps


async def fill(db: Database, n: int, seed: int) -> None:
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    for tenant, count in ((TENANT, n), ("other", n // 10)):
        for start in range(0, count, CHUNK):
            made, made_steps = rows(min(CHUNK, count - start), tenant, now, rng)
            async with db.write() as conn:
                await conn.execute(insert(executions), made)
                await conn.execute(insert(steps), made_steps)


async def use_index(db: Database, columns: tuple[str, ...]) -> None:
    """Replace the executions' (tenant_id, created_at) index by one on `columns`."""
    async with db.write() as conn:
        await conn.execute(text(f"DROP INDEX IF EXISTS {INDEX}"))
        await conn.execute(
            text(
                f"CREATE INDEX {INDEX} ON agent_workflow_executions "
                f"({', '.join(columns)})"
            )
        )


async def settle(db: Database, url: str) -> None:
    """Refresh the planner's statistics; on PostgreSQL also the visibility map, as
    autovacuum keeps it on a live database (index-only scans depend on it)."""
    if not url.startswith("postgres"):
        async with db.write() as conn:
            await conn.execute(text("ANALYZE"))
        return
    rest = url.partition("://")[2]
    conn = await asyncpg.connect(f"postgresql://{rest}")
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def timed(call: Callable[[], Awaitable[Any]], repeat: int) -> float:
    await call()  # warm: statements prepared, pages cached
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        await call()
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1000


async def measure(url: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    await upgrade_async(url)
    figures: dict[str, dict[str, float]] = {}
    async with create_database(url) as db:
        begin = time.perf_counter()
        await fill(db, args.n, args.seed)
        filled_s = time.perf_counter() - begin
        queries = MetricsQueries(db)
        calls: dict[str, Callable[[], Awaitable[Any]]] = {
            f"metrics {hours} h": functools.partial(queries.snapshot, TENANT, hours)
            for hours in (24, 720)
        }
        calls |= {
            f"series {name}": functools.partial(queries.series, TENANT, window)
            for name, window in SERIES_WINDOWS.items()
        }
        for variant, columns in VARIANTS.items():
            if columns is not None:
                await use_index(db, columns)
            await settle(db, url)
            figures[variant] = {}
            for name, call in calls.items():
                ms = await timed(call, args.repeat)
                figures[variant][name] = ms
                line = {
                    "persist": args.persist,
                    "n": args.n,
                    "filled_s": round(filled_s, 1),
                    "variant": variant,
                    "query": name,
                    "median_ms": round(ms, 2),
                }
                print(json.dumps(line), flush=True)
    return figures


def table(figures: dict[str, dict[str, float]]) -> None:
    variants = list(figures)
    base = variants[0]
    print(f"\n{'query':<14}" + "".join(f"{v:>22}" for v in variants))
    for name in figures[base]:
        cells = []
        for variant in variants:
            ms = figures[variant][name]
            ratio = ms / figures[base][name] if figures[base][name] else 0
            cells.append(f"{ms:>11.1f} ms {ratio:>5.2f}x")
        print(f"{name:<14}" + "".join(f"{c:>22}" for c in cells))


async def main(args: argparse.Namespace) -> None:
    if args.persist == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            figures = await measure(f"sqlite:///{Path(tmp) / 'bench.sqlite'}", args)
    else:
        server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432")
        if not server.startswith("postgres"):
            raise SystemExit("--persist postgres needs DATABASE_URL of a PostgreSQL")
        server = server.rsplit("/", 1)[0] if server.count("/") > 2 else server
        async with FreshPostgres(server) as fresh:
            figures = await measure(fresh.url, args)
    table(figures)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--persist", choices=["sqlite", "postgres"], default="sqlite")
    return parser.parse_args()


if __name__ == "__main__":
    anyio.run(main, parse_args())
