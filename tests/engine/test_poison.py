"""Outputs and events the databases refuse: a step whose output or progress cannot be
stored fails at once (not retried, never stuck RUNNING); text is cleaned of NUL and lone
surrogates the same way on every store; an execution whose step's end the database
keeps refusing is resumed a bounded number of times, then ends FAILED.

The refusals of the last tests are real: a trigger in the test database refuses the
step's success, as a database refuses what it cannot hold."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
import pytest
from sqlalchemy import text

from agent_orchestrator.core.enums import EventType, ExecutionStatus, StepStatus
from agent_orchestrator.core.errors import ValidationFailed
from agent_orchestrator.engine.bus import EventBus
from agent_orchestrator.engine.runner import Runner
from agent_orchestrator.engine.settings import EngineSettings
from agent_orchestrator.service.starting import ExecuteRequest, ExecutionStarter
from agent_orchestrator.store.runs import SqlRunStore

from .conftest import Engine, make_registry

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from agent_orchestrator.core.protocols import ExecutionRecord
    from agent_orchestrator.store.database import Database

pytestmark = pytest.mark.anyio


async def run(engine: Engine, graph: dict[str, Any]) -> ExecutionRecord:
    record, _ = await engine.service.execute(
        ExecuteRequest(tenant_id="t1", graph=graph)
    )
    with anyio.fail_after(30):
        return await engine.runner.wait_finished(record.id)


def poison(kind: str) -> dict[str, Any]:
    return {
        "steps": [
            {"id": "p", "agent": "poison_agent", "inputs": {"kind": kind}},
            {
                "id": "after",
                "agent": "echo_agent",
                "inputs": {"text": "${steps.p.text}"},
            },
        ],
        "outputs": {"text": "${steps.after.text}"},
    }


@pytest.mark.parametrize(
    ("kind", "cleaned"),
    [("nul", "kuitti 12,00"), ("surrogate", "kuitti \ufffd 12,00")],
)
async def test_text_the_databases_refuse_is_cleaned(
    engine: Engine, kind: str, cleaned: str
) -> None:
    final = await run(engine, poison(kind))
    assert final.status is ExecutionStatus.SUCCEEDED, final.error_message
    assert final.result == {"text": cleaned}
    by_id = {s.step_id: s for s in final.steps}
    assert by_id["p"].output == {"text": cleaned, "number": 0.0}
    assert by_id["p"].attempts == 1


@pytest.mark.parametrize("kind", ["nan", "progress_nan"])
async def test_an_unstorable_output_or_event_fails_the_step_once(
    engine: Engine, kind: str
) -> None:
    final = await run(engine, poison(kind))
    assert final.status is ExecutionStatus.FAILED
    by_id = {s.step_id: s for s in final.steps}
    assert by_id["p"].status is StepStatus.FAILED
    assert by_id["p"].attempts == 1
    assert by_id["after"].status is StepStatus.CANCELLED
    assert final.error_message is not None
    assert "cannot be stored" in final.error_message
    events = await engine.store.events_after(final.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    [failed] = [e for e in events if e.type is EventType.STEP_FAILED]
    assert failed.data["retryable"] is False
    assert failed.data["error_code"] == "OUTPUT_NOT_STORABLE"
    assert not any(e.type is EventType.STEP_RETRYING for e in events)


# Resumes come quickly: a run that stops is taken up again when its lease runs out.
QUICK_LEASES = EngineSettings(
    max_retries=3, timeout_ms=5_000, retry_initial_ms=20, retry_max_ms=200, lease_s=0.3
)


@pytest.fixture
async def sql_engine(database: Database) -> AsyncIterator[Engine]:
    registry = make_registry()
    store = SqlRunStore(database)
    bus = EventBus()
    async with Runner(store, registry, bus, QUICK_LEASES) as runner:
        yield Engine(
            store, runner, bus, ExecutionStarter(runner, registry, {}), registry
        )


async def refuse_success_of(database: Database, step_id: str, sqlstate: str) -> None:
    """A trigger that refuses to store `step_id`'s success (PostgreSQL with the
    SQLSTATE `sqlstate`; SQLite's RAISE has one kind)."""
    message = f"the end of step {step_id} is refused"
    async with database.write() as conn:
        if database.is_sqlite:
            await conn.execute(
                text(
                    "CREATE TRIGGER refuse_end BEFORE UPDATE ON agent_step_runs "
                    f"WHEN NEW.status = 'SUCCEEDED' AND NEW.step_id = '{step_id}' "
                    f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
                )
            )
            return
        await conn.execute(
            text(
                "CREATE FUNCTION refuse_end() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN IF NEW.status = 'SUCCEEDED' AND NEW.step_id = '{step_id}' THEN "
                f"RAISE EXCEPTION '{message}' USING ERRCODE = '{sqlstate}'; END IF; "
                "RETURN NEW; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE TRIGGER refuse_end BEFORE UPDATE ON agent_step_runs "
                "FOR EACH ROW EXECUTE FUNCTION refuse_end()"
            )
        )


