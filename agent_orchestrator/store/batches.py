"""The engine's hot path: a `WriteBatch` written in as few round trips as the database
allows, on the driver directly (SQLAlchemy's per-statement overhead would cost more than
the database work on no-op steps).

* PostgreSQL: one statement. Data-modifying CTEs update the steps and executions and
  insert the events from ``unnest``-ed arrays; a single statement is atomic, so the batch
  needs no BEGIN/COMMIT round trips.
* SQLite: one hop to a worker thread that runs BEGIN IMMEDIATE, the executemany calls
  and COMMIT on a stdlib ``sqlite3`` connection.

Updates to the same row within a batch are folded first, in order, so each row is
updated once (PostgreSQL's UPDATE ... FROM applies only one matching source row).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import sqlite3
from typing import TYPE_CHECKING, Any

import anyio

from ..core.enums import ExecutionStatus

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from ..core.protocols import WriteBatch

STEP_COLUMNS = (
    "status",
    "attempts",
    "started_at",
    "completed_at",
    "duration_ms",
    "output",
    "error",
)
EXECUTION_COLUMNS = (
    "status",
    "started_at",
    "completed_at",
    "duration_ms",
    "result",
    "error_message",
)
_JSON_COLUMNS = frozenset({"output", "result"})


def fold(
    updates: Iterable[tuple[tuple[str, ...], Mapping[str, Any]]],
    allowed: tuple[str, ...],
) -> dict[tuple[str, ...], dict[str, Any]]:
    """Merge successive updates of the same row (later values win), keeping order."""
    folded: dict[tuple[str, ...], dict[str, Any]] = {}
    for key, values in updates:
        unknown = set(values) - set(allowed)
        if unknown:
            raise ValueError(f"cannot update column(s) {sorted(unknown)}")
        folded.setdefault(key, {}).update(values)
    return folded


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _json(value: Any) -> str | None:
    return (
        None if value is None else json.dumps(value, separators=(",", ":"), default=str)
    )


# --- PostgreSQL ------------------------------------------------------------------------


def _pg_set(table_alias: str, column: str, cast: str) -> str:
    return (
        f"{column} = CASE WHEN v.set_{column} THEN v.{column}{cast} "
        f"ELSE {table_alias}.{column} END"
    )


_PG_STEP_TYPES = {
    "status": "text",
    "attempts": "int",
    "started_at": "timestamptz",
    "completed_at": "timestamptz",
    "duration_ms": "bigint",
    "output": "jsonb",
    "error": "text",
}
_PG_EXECUTION_TYPES = {
    "status": "text",
    "started_at": "timestamptz",
    "completed_at": "timestamptz",
    "duration_ms": "bigint",
    "result": "jsonb",
    "error_message": "text",
}
_PG_EVENT_TYPES = (
    ("execution_id", "text"),
    ("tenant_id", "text"),
    ("seq", "int"),
    ("type", "text"),
    ("step_id", "text"),
    ("agent_id", "text"),
    ("attempt", "int"),
    ("at", "timestamptz"),
    ("data", "jsonb"),
)


#: Events stored on PostgreSQL are announced here as ``<execution id>:<last seq>`` (NOTIFY
#: is transactional: listeners hear of them only once they are committed).
NOTIFY_CHANNEL = "agent_orchestrator_events"


def _pg_statement() -> str:
    n = 0

    def params(types: Iterable[str]) -> list[str]:
        nonlocal n
        out = []
        for kind in types:
            n += 1
            out.append(f"${n}::{kind}[]")
        return out

    step_cols = [("execution_id", "text"), ("step_id", "text")]
    for column in STEP_COLUMNS:
        step_cols += [(f"set_{column}", "boolean"), (column, _PG_STEP_TYPES[column])]
    step_params = params(kind for _, kind in step_cols)
    exec_cols = [("id", "text"), ("final", "boolean")]
    for column in EXECUTION_COLUMNS:
        exec_cols += [
            (f"set_{column}", "boolean"),
            (column, _PG_EXECUTION_TYPES[column]),
        ]
    exec_params = params(kind for _, kind in exec_cols)
    event_params = params(kind for _, kind in _PG_EVENT_TYPES)
    step_sets = ", ".join(_pg_set("r", c, "") for c in STEP_COLUMNS)
    exec_sets = ", ".join(_pg_set("t", c, "") for c in EXECUTION_COLUMNS)
    return f"""
