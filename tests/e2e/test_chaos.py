"""Chaos across processes on PostgreSQL: two API processes (workers off) and two
workers share one database while 200 executions of a five-step graph are submitted, and
a random process is stopped every ~2 s and started again.

SIGKILL: nothing is lost, no finished step runs again (each run of a step leaves a row
in a table, by whichever process ran it), events stay numbered without a gap, every
execution ends. SIGTERM: the same, and a stopping worker drains: no attempt is cut off
at all, and the executions it hands back continue elsewhere at once.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

import anyio
import asyncpg
import httpx
import pytest

from agent_orchestrator.core.enums import EventType, ExecutionStatus
from agent_orchestrator.store.database import create_database
from agent_orchestrator.store.runs import SqlRunStore
from tests.support.server import ServerProcess
from tests.support.tally import TABLE_SQL, plain_dsn
from tests.support.workers import WorkerProcess

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.databases import DatabaseFactory

# The chaos lasts at least KILLS stops (~2 s apart, each process started again), and
# the wait for the executions to end has its own deadline (240 s, with the processes'
# logs): on a busy machine the whole takes longer than the suite's usual 120 s.
pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(480)]

EXECUTIONS = 200
KILLS = 12
STEP_S = 0.3
GRAPH = {
    "steps": [
        {"id": "a", "agent": "tally_agent", "inputs": {"seconds": STEP_S}},
        {
            "id": "b",
            "agent": "tally_agent",
            "inputs": {"seconds": STEP_S},
            "depends_on": ["a"],
        },
        {
            "id": "c",
            "agent": "tally_agent",
            "inputs": {"seconds": STEP_S},
            "depends_on": ["a"],
        },
        {
            "id": "d",
            "agent": "tally_agent",
            "inputs": {"seconds": STEP_S},
            "depends_on": ["b", "c"],
        },
        {
            "id": "e",
            "agent": "tally_agent",
            "inputs": {"seconds": STEP_S},
            "depends_on": ["d"],
        },
    ]
}
STEP_IDS = ("a", "b", "c", "d", "e")
SUBMIT = """
mutation($input: ExecuteWorkflowInput!) { executeWorkflow(input: $input) { id } }
"""

Process = ServerProcess | WorkerProcess


class Cluster:
    """Two API processes and two workers on one database, and the chaos done to
    them."""

    def __init__(self, url: str, tmp_path: Path, *, lease_s: int) -> None:
        env = {
            "DATABASE_URL": url,
            "AGENT_PLUGINS": "tests.support.agents,tests.support.tally",
            "AGENT_API_KEY_ENABLED": "false",
            "AGENT_LEASE_SECONDS": str(lease_s),
            "AGENT_MAX_CONCURRENT_EXECUTIONS": "15",
            "AGENT_RATE_LIMIT": "100000/minute",
            "AGENT_FILES_DIR": str(tmp_path / "files"),
        }
        self.apis = [
            ServerProcess(
                {**env, "AGENT_WORKER_ENABLED": "false"}, tmp_path / f"api{i}.log"
            )
            for i in range(2)
        ]
        self.workers = [
            WorkerProcess(env, tmp_path / f"worker{i}.log") for i in range(2)
        ]
        self.stops = 0
        self.stopped_pids: list[int] = []
        self.stopped_names: list[str] = []
        self.another_stop = anyio.Event()
        self.pids: dict[str, set[int]] = {"api": set(), "worker": set()}

    def note_pid(self, process: Process) -> None:
        assert process.process is not None
        role = "api" if isinstance(process, ServerProcess) else "worker"
        self.pids[role].add(process.process.pid)

    @property
    def processes(self) -> list[Process]:
        return [*self.apis, *self.workers]

    async def start(self) -> None:
        async def start(process: Process) -> None:
            await anyio.to_thread.run_sync(process.start)
            self.note_pid(process)

        async with anyio.create_task_group() as tg:
            for process in self.processes:
                tg.start_soon(start, process)

    async def submit_all(self) -> list[str]:
        """Submit every execution, each under its own idempotency key, to the API
        processes in turn; a request that finds its process down goes to the other
        with the same key (an honest client's retry)."""
        ids: list[str] = []
        async with httpx.AsyncClient(timeout=30) as client:
            for index in range(EXECUTIONS):
                # The work spans the chaos: the last stop comes before the last
                # submissions, so that every stop meets work under way.
                while self.stops < index * KILLS // EXECUTIONS:
                    await self.another_stop.wait()
                key = f"chaos-{index}"
                for attempt in range(200):
                    api = self.apis[(index + attempt) % 2]
                    try:
                        response = await client.post(
                            api.url + "/graphql",
                            json={
                                "query": SUBMIT,
                                "variables": {
                                    "input": {"graph": GRAPH, "idempotencyKey": key}
                                },
                            },
                        )
                    except httpx.TransportError:
                        await anyio.sleep(0.05)
                        continue
                    body = response.json()
                    assert "errors" not in body, body
                    ids.append(body["data"]["executeWorkflow"]["id"])
                    break
                else:
                    raise AssertionError(f"execution {index} could not be submitted")
                # Spread over the chaos: about ten a second.
                await anyio.sleep(0.1)
        return ids

    async def chaos(self, kind: str, submitted: anyio.Event, seed: int) -> None:
        """Stop a random running process every ~2 s (`kind`: kill or term) and start
        it again meanwhile, at least KILLS times and until every execution is
        submitted."""
        rng = random.Random(seed)
        up = list(self.processes)

        async def restart(process: Process) -> None:
            await anyio.to_thread.run_sync(process.start)
            self.note_pid(process)
            up.append(process)

        async with anyio.create_task_group() as restarts:
            while self.stops < KILLS or not submitted.is_set():
                # The chaos's own pace (not a wait for a condition).
                await anyio.sleep(rng.uniform(1.5, 2.5))
                if not up:
                    continue
                process = up.pop(rng.randrange(len(up)))
                assert process.process is not None
                self.stopped_pids.append(process.process.pid)
                self.stopped_names.append(process.log_path.stem)
                if kind == "kill":
                    await anyio.to_thread.run_sync(process.kill)
                else:
                    await anyio.to_thread.run_sync(process.stop)
                self.stops += 1
                self.another_stop.set()
                self.another_stop = anyio.Event()
                restarts.start_soon(restart, process)

    def close(self) -> None:
        for process in self.processes:
            if process.process is not None and process.process.poll() is None:
                process.process.kill()
                process.process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.log_path.name}\n{p.log()[-3000:]}" for p in self.processes
        )


