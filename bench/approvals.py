"""Approvals benchmark: N executions parked at an approval step, what they cost the
process, and how long approving all of them takes.

Each execution runs a no-op step, then parks at an ``approval_agent`` step
(``WAITING_APPROVAL``: no task, lease or worker slot), then, once approved, runs a
last no-op step. Measured in one process with the real runner, store and use case:

    python bench/approvals.py --n 1000 --persist sqlite
    DATABASE_URL=postgresql://... python bench/approvals.py --n 1000 --persist postgres

One JSON line: the process's RSS (MiB) and Python's allocated blocks after start-up,
with all N parked, and after all were approved; the runner's active executions while
they wait (0); the seconds to park all N and to approve all N (the decisions
``--concurrency`` at a time, each continuing its execution at once, until every
execution has SUCCEEDED).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import anyio
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_orchestrator.agents.approval import ApprovalAgent  # noqa: E402
from agent_orchestrator.agents.registry import AgentRegistry  # noqa: E402
from agent_orchestrator.core.auth import Principal  # noqa: E402
from agent_orchestrator.core.enums import Role  # noqa: E402
from agent_orchestrator.engine.bus import EventBus  # noqa: E402
from agent_orchestrator.engine.runner import Runner  # noqa: E402
from agent_orchestrator.engine.settings import EngineSettings  # noqa: E402
from agent_orchestrator.service.access import Access  # noqa: E402
from agent_orchestrator.service.approvals import Approvals  # noqa: E402
from agent_orchestrator.service.caller import Caller, Transport  # noqa: E402
from agent_orchestrator.service.starting import (  # noqa: E402
    ExecuteRequest,
    ExecutionStarter,
)
from agent_orchestrator.store.approvals import SqlApprovalStore  # noqa: E402
from agent_orchestrator.store.audit import AuditStore  # noqa: E402
from agent_orchestrator.store.database import Database, create_database  # noqa: E402
from agent_orchestrator.store.migrate import upgrade_async  # noqa: E402
from agent_orchestrator.store.runs import SqlRunStore  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import NoopAgent  # noqa: E402

if TYPE_CHECKING:
    from agent_orchestrator.core.protocols import Agent

GRAPH: dict[str, Any] = {
    "steps": [
        {"id": "prepare", "agent": "noop_agent"},
        {
            "id": "approve",
            "agent": "approval_agent",
            "inputs": {"title": "Hyväksy / approve"},
            "depends_on": ["prepare"],
        },
        {"id": "send", "agent": "noop_agent", "depends_on": ["approve"]},
    ]
}


def rss_mib() -> float:
    """The process's resident set size (Linux ``/proc/self/status``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def footprint() -> dict[str, float]:
    gc.collect()
    return {"rss_mib": rss_mib(), "py_blocks": sys.getallocatedblocks()}


async def count(db: Database, status: str) -> int:
    async with db.read() as conn:
        found = await conn.execute(
            text("select count(*) from agent_workflow_executions where status = :s"),
            {"s": status},
        )
        return int(found.scalar_one())


async def until(db: Database, status: str, n: int, timeout: float) -> None:
    with anyio.fail_after(timeout):
        while await count(db, status) < n:
            await anyio.sleep(0.05)


async def run(url: str, n: int, concurrency: int) -> dict[str, Any]:
    registry = AgentRegistry(
        [cast("Agent", NoopAgent()), cast("Agent", ApprovalAgent())]
    )
    settings = EngineSettings(max_concurrent_executions=100, lease_s=60)
    async with (
        create_database(url) as db,
        Runner(SqlRunStore(db), registry, EventBus(), settings) as runner,
    ):
        starter = ExecutionStarter(runner, registry, {})
        approvals = Approvals(
            Access(AuditStore(db)), SqlApprovalStore(db), runner, enabled=True
        )
        boss = Caller(Principal("bench", Role.ADMIN, "approver"), Transport.GRAPHQL)
        await count(db, "PENDING")  # connections open, statements warm
        started = footprint()

        begin = time.perf_counter()
        ids = []
        for _ in range(n):
            record, _ = await starter.execute(
                ExecuteRequest(tenant_id="bench", graph=GRAPH, actor="starter")
            )
            ids.append(record.id)
        await until(db, "WAITING_APPROVAL", n, 600)
        park_s = time.perf_counter() - begin
        parked = footprint()
        active_while_parked = len(runner.active)

        begin = time.perf_counter()
        limiter = anyio.Semaphore(concurrency)

        async def approve(execution_id: str) -> None:
            async with limiter:
                await approvals.decide(boss, execution_id, "approve", approve=True)

        async with anyio.create_task_group() as tg:
            for execution_id in ids:
                tg.start_soon(approve, execution_id)
        await until(db, "SUCCEEDED", n, 600)
        approve_s = time.perf_counter() - begin
        done = footprint()
    return {
        "n": n,
        "concurrency": concurrency,
        "started": started,
        "parked": parked,
        "approved": done,
        "parked_minus_started_mib": round(parked["rss_mib"] - started["rss_mib"], 1),
        "runner_active_while_parked": active_while_parked,
        "park_all_s": round(park_s, 2),
        "approve_all_s": round(approve_s, 2),
        "approve_per_execution_ms": round(approve_s / n * 1000, 2),
    }


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if args.persist == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        else:
            url = os.environ.get("DATABASE_URL", "")
            if not url.startswith("postgres"):
                raise SystemExit(
                    "set DATABASE_URL to a PostgreSQL database for --persist postgres"
                )
        await upgrade_async(url)
        result = await run(url, args.n, args.concurrency)
        print(json.dumps({"persist": args.persist, **result}), flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--persist", choices=["sqlite", "postgres"], default="sqlite")
    return parser.parse_args()


if __name__ == "__main__":
    anyio.run(main, parse_args())
