"""API benchmark: the real server process against two floors measured in the same run
with the same client: a bare Starlette JSON route, and a bare Strawberry app (the
same `{agents{id}}` answer, with the ParserCache and ValidationCache our schema uses),
so that the ratio to it is the cost of our own request path (key check, rate limit,
audit gate, limits, error masking).

    python bench/api.py [--requests 1000] [--concurrency 50] [--rounds 10]
                        [--subscribers 500] [--only requests,execution,subscribers]

Prints one JSON line per measurement: ``{"target", "requests", "concurrency", "rps",
"p50_ms", "p99_ms", ...}``. `{agents{id}}` is measured in `--rounds` short rounds, each
measuring the three servers one after the other (on a shared machine, neighbours in
time meet about the same load), and the summary line gives the median requests/s of
each, ``ratio_to_strawberry`` (the goal is at least 0.75), and each server's CPU time
per request with ``cpu_ratio_to_strawberry``, which load elsewhere disturbs less. The
subscription fan-out line is ``{"target": "subscribers", "subscribers", "events",
"delivered_all", "p50_ms", "p99_ms"}``: the latency of an event is its arrival time at
the client minus the time it was stored, over the events stored after every client was
following. The database is a fresh SQLite file unless ``$DATABASE_URL`` names
PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import ServerProcess, free_port  # noqa: E402

FLOOR_APP = textwrap.dedent(
    """
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def agents(request):
        await request.body()
        return JSONResponse({"data": {"agents": [{"id": "wait_agent"}]}})

    app = Starlette(routes=[Route("/graphql", agents, methods=["POST"])])
    """
)
# The same answer as our `{agents{id}}` (the ids are filled in), through Strawberry's
# own ASGI view, with the document caches our schema has and nothing else.
STRAWBERRY_APP = textwrap.dedent(
    """
    from functools import partial

    import strawberry
    from starlette.applications import Starlette
    from starlette.routing import Route
    from strawberry.asgi import GraphQL
    from strawberry.extensions import ParserCache, ValidationCache

    IDS = {ids!r}

    @strawberry.type
    class Agent:
        id: strawberry.ID

    @strawberry.type
    class Query:
        @strawberry.field
        def agents(self) -> list[Agent]:
            return [Agent(id=strawberry.ID(i)) for i in IDS]

    schema = strawberry.Schema(
        query=Query,
        extensions=[
            partial(ParserCache, maxsize=512),
            partial(ValidationCache, maxsize=512),
        ],
    )
    view = GraphQL(schema, graphql_ide=None, multipart_uploads_enabled=False)
    app = Starlette(routes=[Route("/graphql", view, methods=["GET", "POST"])])
    """
)
TWENTY = {
    "steps": [
        {
            "id": f"s{i}",
            "agent": "wait_agent",
            "inputs": {"seconds": 0},
            **({"depends_on": [f"s{i - 1}"]} if i else {}),
        }
        for i in range(20)
    ]
}
EXECUTION = """query($id: ID!) { execution(id: $id) { id status durationMs
  steps { stepId status attempts startedAt completedAt durationMs output } } }"""
EXECUTE = "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id status } }"
AGENTS = {"query": "{ agents { id } }"}
TARGETS = ("requests", "execution", "subscribers")

Received = list[list[tuple[int, float, float]]]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def emit(row: dict[str, Any]) -> None:
    print(json.dumps(row), flush=True)


async def load(
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
    requests: int,
    concurrency: int,
) -> dict[str, Any]:
    """`requests` POSTs over `concurrency` keep-alive connections.

    A minimal HTTP/1.1 client on asyncio streams: the load generator shares the machine
    with the servers, so it must cost far less per request than they do (httpx's pool
    costs more than a bare Starlette route).
    """
    parts = urlsplit(url)
    payload = json.dumps(body).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n{head}\r\n"
    ).encode() + payload
    latencies: list[float] = []
    errors = 0
    remaining = requests

    async def worker() -> None:
        nonlocal remaining, errors
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while remaining > 0:
                remaining -= 1
                start = time.perf_counter()
                writer.write(request)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                answer = await reader.readexactly(length)
                latencies.append(time.perf_counter() - start)
                if b" 200 " not in status_line or b'"errors"' in answer:
                    errors += 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    return {
        "requests": requests,
        "concurrency": concurrency,
        "errors": errors,
        "rps": round(requests / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }


async def _follow_many(
    ws_url: str, key: str, execution_id: str, count: int
) -> tuple[Received, list[float]]:
    """`count` subscribers in this process: (seq, stored at, arrival) per event, and
    the moment each was following."""
    query = (
        "subscription($id: ID!) { executionEvents(executionId: $id) { seq type at } }"
    )
    received: Received = [[] for _ in range(count)]
    live_since = [0.0] * count

    async def follow(n: int) -> None:
        async with websockets.connect(
            ws_url,
            subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
            open_timeout=120,
            compression=None,
        ) as ws:
            init = {"type": "connection_init", "payload": {"X-API-Key": key}}
            await ws.send(json.dumps(init))
            await ws.recv()
            variables = {"id": execution_id}
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": query, "variables": variables},
                    }
                )
            )
            first = True
            raw_messages: list[tuple[str, float]] = []
            # Arrival times are taken as messages come in; parsing waits until the end,
            # so that the client's own work does not add to the measured latency.
            async for raw in ws:
                now = time.time()
                if first:
                    live_since[n], first = now, False
                text = raw if isinstance(raw, str) else raw.decode()
                if '"type":"complete"' in text[:40]:
                    break
                raw_messages.append((text, now))
            for text, now in raw_messages:
                event = json.loads(text)["payload"]["data"]["executionEvents"]
                at = dt.datetime.fromisoformat(event["at"]).timestamp()
                received[n].append((event["seq"], at, now))

    await asyncio.gather(*(follow(n) for n in range(count)))
    return received, live_since


def _follow_process(args: tuple[str, str, str, int]) -> tuple[Received, list[float]]:
    return asyncio.run(_follow_many(*args))


async def subscribers(
    url: str, key: str, count: int, processes: int = 4
) -> dict[str, Any]:
    """`count` clients, spread over `processes` client processes, follow one run; the
    latency of an event is its arrival time minus the time it was stored."""
    ws_url = url.replace("http://", "ws://") + "/graphql"
    steps = [
        {
            "id": f"w{i}",
            "agent": "wait_agent",
            "inputs": {"seconds": 0.5, "progress_every_s": 0.25},
            "depends_on": [f"w{i - 1}" if i else "gate"],
        }
        for i in range(4)
    ]
    # A gate step holds the run until every subscriber is in place.
    gate = {"id": "gate", "agent": "wait_agent", "inputs": {"seconds": 20}}
    graph = {"steps": [gate, *steps]}
    async with httpx.AsyncClient(timeout=30) as client:
        created = (
            await client.post(
                url + "/graphql",
                headers={"X-API-Key": key},
                json={"query": EXECUTE, "variables": {"g": graph}},
            )
        ).json()
    execution_id = created["data"]["executeWorkflow"]["id"]
    shares = [
        count // processes + (1 if i < count % processes else 0)
        for i in range(processes)
    ]
    began = time.time()
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(processes) as pool:
        parts = await asyncio.gather(
            *(
                loop.run_in_executor(
                    pool, _follow_process, (ws_url, key, execution_id, share)
                )
                for share in shares
            )
        )
    received = [r for part, _ in parts for r in part]
    live_since = [t for _, times in parts for t in times]
    emit(
        {
            "subscribe_s": {
                "first": round(min(live_since) - began, 2),
                "last": round(max(live_since) - began, 2),
            }
        }
    )
    sequences = [[seq for seq, _, _ in r] for r in received]
    complete = all(s == list(range(1, len(sequences[0]) + 1)) for s in sequences)
    # Events stored before every client was following are replays, not live deliveries:
    # latency counts only events stored after the last client was in.
    all_in = max(live_since)
    by_seq: dict[int, list[float]] = {}
    for r in received:
        for seq, at, now in r:
            if at > all_in:
                by_seq.setdefault(seq, []).append(now - at)
    live = [latency for values in by_seq.values() for latency in values]
    live = live or [float("nan")]
    slowest = sorted(by_seq.items(), key=lambda kv: -max(kv[1]))[:3]
    return {
        "target": "subscribers",
        "subscribers": count,
        "client_processes": processes,
        "slowest_events": {
            seq: {
                "p50_ms": round(percentile(v, 0.5) * 1000, 1),
                "max_ms": round(max(v) * 1000, 1),
            }
            for seq, v in slowest
        },
        "events": len(sequences[0]),
        "delivered_all": complete,
        "live_events": len(by_seq),
        "p50_ms": round(percentile(live, 0.5) * 1000, 2),
        "p99_ms": round(percentile(live, 0.99) * 1000, 2),
    }


def run_cli(database_url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "agent_orchestrator", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def start_uvicorn(app_dir: str, module: str, port: int) -> subprocess.Popen[bytes]:
    """A bare app under uvicorn, with the options `agent-orchestrator serve` uses."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            f"{module}:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=app_dir,
    )