async def run_chaos(
    database_factory: DatabaseFactory, tmp_path: Path, kind: str, lease_s: int
) -> dict[str, Any]:
    url = database_factory.new("postgresql", tmp_path)
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        await conn.execute(TABLE_SQL)
    finally:
        await conn.close()
    cluster = Cluster(url, tmp_path, lease_s=lease_s)
    seed = int(os.environ.get("CHAOS_SEED") or random.randrange(1_000_000))
    print(f"chaos seed {seed}")
    try:
        await cluster.start()
        submitted = anyio.Event()
        ids: list[str] = []

        async def submit() -> None:
            ids.extend(await cluster.submit_all())
            submitted.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(submit)
            tg.start_soon(cluster.chaos, kind, submitted, seed)
        async with create_database(url) as db:
            store = SqlRunStore(db)
            deadline = time.monotonic() + 240
            while True:
                records = [await store.load_execution(i) for i in ids]
                if all(r.status.is_final for r in records):
                    break
                if time.monotonic() > deadline:
                    waiting = [r.id for r in records if not r.status.is_final]
                    raise AssertionError(
                        f"{len(waiting)} executions never ended: {waiting[:5]}\n"
                        + cluster.logs()
                    )
                await anyio.sleep(0.2)
            events = {i: await store.events_after(i) for i in ids}
            async with db.read() as read:
                from sqlalchemy import text

                rows = (
                    await read.execute(
                        text(
                            "SELECT execution_id, step_id, attempt, pid, at "
                            "FROM test_side_effects ORDER BY at"
                        )
                    )
                ).all()
                stored = (
                    await read.execute(
                        text(
                            "SELECT count(*) FROM agent_workflow_executions "
                            "WHERE idempotency_key LIKE 'chaos-%'"
                        )
                    )
                ).scalar_one()
    finally:
        cluster.close()
    return {
        "ids": ids,
        "records": records,
        "events": events,
        "rows": rows,
        "stored": stored,
        "stops": cluster.stops,
        "stopped_pids": cluster.stopped_pids,
        "stopped_names": cluster.stopped_names,
        "pids": cluster.pids,
        "logs": cluster.logs(),
    }


