"""Engine benchmark: the real engine and store on no-op steps, next to a floor.

Every state change is persisted as in production. The floor, measured in the same
process on the same database driver, is a bare AnyIO runner that does one INSERT when a
step starts and one UPDATE when it ends. Our time also holds what the floor has no
counterpart for: validating the graph, storing the execution with its steps, and
loading the final record.

    python bench/engine.py --shape chain --n 1000 --persist postgres --repeat 3 \
        --warmup 1

``--trace`` turns traces on (`observability.spans`): each execution and step attempt
makes its span, batched as for OTLP and then dropped, so the figures show what spans
cost; without it traces are off, as without ``OTEL_EXPORTER_OTLP_ENDPOINT``.

``--shape foreach`` compares two runs of our engine instead: a for-each over N
elements, each a one-step sub-workflow (``each[i]`` and ``each[i].s``, at most 100 at
a time), against the plain fan-out of N steps; ``ratio`` is the for-each's time per
element over the fan-out's time per step.

One JSON line per timed run:
``{"peer", "shape", "n", "persist", "total_s", "per_step_us", "steps"}``
(``per_step_us`` = total time / steps run; fan-out runs N parallel steps plus a start
and a join), then one line per peer with the range of its runs and the ratio of its
median to the floor's: ``{"peer", "summary": {"min_us", "median_us", "max_us",
"ratio"}}``.
PostgreSQL comes from ``$DATABASE_URL``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import anyio
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_orchestrator.agents.base import BaseAgent  # noqa: E402
from agent_orchestrator.agents.registry import AgentRegistry  # noqa: E402
from agent_orchestrator.core.heap import freeze_startup_heap  # noqa: E402
from agent_orchestrator.core.protocols import (  # noqa: E402
    Agent,
    AgentContext,
    LocalizedText,
    RunStore,
)
from agent_orchestrator.engine.bus import EventBus  # noqa: E402
from agent_orchestrator.engine.runner import Runner  # noqa: E402
from agent_orchestrator.engine.settings import EngineSettings  # noqa: E402
from agent_orchestrator.service.starting import ExecuteRequest, ExecutionStarter  # noqa: E402
from agent_orchestrator.store.database import create_database, normalise_url  # noqa: E402
from agent_orchestrator.store.memory import MemoryRunStore  # noqa: E402
from agent_orchestrator.store.migrate import upgrade_async  # noqa: E402
from agent_orchestrator.store.runs import SqlRunStore  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Sequence

    from agent_orchestrator.observability.spans import Tracing


class NoInput(BaseModel):
    pass


class NoOutput(BaseModel):
    pass


class NoopAgent(BaseAgent[NoInput, NoOutput]):
    id = "noop_agent"
    name = "No-op"
    description = LocalizedText(fi="Ei tee mitään.", en="Does nothing.")
    input_model = NoInput
    output_model = NoOutput

    async def run(self, inputs: NoInput, ctx: AgentContext) -> NoOutput:
        return NoOutput()


def make_graph(shape: str, n: int) -> dict[str, Any]:
    if shape == "foreach":
        element = {"steps": [{"id": "s", "agent": "noop_agent"}]}
        return {
            "steps": [
                {
                    "id": "each",
                    "for_each": list(range(n)),
                    "max_concurrency": 100,
                    "workflow": {"graph": element},
                }
            ]
        }
    if shape == "chain":
        steps = [
            {
                "id": f"s{i}",
                "agent": "noop_agent",
                **({"depends_on": [f"s{i - 1}"]} if i else {}),
            }
            for i in range(n)
        ]
    else:
        middle = [f"p{i}" for i in range(n)]
        steps = [
            {"id": "start", "agent": "noop_agent"},
            *(
                {"id": m, "agent": "noop_agent", "depends_on": ["start"]}
                for m in middle
            ),
            {"id": "join", "agent": "noop_agent", "depends_on": middle},
        ]
    return {"steps": steps}


def steps_run(shape: str, n: int) -> int:
    return n if shape == "chain" else n + 2


# --- our engine ----------------------------------------------------------------------


def discarding_tracing() -> Tracing:
    """Traces on, with spans batched as for OTLP and then dropped."""
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    from agent_orchestrator.observability.spans import Tracing

    class Discard(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Discard()))
    return Tracing(provider)


async def engine_once(
    store: RunStore, shape: str, n: int, tracing: Tracing | None = None
) -> float:
    # BaseAgent declares the protocol's attributes as class variables, which mypy
    # does not take for the protocol's instance attributes.
    registry = AgentRegistry([cast("Agent", NoopAgent())])
    settings = EngineSettings(
        max_concurrent_executions=10, lease_s=60, max_foreach_items=max(n, 1)
    )
    graph = make_graph(shape, n)
    async with Runner(store, registry, EventBus(), settings, tracer=tracing) as runner:
        # Graphs larger than AGENT_MAX_STEPS' default are what this measures.
        service = ExecutionStarter(
            runner, registry, {}, max_steps=steps_run(shape, n), tracing=tracing
        )
        start = time.perf_counter()
        record, _ = await service.execute(
            ExecuteRequest(tenant_id="bench", graph=graph)
        )
        final = await runner.wait_finished(record.id)
        elapsed = time.perf_counter() - start
    assert final.status.value == "SUCCEEDED", final.error_message
    return elapsed


# --- the floor ------------------------------------------------------------------------

FLOOR_TABLE = "bench_floor_steps"


async def floor_once_postgres(url: str, shape: str, n: int) -> float:
    import asyncpg

    dsn = (
        normalise_url(url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10)
    try:
        async with pool.acquire() as conn:
            await conn.execute(
                f"create table if not exists {FLOOR_TABLE} (id bigserial primary key, "
                "run text, step text, status text, started timestamptz, "
                "ended timestamptz)"
            )
        run = os.urandom(8).hex()

        async def step(name: str) -> None:
            async with pool.acquire() as conn:
                row_id = await conn.fetchval(
                    f"insert into {FLOOR_TABLE} (run, step, status, started) "
                    "values ($1, $2, 'RUNNING', now()) returning id",
                    run,
                    name,
                )
                await conn.execute(
                    f"update {FLOOR_TABLE} set status = 'SUCCEEDED', ended = now() "
                    "where id = $1",
                    row_id,
                )

        return await floor_run(step, shape, n)
    finally:
        await pool.close()


async def floor_once_sqlite(path: str, shape: str, n: int) -> float:
    import aiosqlite

    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await conn.execute("pragma journal_mode=wal")
        await conn.execute("pragma synchronous=normal")
        await conn.execute(
            f"create table if not exists {FLOOR_TABLE} (id integer primary key, "
            "run text, step text, status text, started text, ended text)"
        )
        run = os.urandom(8).hex()

        async def step(name: str) -> None:
            cursor = await conn.execute(
                f"insert into {FLOOR_TABLE} (run, step, status, started) "
                "values (?, ?, 'RUNNING', datetime('now'))",
                (run, name),
            )
            row_id = cursor.lastrowid
            await conn.execute(
                f"update {FLOOR_TABLE} set status = 'SUCCEEDED', "
                "ended = datetime('now') where id = ?",
                (row_id,),
            )

        return await floor_run(step, shape, n)


async def floor_once_memory(shape: str, n: int) -> float:
    rows: dict[int, dict[str, str]] = {}

    async def step(name: str) -> None:
        rows[len(rows)] = {"step": name, "status": "RUNNING"}
        await anyio.lowlevel.checkpoint()
        rows[len(rows) - 1]["status"] = "SUCCEEDED"

    return await floor_run(step, shape, n)


async def floor_run(
    step: Callable[[str], Coroutine[Any, Any, None]], shape: str, n: int
) -> float:
    start = time.perf_counter()
    if shape == "chain":
        for i in range(n):
            await step(f"s{i}")
    else:
        await step("start")
        async with anyio.create_task_group() as tg:
            for i in range(n):
                tg.start_soon(step, f"p{i}")
        await step("join")
    return time.perf_counter() - start


# --- main -------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if args.persist == "sqlite":
            db_path = str(Path(tmp) / "bench.sqlite")
            url = f"sqlite:///{db_path}"
            await upgrade_async(url)
        elif args.persist == "postgres":
            url = os.environ.get("DATABASE_URL", "")
            if not url.startswith("postgres"):
                raise SystemExit(
                    "set DATABASE_URL to a PostgreSQL database for --persist postgres"
                )
            await upgrade_async(url)
        else:
            url = ""

        tracing = discarding_tracing() if args.trace else None

        async def ours() -> float:
            if not url:
                return await engine_once(MemoryRunStore(), args.shape, args.n, tracing)
            async with create_database(url) as db:
                return await engine_once(SqlRunStore(db), args.shape, args.n, tracing)

        async def floor() -> float:
            if args.persist == "sqlite":
                return await floor_once_sqlite(db_path, args.shape, args.n)
            if args.persist == "postgres":
                return await floor_once_postgres(url, args.shape, args.n)
            return await floor_once_memory(args.shape, args.n)

        async def fanout() -> float:
            if not url:
                return await engine_once(MemoryRunStore(), "fanout", args.n)
            async with create_database(url) as db:
                return await engine_once(SqlRunStore(db), "fanout", args.n)

        count = steps_run(args.shape, args.n)
        peers = (("floor", floor), ("agent_orchestrator", ours))
        if args.shape == "foreach":
            # Per element against per step of the plain fan-out (the "floor" here).
            count = args.n
            peers = (("floor", fanout), ("agent_orchestrator", ours))
        # Every process of the product freezes its start-up heap once it has started
        # (`core.heap`); both peers run after that here, as they would there.
        freeze_startup_heap()
        per_step: dict[str, list[float]] = {}
        for peer, measure in peers:
            for _ in range(args.warmup):
                await measure()
            for _ in range(args.repeat):
                total = await measure()
                per_step.setdefault(peer, []).append(total / count * 1e6)
                print(
                    json.dumps(
                        {
                            "peer": peer,
                            "shape": args.shape,
                            "n": args.n,
                            "persist": args.persist,
                            "total_s": round(total, 4),
                            "per_step_us": round(total / count * 1e6, 1),
                            "steps": count,
                        }
                    ),
                    flush=True,
                )
        floor_median = statistics.median(per_step["floor"])
        for peer, figures in per_step.items():
            median = statistics.median(figures)
            summary = {
                "min_us": round(min(figures), 1),
                "median_us": round(median, 1),
                "max_us": round(max(figures), 1),
                "ratio": round(median / floor_median, 2),
            }
            print(json.dumps({"peer": peer, "summary": summary}), flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shape", choices=["chain", "fanout", "foreach"], default="chain"
    )
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument(
        "--persist", choices=["none", "sqlite", "postgres"], default="sqlite"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument(
        "--trace",
        action="store_true",
        help="traces on (spans made and batched, then dropped)",
    )
    return parser.parse_args()


if __name__ == "__main__":
    anyio.run(main, parse_args())