WITH sv AS (
  SELECT * FROM unnest({", ".join(step_params)})
    AS v({", ".join(name for name, _ in step_cols)})
), s AS (
  UPDATE agent_step_runs r SET {step_sets}
  FROM sv v WHERE r.execution_id = v.execution_id AND r.step_id = v.step_id
  RETURNING 1
), xv AS (
  SELECT * FROM unnest({", ".join(exec_params)})
    AS v({", ".join(name for name, _ in exec_cols)})
), x AS (
  UPDATE agent_workflow_executions t SET {exec_sets},
    lease_owner = CASE WHEN v.final THEN NULL ELSE t.lease_owner END,
    lease_expires_at = CASE WHEN v.final THEN NULL ELSE t.lease_expires_at END
  FROM xv v WHERE t.id = v.id
  RETURNING 1
), e AS (
  INSERT INTO agent_execution_events
    ({", ".join(name for name, _ in _PG_EVENT_TYPES)})
  SELECT * FROM unnest({", ".join(event_params)})
  RETURNING 1
), nt AS (
  SELECT pg_notify('{NOTIFY_CHANNEL}', ne.execution_id || ':' || max(ne.seq)::text)
  FROM unnest({event_params[0]}, {event_params[2]}) AS ne(execution_id, seq)
  GROUP BY ne.execution_id
)
SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM x), (SELECT count(*) FROM e),
       (SELECT count(*) FROM nt)
"""


PG_BATCH_STATEMENT = _pg_statement()


def pg_arguments(batch: WriteBatch) -> list[list[Any]]:
    """The array arguments of `PG_BATCH_STATEMENT` for a batch."""
    steps = fold(
        (((u.execution_id, u.step_id), u.values) for u in batch.steps), STEP_COLUMNS
    )
    columns: list[list[Any]] = [[] for _ in range(2 + 2 * len(STEP_COLUMNS))]
    for (execution_id, step_id), values in steps.items():
        columns[0].append(execution_id)
        columns[1].append(step_id)
        for i, column in enumerate(STEP_COLUMNS):
            present = column in values
            value = _plain(values.get(column))
            columns[2 + 2 * i].append(present)
            columns[3 + 2 * i].append(
                _json(value) if column in _JSON_COLUMNS else value
            )
    executions = fold(
        (((u.execution_id,), u.values) for u in batch.executions), EXECUTION_COLUMNS
    )
    exec_columns: list[list[Any]] = [[] for _ in range(2 + 2 * len(EXECUTION_COLUMNS))]
    for (execution_id,), values in executions.items():
        status = values.get("status")
        exec_columns[0].append(execution_id)
        exec_columns[1].append(
            status is not None and ExecutionStatus(_plain(status)).is_final
        )
        for i, column in enumerate(EXECUTION_COLUMNS):
            value = _plain(values.get(column))
            exec_columns[2 + 2 * i].append(column in values)
            exec_columns[3 + 2 * i].append(
                _json(value) if column in _JSON_COLUMNS else value
            )
    event_columns: list[list[Any]] = [[] for _ in _PG_EVENT_TYPES]
    for e in batch.events:
        row = (
            e.execution_id,
            e.tenant_id,
            e.seq,
            e.type.value,
            e.step_id,
            e.agent_id,
            e.attempt,
            e.at,
            _json(e.data),
        )
        for column, value in zip(event_columns, row, strict=True):
            column.append(value)
    return [*columns, *exec_columns, *event_columns]


class PostgresBatchWriter:
    """Writes batches over one asyncpg connection, one statement each."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: Any = None
        self._lock = anyio.Lock()

    async def write(self, batch: WriteBatch) -> None:
        """Apply the batch atomically (one statement)."""
        import asyncpg

        async with self._lock:
            if self._conn is None or self._conn.is_closed():
                # The statement never changes shape: plan it once, not per call.
                self._conn = await asyncpg.connect(
                    self._dsn, server_settings={"plan_cache_mode": "force_generic_plan"}
                )
            try:
                await self._conn.fetchrow(PG_BATCH_STATEMENT, *pg_arguments(batch))
            except (
                OSError,
                asyncpg.exceptions.ConnectionDoesNotExistError,
                asyncpg.exceptions.InterfaceError,
            ):
                await self._drop()
                raise

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()

    async def aclose(self) -> None:
        """Close the connection."""
        async with self._lock:
            if self._conn is not None:
                await self._conn.close()
                self._conn = None


# --- SQLite ------------------------------------------------------------------------