def check_nothing_lost_nothing_repeated(
    found: dict[str, Any],
) -> Counter[tuple[str, str]]:
    """The assertions both kinds of chaos share; returns the runs of each step."""
    ids, records, events = found["ids"], found["records"], found["events"]
    assert found["stops"] >= KILLS
    # Every submitted execution is stored once and ended well.
    assert len(set(ids)) == EXECUTIONS
    assert found["stored"] == EXECUTIONS
    failed = [r for r in records if r.status is not ExecutionStatus.SUCCEEDED]
    assert not failed, [(r.id, r.status, r.error_message) for r in failed[:5]]
    # The API processes (workflows off) ran no step: every run was a worker's.
    assert {row[3] for row in found["rows"]} <= found["pids"]["worker"]
    runs: Counter[tuple[str, str]] = Counter()
    attempts: dict[tuple[str, str], list[int]] = defaultdict(list)
    for execution_id, step_id, attempt, _pid, _at in found["rows"]:
        runs[(execution_id, step_id)] += 1
        attempts[(execution_id, step_id)].append(attempt)
    for execution_id in ids:
        stream = events[execution_id]
        assert [e.seq for e in stream] == list(range(1, len(stream) + 1))
        kinds = Counter(e.type for e in stream)
        assert kinds[EventType.EXECUTION_STARTED] == 1
        assert kinds[EventType.EXECUTION_SUCCEEDED] == 1
        for step_id in STEP_IDS:
            mine = [e for e in stream if e.step_id == step_id]
            succeeded = [e for e in mine if e.type is EventType.STEP_SUCCEEDED]
            assert len(succeeded) == 1, (execution_id, step_id, mine)
            # Nothing of the step started after it had succeeded...
            assert mine[-1].type is EventType.STEP_SUCCEEDED, (execution_id, mine)
            # ...and no run of it came after the attempt that succeeded (a run of a
            # finished step would leave a row with a later attempt, or a second row
            # of the same attempt).
            done = attempts[(execution_id, step_id)]
            assert done, (execution_id, step_id)
            assert max(done) == succeeded[0].attempt, (execution_id, step_id, done)
            assert len(done) == len(set(done)), (execution_id, step_id, done)
    return runs


async def test_sigkilled_processes_lose_nothing_and_repeat_no_finished_step(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    found = await run_chaos(database_factory, tmp_path, "kill", lease_s=3)
    runs = check_nothing_lost_nothing_repeated(found)
    again = sum(n - 1 for n in runs.values())
    resumed = sum(r.resumes > 0 for r in found["records"])
    print(
        f"stopped {found['stopped_names']}; "
        f"{found['stops']} kills; {resumed} executions resumed elsewhere; "
        f"{again} attempts cut off by a kill ran again"
    )
    # The kills did hit work under way (else the test proves nothing).
    assert resumed > 0


async def test_sigtermed_processes_hand_their_work_over_at_once(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    # A lease far longer than the test: nothing here may wait for one to run out.
    found = await run_chaos(database_factory, tmp_path, "term", lease_s=120)
    runs = check_nothing_lost_nothing_repeated(found)
    # Draining workers finished every attempt they had begun: no step ran twice.
    assert set(runs.values()) == {1}, [k for k, n in runs.items() if n > 1][:5]
    # Hand-overs: a step of an execution run by another process than the step
    # before it, after that process was stopped; the gap from the end of the one to
    # the start of the next.
    stopped = set(found["stopped_pids"])
    ended: dict[tuple[str, str], Any] = {}
    for execution_id, stream in found["events"].items():
        for e in stream:
            if e.type is EventType.STEP_SUCCEEDED and e.step_id:
                ended[(execution_id, e.step_id)] = e.at
    by_execution: dict[str, list[tuple[Any, str, int]]] = defaultdict(list)
    for execution_id, step_id, _attempt, pid, at in found["rows"]:
        by_execution[execution_id].append((at, step_id, pid))
    gaps = []
    for execution_id, rows in by_execution.items():
        for (_, before, pid_before), (at, _, pid) in zip(rows, rows[1:], strict=False):
            if pid != pid_before and pid_before in stopped:
                gaps.append((at - ended[(execution_id, before)]).total_seconds())
    assert gaps, "no execution was handed over: the stops hit no work"
    print(
        f"{found['stops']} SIGTERMs; {len(gaps)} hand-overs; gap from a step's end "
        f"to the next step on another process: median "
        f"{statistics.median(gaps) * 1000:.0f} ms, max {max(gaps) * 1000:.0f} ms "
        f"(lease {120} s)"
    )
    # Far below the lease: nothing waited for a lease to run out.
    assert max(gaps) < 30, sorted(gaps)[-5:]