def stuck(retry: dict[str, int] | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {"id": "stuck", "agent": "echo_agent", "inputs": {}}
    if retry is not None:
        step["retry"] = retry
    return {
        "steps": [
            {"id": "first", "agent": "echo_agent", "inputs": {}},
            {**step, "depends_on": ["first"]},
            {
                "id": "last",
                "agent": "echo_agent",
                "inputs": {},
                "depends_on": ["stuck"],
            },
        ]
    }


async def test_a_step_whose_end_is_never_stored_fails_after_its_attempts(
    sql_engine: Engine, database: Database
) -> None:
    # Not a data error: the run stops and is resumed, as after a crash.
    await refuse_success_of(database, "stuck", "P0001")
    final = await run(sql_engine, stuck())
    assert final.status is ExecutionStatus.FAILED
    by_id = {s.step_id: s for s in final.steps}
    assert by_id["first"].status is StepStatus.SUCCEEDED
    assert by_id["first"].attempts == 1
    assert by_id["stuck"].status is StepStatus.FAILED
    assert by_id["stuck"].attempts == QUICK_LEASES.max_retries + 1
    assert by_id["last"].status is StepStatus.CANCELLED
    assert final.error_message is not None
    assert "was started 4 times" in final.error_message
    assert "not started again" in final.error_message
    events = await sql_engine.store.events_after(final.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].type is EventType.EXECUTION_FAILED


async def test_an_execution_resumed_without_progress_ends_after_the_bound(
    sql_engine: Engine, database: Database
) -> None:
    await refuse_success_of(database, "stuck", "P0001")
    # The step may be tried more often than the execution may be resumed.
    final = await run(sql_engine, stuck(retry={"max_retries": 10}))
    assert final.status is ExecutionStatus.FAILED
    bound = QUICK_LEASES.max_retries + 1
    assert final.error_message is not None
    assert f"resumed {bound + 1} times in a row" in final.error_message
    by_id = {s.step_id: s for s in final.steps}
    assert by_id["first"].status is StepStatus.SUCCEEDED
    # The first attempt, then one per resume within the bound.
    assert by_id["stuck"].attempts == bound + 1
    assert by_id["stuck"].status is StepStatus.CANCELLED
    assert final.resumes == bound + 1


# PostgreSQL only: SQLite's triggers cannot raise a data error (and SQLite stores any
# text), so the refusal this test needs exists only there.
@pytest.mark.parametrize("db_kind", ["postgresql"])
async def test_a_data_refusal_of_a_steps_end_fails_the_step_at_once(
    sql_engine: Engine, database: Database
) -> None:
    await refuse_success_of(database, "stuck", "22000")
    final = await run(sql_engine, stuck())
    assert final.status is ExecutionStatus.FAILED
    by_id = {s.step_id: s for s in final.steps}
    assert by_id["stuck"].status is StepStatus.FAILED
    assert by_id["stuck"].attempts == 1
    assert by_id["last"].status is StepStatus.CANCELLED
    assert final.error_message is not None
    assert "the step's output cannot be stored" in final.error_message
    assert "is refused" in final.error_message
    events = await sql_engine.store.events_after(final.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    [failed] = [e for e in events if e.type is EventType.STEP_FAILED]
    assert failed.data["error_code"] == "OUTPUT_NOT_STORABLE"


async def test_a_graph_over_the_step_limit_is_not_started(engine: Engine) -> None:
    graph = {
        "steps": [
            {"id": f"s{i}", "agent": "echo_agent", "inputs": {}} for i in range(201)
        ]
    }
    with pytest.raises(ValidationFailed, match="the graph has 201 steps; at most 200"):
        await engine.service.execute(ExecuteRequest(tenant_id="t1", graph=graph))