_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def _sqlite_value(column: str, value: Any) -> Any:
    value = _plain(value)
    if column in _JSON_COLUMNS:
        return _json(value)
    if isinstance(value, dt.datetime):
        # The format SQLAlchemy's DateTime uses on SQLite, in UTC without offset.
        return value.astimezone(dt.UTC).replace(tzinfo=None).strftime(_SQLITE_TIME)
    return value


def _sqlite_update(table: str, key: str, columns: tuple[str, ...]) -> str:
    sets = ", ".join(
        f"{c} = CASE WHEN :set_{c} THEN :{c} ELSE {c} END" for c in columns
    )
    return f"UPDATE {table} SET {sets} WHERE {key}"


_SQLITE_STEP_UPDATE = _sqlite_update(
    "agent_step_runs", "execution_id = :k_execution AND step_id = :k_step", STEP_COLUMNS
)
_SQLITE_EXECUTION_UPDATE = _sqlite_update(
    "agent_workflow_executions", "id = :k_execution", EXECUTION_COLUMNS
).replace(
    " WHERE",
    ", lease_owner = CASE WHEN :final THEN NULL ELSE lease_owner END, "
    "lease_expires_at = CASE WHEN :final THEN NULL ELSE lease_expires_at END WHERE",
)
_SQLITE_EVENT_INSERT = (
    "INSERT INTO agent_execution_events (execution_id, tenant_id, seq, type, step_id, "
    "agent_id, attempt, at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _sqlite_rows(
    folded: Mapping[tuple[str, ...], Mapping[str, Any]], columns: tuple[str, ...]
) -> list[dict[str, Any]]:
    rows = []
    for key, values in folded.items():
        row: dict[str, Any] = {"k_execution": key[0]}
        if len(key) > 1:
            row["k_step"] = key[1]
        for column in columns:
            row[f"set_{column}"] = column in values
            row[column] = _sqlite_value(column, values.get(column))
        rows.append(row)
    return rows


class SqliteBatchWriter:
    """Writes batches on a stdlib sqlite3 connection.

    A small WAL transaction takes tens of microseconds, less than a hop to a worker
    thread, so the write is first tried right on the event loop with no busy wait; only
    when another connection holds the write lock does it move to a worker thread that
    waits up to the busy timeout.
    """

    def __init__(self, path: str, busy_timeout_s: float) -> None:
        self._path = path
        self._timeout_ms = round(busy_timeout_s * 1000)
        self._conn: sqlite3.Connection | None = None
        self._lock = anyio.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            # Opened with the busy timeout so that the pragmas wait for a lock; each
            # write sets its own timeout (see `write`).
            conn = sqlite3.connect(
                self._path,
                isolation_level=None,
                check_same_thread=False,
                timeout=self._timeout_ms / 1000,
            )
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=0")
            self._conn = conn
        return self._conn

    def _write(self, batch: WriteBatch, busy_timeout_ms: int) -> None:
        conn = self._connection()
        conn.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        steps = fold(
            (((u.execution_id, u.step_id), u.values) for u in batch.steps), STEP_COLUMNS
        )
        executions = fold(
            (((u.execution_id,), u.values) for u in batch.executions), EXECUTION_COLUMNS
        )
        execution_rows = _sqlite_rows(executions, EXECUTION_COLUMNS)
        for row, values in zip(execution_rows, executions.values(), strict=True):
            status = values.get("status")
            row["final"] = (
                status is not None and ExecutionStatus(_plain(status)).is_final
            )
        conn.execute("BEGIN IMMEDIATE")
        try:
            if steps:
                conn.executemany(_SQLITE_STEP_UPDATE, _sqlite_rows(steps, STEP_COLUMNS))
            if execution_rows:
                conn.executemany(_SQLITE_EXECUTION_UPDATE, execution_rows)
            if batch.events:
                conn.executemany(
                    _SQLITE_EVENT_INSERT,
                    [
                        (
                            e.execution_id,
                            e.tenant_id,
                            e.seq,
                            e.type.value,
                            e.step_id,
                            e.agent_id,
                            e.attempt,
                            _sqlite_value("at", e.at),
                            _json(e.data),
                        )
                        for e in batch.events
                    ],
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    async def write(self, batch: WriteBatch) -> None:
        """Apply the batch in one transaction."""
        async with self._lock:
            try:
                self._write(batch, 0)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._write, batch, self._timeout_ms)

    async def aclose(self) -> None:
        """Close the connection."""
        async with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