def wait_ready(url: str) -> None:
    for _ in range(300):
        try:
            httpx.post(url, json=AGENTS)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


STRAWBERRY = "bare Strawberry (ParserCache + ValidationCache)"
FLOOR = "floor (bare Starlette JSON)"
OURS = "{agents{id}}"


async def request_path(
    args: argparse.Namespace,
    key: str,
    servers: dict[str, tuple[str, int]],
) -> None:
    """`{agents{id}}` on the three servers, in short rounds one after the other, so
    that each round meets about the same load from the rest of the machine; the
    figures are medians over the rounds, with each server's CPU time per request."""
    headers = {OURS: {"X-API-Key": key}}
    for name, (url, _) in servers.items():  # warm up every server
        await load(url, AGENTS, headers.get(name, {}), 300, args.concurrency)
    rps: dict[str, list[float]] = {name: [] for name in servers}
    cpu_us: dict[str, list[float]] = {name: [] for name in servers}
    for round_ in range(args.rounds):
        for name, (url, pid) in servers.items():
            before = cpu_seconds(pid)
            row = await load(
                url, AGENTS, headers.get(name, {}), args.requests, args.concurrency
            )
            after = cpu_seconds(pid)
            rps[name].append(row["rps"])
            if before is not None and after is not None:
                cpu_us[name].append((after - before) / args.requests * 1e6)
                row["cpu_us_per_request"] = round(cpu_us[name][-1], 1)
            emit({"target": name, "round": round_ + 1, **row})
    median = {name: statistics.median(values) for name, values in rps.items()}
    by_round = [o / s for o, s in zip(rps[OURS], rps[STRAWBERRY], strict=True) if s]
    summary: dict[str, Any] = {
        "target": "request path: {agents{id}}, medians over rounds",
        "rps": median,
        "ratio_to_strawberry": round(median[OURS] / median[STRAWBERRY], 3),
        "ratio_to_strawberry_median_of_rounds": round(statistics.median(by_round), 3),
        "ratio_to_floor": round(median[OURS] / median[FLOOR], 3),
        "goal_ratio_to_strawberry": 0.75,
    }
    if all(cpu_us.values()):
        cpu = {name: statistics.median(values) for name, values in cpu_us.items()}
        summary["cpu_us_per_request"] = {k: round(v, 1) for k, v in cpu.items()}
        # Requests/s a server could give per CPU second, relative to Strawberry's.
        summary["cpu_ratio_to_strawberry"] = round(cpu[STRAWBERRY] / cpu[OURS], 3)
    emit(summary)


