"""Scale-out benchmark on PostgreSQL: one API process (workers off) and 1, 2 and 4
worker processes, beside one `serve` process doing both (the single-process figure).

    python bench/scale.py [--executions 1000] [--workers 1,2,4] [--fairness 20]

For each layout, `--executions` executions of a five-step graph are submitted through
GraphQL (32 at a time), and the script prints one JSON line: executions/s from the first
submit to the last end, p50/p95 from submit (the row's ``created_at``) to end and to
start (``started_at``: when a worker took it; under this load mostly time queued), the
most PostgreSQL connections the database had open, and the pick-up of `--pickups`
executions submitted one at a time to idle workers (submit to start: NOTIFY, claim,
first write). Then fairness: tenant A submits
`--executions` executions of slower steps, and while its queue is long tenant B submits
`--fairness` single executions one after another; the line gives how long B's waited
for a worker (p50/p95) next to A's.

Each layout gets a fresh database on ``$DATABASE_URL``'s server (default
postgresql://postgres@127.0.0.1:5432), dropped at the end. On a 2-core machine the
worker processes share two cores: more processes add parallel claims, not CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import ServerProcess  # noqa: E402
from tests.support.workers import WorkerProcess  # noqa: E402


def chain(seconds: float) -> dict[str, Any]:
    return {
        "steps": [
            {
                "id": f"s{i}",
                "agent": "wait_agent",
                "inputs": {"seconds": seconds},
                **({"depends_on": [f"s{i - 1}"]} if i else {}),
            }
            for i in range(5)
        ]
    }


SUBMIT = "mutation($i: ExecuteWorkflowInput!) { executeWorkflow(input: $i) { id } }"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_cli(url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "agent_orchestrator", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


class Database:
    """A fresh PostgreSQL database for one layout."""

    def __init__(self, server: str) -> None:
        self.server = server.rstrip("/")
        self.name = f"bench_scale_{uuid.uuid4().hex[:8]}"
        self.url = f"{self.server}/{self.name}"

    def plain(self, name: str | None = None) -> str:
        scheme, _, rest = f"{self.server}/{name or self.name}".partition("://")
        return f"postgresql://{rest}"

    async def __aenter__(self) -> Database:
        conn = await asyncpg.connect(self.plain("postgres"))
        try:
            await conn.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await conn.close()
        run_cli(self.url, "migrate")
        return self

    async def __aexit__(self, *exc: object) -> None:
        conn = await asyncpg.connect(self.plain("postgres"))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await conn.close()


async def submit(
    url: str, key: str, graph: dict[str, Any], count: int, concurrency: int = 32
) -> None:
    queue = list(range(count))

    async def one(client: httpx.AsyncClient) -> None:
        while queue:
            queue.pop()
            response = await client.post(
                url + "/graphql",
                json={"query": SUBMIT, "variables": {"i": {"graph": graph}}},
                headers={"X-API-Key": key},
            )
            body = response.json()
            if "errors" in body:
                raise RuntimeError(body["errors"])

    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(one(client) for _ in range(concurrency)))


async def watch(
    db: Database, expected: int, tenant: str | None = None
) -> tuple[list[asyncpg.Record], int]:
    """Wait until `expected` executions have ended; returns their rows and the most
    connections seen meanwhile."""
    conn = await asyncpg.connect(db.plain())
    most = 0
    where = "WHERE tenant_id = $1" if tenant else ""
    args = [tenant] if tenant else []
    try:
        while True:
            most = max(
                most,
                await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", db.name
                ),
            )
            done = await conn.fetchval(
                "SELECT count(*) FROM agent_workflow_executions "
                + (where + " AND" if where else "WHERE")
                + " completed_at IS NOT NULL",
                *args,
            )
            if done >= expected:
                break
            await asyncio.sleep(0.1)  # sampling the connection count
        rows = await conn.fetch(
            "SELECT tenant_id, status, created_at, started_at, completed_at "
            f"FROM agent_workflow_executions {where}",
            *args,
        )
    finally:
        await conn.close()
    return rows, most


def figures(rows: list[asyncpg.Record]) -> dict[str, Any]:
    first = min(r["created_at"] for r in rows)
    last = max(r["completed_at"] for r in rows)
    total = [(r["completed_at"] - r["created_at"]).total_seconds() for r in rows]
    pickup = [(r["started_at"] - r["created_at"]).total_seconds() for r in rows]
    return {
        "executions": len(rows),
        "succeeded": sum(r["status"] == "SUCCEEDED" for r in rows),
        "executions_per_s": round(len(rows) / (last - first).total_seconds(), 1),
        "p50_ms": round(percentile(total, 0.5) * 1000, 1),
        "p95_ms": round(percentile(total, 0.95) * 1000, 1),
        "pickup_p50_ms": round(percentile(pickup, 0.5) * 1000, 1),
        "pickup_p95_ms": round(percentile(pickup, 0.95) * 1000, 1),
    }


class Layout:
    """API process(es) and workers on one database."""

    def __init__(self, db: Database, tmp: Path, workers: int, **env: str) -> None:
        self.db = db
        base = {
            "DATABASE_URL": db.url,
            "AGENT_RATE_LIMIT": "10000000/minute",
            "AGENT_FILES_DIR": str(tmp),
            "LOG_LEVEL": "WARNING",
            **env,
        }
        single = workers == 0
        self.api = ServerProcess(
            {**base, "AGENT_WORKER_ENABLED": "true" if single else "false"},
            tmp / f"api-{db.name}.log",
        )
        self.workers = [
            WorkerProcess({**base, "LOG_LEVEL": "INFO"}, tmp / f"w{i}-{db.name}.log")
            for i in range(workers)
        ]

    def __enter__(self) -> Layout:
        self.api.start()
        for worker in self.workers:
            worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for worker in self.workers:
            worker.stop()
        self.api.stop()


async def throughput(args: argparse.Namespace, server: str, workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with Database(server) as db:
            key = run_cli(db.url, "generate-api-key", "bench", "operator")
            with Layout(db, Path(tmp), workers) as layout:
                await submit(layout.api.url, key, chain(0), args.executions)
                rows, connections = await watch(db, args.executions)
                # Pick-up by an idle worker: one execution at a time.
                for _ in range(args.pickups):
                    await submit(layout.api.url, key, chain(0), 1, concurrency=1)
                    await asyncio.sleep(0.05)  # the pace of single submissions
                alone, _ = await watch(db, args.executions + args.pickups)
    alone = sorted(alone, key=lambda r: r["created_at"])[-args.pickups :]
    idle = [(r["started_at"] - r["created_at"]).total_seconds() for r in alone]
    print(
        json.dumps(
            {
                "target": "throughput",
                "layout": "serve (one process)"
                if workers == 0
                else f"api + {workers} worker(s)",
                **figures(rows),
                "max_connections": connections,
                "idle_pickup_p50_ms": round(percentile(idle, 0.5) * 1000, 1),
                "idle_pickup_p95_ms": round(percentile(idle, 0.95) * 1000, 1),
            }
        ),
        flush=True,
    )


async def fairness(args: argparse.Namespace, server: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with Database(server) as db:
            a = run_cli(db.url, "generate-api-key", "a", "operator", "--tenant", "a")
            b = run_cli(db.url, "generate-api-key", "b", "operator", "--tenant", "b")
            # Room for 40 at once: A's queue stays long for several seconds.
            with Layout(
                db, Path(tmp), 2, AGENT_MAX_CONCURRENT_EXECUTIONS="20"
            ) as layout:
                await submit(layout.api.url, a, chain(0.05), args.executions)
                for _ in range(args.fairness):
                    await submit(layout.api.url, b, chain(0.05), 1, concurrency=1)
                    await asyncio.sleep(0.1)  # B's executions one after another
                rows_b, _ = await watch(db, args.fairness, "b")
                rows_a, _ = await watch(db, args.executions, "a")
    wait_b = [(r["started_at"] - r["created_at"]).total_seconds() for r in rows_b]
    wait_a = [(r["started_at"] - r["created_at"]).total_seconds() for r in rows_a]
    print(
        json.dumps(
            {
                "target": "fairness",
                "a_executions": len(rows_a),
                "b_executions": len(rows_b),
                "b_wait_p50_ms": round(percentile(wait_b, 0.5) * 1000, 1),
                "b_wait_p95_ms": round(percentile(wait_b, 0.95) * 1000, 1),
                "a_wait_p50_ms": round(statistics.median(wait_a) * 1000, 1),
                "a_wait_max_ms": round(max(wait_a) * 1000, 1),
            }
        ),
        flush=True,
    )


async def main(args: argparse.Namespace) -> None:
    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432")
    if not server.startswith("postgres"):
        raise SystemExit("bench/scale.py needs PostgreSQL: set DATABASE_URL")
    server = server.rsplit("/", 1)[0] if server.count("/") > 2 else server
    started = time.monotonic()
    for workers in [0, *args.workers]:
        await throughput(args, server, workers)
    if args.fairness:
        await fairness(args, server)
    print(json.dumps({"seconds": round(time.monotonic() - started, 1)}))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument(
        "--workers",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[1, 2, 4],
    )
    parser.add_argument("--fairness", type=int, default=20)
    parser.add_argument("--pickups", type=int, default=40)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
