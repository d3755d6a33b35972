"""API benchmark: the real server process against a bare Starlette JSON route (the floor),
measured in the same run with the same client.

    python bench/api.py [--requests 2000] [--concurrency 50] [--subscribers 500]

Prints one JSON line per measurement:
``{"target", "requests", "concurrency", "rps", "p50_ms", "p99_ms", ...}`` and, for the
subscription fan-out, ``{"target": "subscribers", "subscribers", "events",
"delivered_all", "p50_ms", "p99_ms"}``. The database is a fresh SQLite file unless
``$DATABASE_URL`` names PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def load(url: str, body: dict[str, Any], headers: dict[str, str], requests: int,
               concurrency: int) -> dict[str, Any]:
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
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n{head}\r\n"
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
    return {"requests": requests, "concurrency": concurrency, "errors": errors,
            "rps": round(requests / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 2)}


async def _follow_many(
    ws_url: str, key: str, execution_id: str, count: int
) -> tuple[list[list[tuple[int, float, float]]], list[float]]:
    """`count` subscribers in this process; arrival times, then (seq, at, arrival)."""
    query = "subscription($id: ID!) { executionEvents(executionId: $id) { seq type at } }"
    received: list[list[tuple[int, float, float]]] = [[] for _ in range(count)]
    live_since = [0.0] * count

    async def follow(n: int) -> None:
        async with websockets.connect(
            ws_url, subprotocols=["graphql-transport-ws"], open_timeout=120,
            compression=None,
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"X-API-Key": key}}))
            await ws.recv()
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": query, "variables": {"id": execution_id}}}))
            first = True
            raw_messages: list[tuple[str | bytes, float]] = []
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


def _follow_process(args: tuple[str, str, str, int]) -> tuple[list[list[tuple[int, float, float]]], list[float]]:
    return asyncio.run(_follow_many(*args))


async def subscribers(url: str, key: str, count: int, processes: int = 4) -> dict[str, Any]:
    """`count` clients, spread over `processes` client processes, follow one run; the
    latency of an event is its arrival time minus the time it was stored."""
    ws_url = url.replace("http://", "ws://") + "/graphql"
    steps = [{"id": f"w{i}", "agent": "wait_agent",
              "inputs": {"seconds": 0.5, "progress_every_s": 0.25},
              **({"depends_on": [f"w{i - 1}"]} if i else {"depends_on": ["gate"]})}
             for i in range(4)]
    # A gate step holds the run until every subscriber is in place.
    graph = {"steps": [{"id": "gate", "agent": "wait_agent", "inputs": {"seconds": 20}}, *steps]}
    async with httpx.AsyncClient(timeout=30) as client:
        created = (await client.post(url + "/graphql", headers={"X-API-Key": key}, json={
            "query": "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }",
            "variables": {"g": graph}})).json()
    execution_id = created["data"]["executeWorkflow"]["id"]
    shares = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
    began = time.time()
    with ProcessPoolExecutor(processes) as pool:
        parts = list(await asyncio.gather(*(
            asyncio.get_running_loop().run_in_executor(
                pool, _follow_process, (ws_url, key, execution_id, share))
            for share in shares)))
    received = [r for part, _ in parts for r in part]
    live_since = [t for _, times in parts for t in times]
    print(json.dumps({"subscribe_s": {"first": round(min(live_since) - began, 2),
                                      "last": round(max(live_since) - began, 2)}}), flush=True)
    sequences = [[seq for seq, _, _ in r] for r in received]
    complete = all(s == list(range(1, len(sequences[0]) + 1)) for s in sequences)
    # Events stored before every client was following are replays, not live deliveries:
    # latency counts only events stored after the last client was in.
    all_in = max(live_since)
    live = [now - at for r in received for _, at, now in r if at > all_in] or [float("nan")]
    by_seq: dict[int, list[float]] = {}
    for r in received:
        for seq, at, now in r:
            if at > all_in:
                by_seq.setdefault(seq, []).append(now - at)
    slowest = sorted(by_seq.items(), key=lambda kv: -max(kv[1]))[:3]
    return {"target": "subscribers", "subscribers": count, "client_processes": processes,
            "slowest_events": {seq: {"p50_ms": round(percentile(v, 0.5) * 1000, 1),
                                     "max_ms": round(max(v) * 1000, 1)} for seq, v in slowest},
            "events": len(sequences[0]), "delivered_all": complete,
            "live_events": len(live) // count,
            "p50_ms": round(percentile(live, 0.5) * 1000, 2),
            "p99_ms": round(percentile(live, 0.99) * 1000, 2)}


def make_key(database_url: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent_orchestrator",
            "generate-api-key",
            "bench",
            "admin",
            "--expires-in-days",
            "1",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        subprocess.run(
            [sys.executable, "-m", "agent_orchestrator", "migrate"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)},
            check=True,
            capture_output=True,
        )
        key = make_key(database_url)
        env = {
            "DATABASE_URL": database_url,
            "AGENT_RATE_LIMIT": "10000000/minute",
            "AGENT_FILES_DIR": tmp,
            "LOG_LEVEL": "WARNING",
            "AGENT_AUDIT_ENABLED": "true",
        }
        floor_port = free_port()
        (Path(tmp) / "floor_app.py").write_text(FLOOR_APP)
        floor = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "floor_app:app",
                "--port",
                str(floor_port),
                "--log-level",
                "warning",
            ],
            cwd=tmp,
        )
        try:
            with ServerProcess(env, Path(tmp) / "server.log") as server:
                for _ in range(100):
                    try:
                        httpx.post(f"http://127.0.0.1:{floor_port}/graphql", json={})
                        break
                    except httpx.TransportError:
                        time.sleep(0.1)
                headers = {"X-API-Key": key}
                agents = {"query": "{ agents { id } }"}
                await load(
                    server.url + "/graphql", agents, headers, 200, args.concurrency
                )
                await load(
                    f"http://127.0.0.1:{floor_port}/graphql",
                    agents,
                    {},
                    200,
                    args.concurrency,
                )
                floor_row = await load(
                    f"http://127.0.0.1:{floor_port}/graphql",
                    agents,
                    {},
                    args.requests,
                    args.concurrency,
                )
                print(
                    json.dumps({"target": "floor (bare Starlette JSON)", **floor_row}),
                    flush=True,
                )
                row = await load(
                    server.url + "/graphql",
                    agents,
                    headers,
                    args.requests,
                    args.concurrency,
                )
                print(
                    json.dumps(
                        {
                            "target": "{agents{id}}",
                            **row,
                            "ratio_to_floor": round(row["rps"] / floor_row["rps"], 3),
                        }
                    ),
                    flush=True,
                )
                async with httpx.AsyncClient(timeout=30) as client:
                    made = (
                        await client.post(
                            server.url + "/graphql",
                            headers=headers,
                            json={
                                "query": "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }",
                                "variables": {"g": TWENTY},
                            },
                        )
                    ).json()
                execution_id = made["data"]["executeWorkflow"]["id"]
                await asyncio.sleep(1)
                row = await load(
                    server.url + "/graphql",
                    {"query": EXECUTION, "variables": {"id": execution_id}},
                    headers,
                    args.requests,
                    args.concurrency,
                )
                print(
                    json.dumps(
                        {
                            "target": "execution with 20 steps",
                            **row,
                            "ratio_to_floor": round(row["rps"] / floor_row["rps"], 3),
                        }
                    ),
                    flush=True,
                )
                mutation = {
                    "query": "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id status } }",
                    "variables": {
                        "g": {
                            "steps": [
                                {
                                    "id": "a",
                                    "agent": "wait_agent",
                                    "inputs": {"seconds": 0},
                                }
                            ]
                        }
                    },
                }
                row = await load(
                    server.url + "/graphql",
                    mutation,
                    headers,
                    max(args.requests // 4, 100),
                    args.concurrency,
                )
                print(
                    json.dumps(
                        {
                            "target": "executeWorkflow",
                            **row,
                            "ratio_to_floor": round(row["rps"] / floor_row["rps"], 3),
                        }
                    ),
                    flush=True,
                )
                await asyncio.sleep(2)
                print(
                    json.dumps(await subscribers(server.url, key, args.subscribers)),
                    flush=True,
                )
        finally:
            floor.terminate()
            floor.wait(timeout=10)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--subscribers", type=int, default=500)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