async def heavier(args: argparse.Namespace, url: str, key: str) -> None:
    """A 20-step execution read back, and `executeWorkflow`."""
    headers = {"X-API-Key": key}
    async with httpx.AsyncClient(timeout=30) as client:
        made = (
            await client.post(
                url + "/graphql",
                headers=headers,
                json={"query": EXECUTE, "variables": {"g": TWENTY}},
            )
        ).json()
    execution_id = made["data"]["executeWorkflow"]["id"]
    await asyncio.sleep(1)
    read = {"query": EXECUTION, "variables": {"id": execution_id}}
    row = await load(url + "/graphql", read, headers, args.requests, args.concurrency)
    emit({"target": "execution with 20 steps", **row})
    one = {"steps": [{"id": "a", "agent": "wait_agent", "inputs": {"seconds": 0}}]}
    mutation = {"query": EXECUTE, "variables": {"g": one}}
    row = await load(
        url + "/graphql",
        mutation,
        headers,
        max(args.requests // 4, 100),
        args.concurrency,
    )
    emit({"target": "executeWorkflow", **row})


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        run_cli(database_url, "migrate")
        key = run_cli(
            database_url,
            "generate-api-key",
            "bench",
            "admin",
            "--expires-in-days",
            "1",
        )
        env = {
            "DATABASE_URL": database_url,
            "AGENT_RATE_LIMIT": "10000000/minute",
            # One key holds every subscriber's socket (the cap guards a key in use).
            "AGENT_WS_MAX_SOCKETS_PER_KEY": str(max(20, args.subscribers)),
            "AGENT_FILES_DIR": tmp,
            "LOG_LEVEL": "WARNING",
            "AGENT_AUDIT_ENABLED": "true",
        }
        bare: list[subprocess.Popen[bytes]] = []
        try:
            with ServerProcess(env, Path(tmp) / "server.log") as server:
                ours = server.url + "/graphql"
                if "requests" in args.only:
                    ids = [
                        a["id"]
                        for a in httpx.post(
                            ours, json=AGENTS, headers={"X-API-Key": key}
                        ).json()["data"]["agents"]
                    ]
                    Path(tmp, "floor_app.py").write_text(FLOOR_APP)
                    Path(tmp, "strawberry_app.py").write_text(
                        STRAWBERRY_APP.format(ids=ids)
                    )
                    servers: dict[str, tuple[str, int]] = {}
                    for name, module in (
                        (FLOOR, "floor_app"),
                        (STRAWBERRY, "strawberry_app"),
                    ):
                        port = free_port()
                        bare.append(start_uvicorn(tmp, module, port))
                        servers[name] = (
                            f"http://127.0.0.1:{port}/graphql",
                            bare[-1].pid,
                        )
                        wait_ready(servers[name][0])
                    assert server.process is not None
                    servers[OURS] = (ours, server.process.pid)
                    await request_path(args, key, servers)
                if "execution" in args.only:
                    await heavier(args, server.url, key)
                if "subscribers" in args.only:
                    await asyncio.sleep(2)
                    emit(await subscribers(server.url, key, args.subscribers))
        finally:
            for process in bare:
                process.terminate()
                process.wait(timeout=10)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument(
        "--only",
        type=lambda text: [t.strip() for t in text.split(",") if t.strip()],
        default=list(TARGETS),
        help="a comma-separated subset of: " + ", ".join(TARGETS),
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
