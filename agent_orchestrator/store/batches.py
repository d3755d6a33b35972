"""The engine's hot path: a `WriteBatch` in one transaction, through the same engines
and pools as every other write.

The statements come from the tables in `models`: a batch may change the columns marked
as run state there, and its values are converted by those columns' types, as any other
SQLAlchemy write converts them. What differs is only how many round trips a batch costs
(SQLAlchemy's per-statement work would cost more than the database's on no-op steps):

* SQLite: the writer engine's one connection, lent to one write at a time like for any
  other write (`database.WriterConnection`), runs BEGIN IMMEDIATE, one executemany per
  statement shape and COMMIT in a single call on the thread aiosqlite keeps for that
  connection: one hop per batch, not one per statement, and no I/O on the event loop.
  The process has one writer, so batches queue behind other writes instead of meeting
  them as "database is locked".
* PostgreSQL: one statement on a connection of the pool. Data-modifying CTEs update
  the steps and executions and insert the events from ``unnest``-ed arrays, and
  announce the events with ``pg_notify``; a single statement is atomic, so the batch
  needs no BEGIN/COMMIT round trips.

Updates to the same row within a batch are folded first, in order, so each row is
updated once (PostgreSQL's UPDATE ... FROM applies only one matching source row). A
final execution status also clears the execution's lease.

A batch the database refuses for its data (SQLSTATE class 22 on PostgreSQL, text that
cannot be encoded, NaN in JSON) raises `NotStorable`: writing it again cannot succeed,
unlike a write cut off by a lost connection.
"""

from __future__ import annotations

import threading
from functools import partial
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import anyio
from sqlalchemy import bindparam, insert, null, update

from ..core.enums import ExecutionStatus, StepStatus
from ..core.errors import NotStorable
from .models import (
    ApprovalRow,
    ExecutionEventRow,
    ExecutionRow,
    StepRunRow,
    run_state_columns,
    table_of,
)

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from sqlalchemy import Column, Table
    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
    from sqlalchemy.pool import PoolProxiedConnection
    from sqlalchemy.sql.compiler import SQLCompiler
    from sqlalchemy.sql.expression import ClauseElement

    from ..core.approvals import ApprovalRequest
    from ..core.protocols import ExecutionEvent, NewStepRun, WriteBatch
    from .database import WriterConnection

steps = table_of(StepRunRow)
executions = table_of(ExecutionRow)
events = table_of(ExecutionEventRow)
approvals = table_of(ApprovalRow)

STEP_KEY = (steps.c.execution_id, steps.c.step_id)
EXECUTION_KEY = (executions.c.id,)
#: What a step update may set (`core.protocols.StepUpdate`), from the model.
STEP_COLUMNS = run_state_columns(steps)
#: What an execution update may set (`core.protocols.ExecutionUpdate`), from the model.
EXECUTION_COLUMNS = run_state_columns(executions)
#: Cleared together with a final execution status.
LEASE_COLUMNS = (executions.c.lease_owner, executions.c.lease_expires_at)
#: The columns an event row is inserted with (all but its generated id); an
#: `ExecutionEvent` has an attribute of each name.
EVENT_COLUMNS = tuple(c for c in events.columns if not c.primary_key)
#: The columns an approval request is inserted with (its decision comes later).
APPROVAL_COLUMNS = tuple(
    approvals.c[name]
    for name in (
        "id",
        "tenant_id",
        "execution_id",
        "step_id",
        "title",
        "details",
        "approver_role",
        "requested_by",
        "created_at",
        "expires_at",
        "status",
        "notify",
    )
)


def approval_values(request: ApprovalRequest) -> list[Any]:
    """An approval request's values in `APPROVAL_COLUMNS` order (unconverted)."""
    return [
        request.id,
        request.tenant_id,
        request.execution_id,
        request.step_id,
        request.title,
        request.details,
        request.approver_role.value,
        request.requested_by,
        request.created_at,
        request.expires_at,
        "PENDING",
        list(request.notify),
    ]


#: Events stored on PostgreSQL are announced here as ``<execution id>:<last seq>``
#: (NOTIFY is transactional: listeners hear of them only once they are committed).
NOTIFY_CHANNEL = "agent_orchestrator_events"

#: The columns a new step run (`core.protocols.NewStepRun`) is inserted with.
NEW_STEP_SQL_COLUMNS = (
    "execution_id, tenant_id, step_id, agent_id, position, status, attempts"
)
_PG_NEW_STEPS = f"""
INSERT INTO {steps.name} ({NEW_STEP_SQL_COLUMNS})
SELECT v.*, 0 FROM unnest($1::varchar[], $2::varchar[], $3::varchar[],
  $4::varchar[], $5::integer[], $6::varchar[]) AS v
ON CONFLICT (execution_id, step_id) DO NOTHING
"""


def _new_step_row(new: NewStepRun) -> list[Any]:
    return [
        new.execution_id,
        new.tenant_id,
        new.step_id,
        new.agent_id,
        new.position,
        StepStatus.PENDING.value,
    ]


def _new_step_columns(news: Sequence[NewStepRun]) -> list[list[Any]]:
    return [list(column) for column in zip(*map(_new_step_row, news), strict=True)]


Row: TypeAlias = "Mapping[str, Any]"
Key = tuple[str, ...]


def fold(
    updates: Iterable[tuple[Key, Mapping[str, Any]]], columns: Sequence[Column[Any]]
) -> dict[Key, Row]:
    """Merge successive updates of the same row (later values win), keeping order.

    Raises:
        ValueError: An update names a column outside `columns`.
    """
    allowed = frozenset(c.key for c in columns)
    folded: dict[Key, Row] = {}
    for key, values in updates:
        if not allowed.issuperset(values):
            unknown = sorted(set(values) - allowed)
            raise ValueError(f"cannot update column(s) {unknown}")
        earlier = folded.get(key)
        # The caller's mapping is kept as it is unless a later update merges into it.
        folded[key] = values if earlier is None else {**earlier, **values}
    return folded


def refused(exc: BaseException) -> NotStorable:
    """The `NotStorable` for a driver's refusal of a batch's data."""
    return NotStorable(f"the database refused the data ({type(exc).__name__}: {exc})")


def _is_final(values: Mapping[str, Any]) -> bool:
    # A final status, or a parked one (WAITING_APPROVAL): either ends the lease.
    status = values.get("status")
    return status is not None and not ExecutionStatus(status).is_leased


def _fold_batch(batch: WriteBatch) -> tuple[dict[Key, Row], dict[Key, Row]]:
    step_rows = fold(
        (((u.execution_id, u.step_id), u.values) for u in batch.steps), STEP_COLUMNS
    )
    execution_rows = fold(
        (((u.execution_id,), u.values) for u in batch.executions), EXECUTION_COLUMNS
    )
    return step_rows, execution_rows


def converter(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """What turns a Python value into the driver's value for `column`: the column
    type's own bind processing (JSON text, SQLite's datetime text, ...), or None when
    the driver takes the value as it is (the engine's status enums are `str`).

    None stays SQL NULL (not JSON ``null``).
    """
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None

    def convert(value: Any) -> Any:
        return None if value is None else process(value)

    return convert


class _Converters:
    """The converters of the columns a batch writes, for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.of = {
            c: converter(c, dialect)
            for c in (
                *STEP_COLUMNS,
                *EXECUTION_COLUMNS,
                *EVENT_COLUMNS,
                *APPROVAL_COLUMNS,
            )
        }
        self._event_values = attrgetter(*(c.key for c in EVENT_COLUMNS))
        self._event = [
            (i, convert)
            for i, c in enumerate(EVENT_COLUMNS)
            if (convert := self.of[c]) is not None
        ]

    def event_row(self, event: ExecutionEvent) -> list[Any]:
        """An event's values in `EVENT_COLUMNS` order."""
        row = list(self._event_values(event))
        for i, convert in self._event:
            row[i] = convert(row[i])
        return row

    def approval_row(self, request: ApprovalRequest) -> list[Any]:
        """An approval request's values in `APPROVAL_COLUMNS` order, converted."""
        row = approval_values(request)
        for i, column in enumerate(APPROVAL_COLUMNS):
            convert = self.of[column]
            if convert is not None and row[i] is not None:
                row[i] = convert(row[i])
        return row


# --- SQLite ------------------------------------------------------------------------


class _Update:
    """A compiled SQLite UPDATE of some columns of one row, found by its key."""

    __slots__ = ("columns", "sql")

    def __init__(
        self, sql: str, columns: list[tuple[str, Callable[[Any], Any] | None]]
    ) -> None:
        self.sql = sql
        #: The columns it sets, in parameter order, with their converters; the key's
        #: parameters follow them.
        self.columns = columns

    def params(self, key: Key, values: Mapping[str, Any]) -> list[Any]:
        """One row of parameters."""
        row = []
        for name, convert in self.columns:
            value = values[name]
            row.append(value if convert is None else convert(value))
        row += key
        return row


class SqliteBatches:
    """Writes batches through the writer engine's one connection (see the module
    docstring); implements `write` for `SqlRunStore`."""

    def __init__(self, writer: WriterConnection) -> None:
        self._writer = writer
        self._dialect = writer.engine.dialect
        self._convert = _Converters(self._dialect)
        self._updates: dict[tuple[str, tuple[str, ...], bool], _Update] = {}
        self._insert = self._compile(
            insert(events).values({c.key: bindparam(c.key) for c in EVENT_COLUMNS}),
            [c.key for c in EVENT_COLUMNS],
        )
        self._insert_approval = self._compile(
            insert(approvals).values(
                {c.key: bindparam(c.key) for c in APPROVAL_COLUMNS}
            ),
            [c.key for c in APPROVAL_COLUMNS],
        )
        self._raw: tuple[AsyncConnection, PoolProxiedConnection] | None = None

    def _compile(self, statement: ClauseElement, order: list[str]) -> str:
        compiled = cast("SQLCompiler", statement.compile(dialect=self._dialect))
        found = list(compiled.positiontup or ())
        if found != order:
            # Rows are laid out in this order; SQLAlchemy compiles the SET parameters
            # in table order, then those of the WHERE clause.
            raise RuntimeError(f"unexpected parameter order {found} for {compiled}")
        return str(compiled)

    def _update(
        self,
        table: Table,
        key: tuple[Column[Any], ...],
        names: tuple[str, ...],
        final: bool,
    ) -> _Update:
        """UPDATE of the columns `names` of the row with `key` (compiled once); a
        `final` one also clears the lease."""
        found = self._updates.get((table.name, names, final))
        if found is None:
            columns = [c for c in table.columns if c.key in names]
            statement = (
                update(table)
                .where(*(k == bindparam(f"key_{k.key}") for k in key))
                .values({c.key: bindparam(c.key) for c in columns})
            )
            if final:
                statement = statement.values({c.key: null() for c in LEASE_COLUMNS})
            order = [c.key for c in columns] + [f"key_{k.key}" for k in key]
            found = _Update(
                self._compile(statement, order),
                [(c.key, self._convert.of[c]) for c in columns],
            )
            self._updates[(table.name, names, final)] = found
        return found

    def _grouped(
        self,
        table: Table,
        key: tuple[Column[Any], ...],
        rows: Mapping[Key, Row],
        final_clears_lease: bool = False,
    ) -> list[tuple[str, list[list[Any]]]]:
        """Rows grouped by the columns they set: one statement and executemany each."""
        groups: dict[_Update, list[list[Any]]] = {}
        for row_key, values in rows.items():
            final = final_clears_lease and _is_final(values)
            statement = self._update(table, key, tuple(values), final)
            params = statement.params(row_key, values)
            group = groups.get(statement)
            if group is None:
                groups[statement] = [params]
            else:
                group.append(params)
        return [(s.sql, params) for s, params in groups.items()]

    def plan(self, batch: WriteBatch) -> list[tuple[str, list[list[Any]]]]:
        """The statements of a batch with their rows of parameters, in order."""
        step_rows, execution_rows = _fold_batch(batch)
        planned: list[tuple[str, list[list[Any]]]] = []
        if batch.new_steps:
            planned.append(
                (
                    f"INSERT OR IGNORE INTO {steps.name} ({NEW_STEP_SQL_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, 0)",
                    [_new_step_row(n) for n in batch.new_steps],
                )
            )
        planned += self._grouped(steps, STEP_KEY, step_rows)
        planned += self._grouped(executions, EXECUTION_KEY, execution_rows, True)
        if batch.events:
            event_row = self._convert.event_row
            planned.append((self._insert, [event_row(e) for e in batch.events]))
        if batch.approvals:
            approval_row = self._convert.approval_row
            planned.append(
                (self._insert_approval, [approval_row(a) for a in batch.approvals])
            )
        return planned

    async def write(self, batch: WriteBatch) -> None:
        """Apply the batch in one transaction (all of it or nothing).

        Raises:
            NotStorable: The data cannot be stored; nothing of the batch is.
            sqlite3.Error: From the driver; nothing of the batch is stored.
        """
        import sqlite3

        planned = self.plan(batch)
        async with self._writer.lend() as conn:
            raw = self._raw
            # A pooled connection that reconnected has a new raw connection, and the
            # old one is no longer valid; asking for it costs a trip through a greenlet.
            if raw is None or raw[0] is not conn or not raw[1].is_valid:
                raw = self._raw = (conn, await conn.get_raw_connection())
            driver: Any = raw[1].driver_connection
            abandoned = threading.Event()

            def abandon() -> None:
                abandoned.set()
                driver._conn.interrupt()

            try:
                # Bounded: the engine's group commit awaits this shielded, holding
                # the writer; a batch that cannot finish fails instead of stalling
                # every later write.
                await self._writer.run_on_thread(
                    conn,
                    partial(
                        _on_connection_thread, driver, _apply, (planned, abandoned)
                    ),
                    abandon,
                )
            except (sqlite3.DataError, UnicodeEncodeError) as exc:
                raise refused(exc) from exc

    async def aclose(self) -> None:
        """Nothing to close: the connection is the `WriterConnection`'s."""


def _apply(
    conn: sqlite3.Connection,
    work: tuple[list[tuple[str, list[list[Any]]]], threading.Event],
) -> None:
    """Run on the connection's own thread: the whole batch, committed or rolled back
    (also when the caller has given up waiting, `abandoned`, before the commit)."""
    planned, abandoned = work
    # IMMEDIATE takes the write lock first, waiting out other processes up to the
    # connection's busy timeout; a deferred BEGIN could fail with "database is locked"
    # at its first write without waiting.
    conn.execute("BEGIN IMMEDIATE")
    try:
        for sql, rows in planned:
            conn.executemany(sql, rows)
        if abandoned.is_set():
            raise TimeoutError("the batch was abandoned before its commit")
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


async def _on_connection_thread(
    driver: Any, fn: Callable[[sqlite3.Connection, Any], None], argument: Any
) -> None:
    """Call `fn(sqlite3_connection, argument)` on the thread of a pooled aiosqlite
    connection, in one hop.

    aiosqlite runs every connection on its own thread but has no public way to run a
    function there; its own methods do it with ``_execute``, and SQLAlchemy's aiosqlite
    dialect reaches into the same internals (``_tx``, ``_conn``) for what aiosqlite
    lacks. The test suite exercises this on every batch.
    """
    await driver._execute(fn, driver._conn, argument)


# --- PostgreSQL ---------------------------------------------------------------------


def _pg_statement(dialect: Dialect) -> str:
    """The batch statement: its parameters are one array per column of each row set."""
    quote = dialect.identifier_preparer.quote
    counter = 0

    def array(column: Column[Any] | None = None) -> str:
        nonlocal counter
        counter += 1
        kind = "BOOLEAN" if column is None else column.type.compile(dialect=dialect)
        return f"${counter}::{kind}[]"

    def source(
        key: tuple[Column[Any], ...], columns: tuple[Column[Any], ...], *extra: str
    ) -> tuple[str, str]:
        params = [array(k) for k in key] + [array() for _ in extra]
        names = [f"key_{k.name}" for k in key] + list(extra)
        for column in columns:
            params += [array(), array(column)]
            names += [f"set_{column.name}", quote(column.name)]
        return ", ".join(params), ", ".join(names)

    def sets(alias: str, columns: tuple[Column[Any], ...]) -> str:
        return ", ".join(
            f"{quote(c.name)} = CASE WHEN v.set_{c.name} THEN v.{quote(c.name)} "
            f"ELSE {alias}.{quote(c.name)} END"
            for c in columns
        )

    def match(alias: str, key: tuple[Column[Any], ...]) -> str:
        return " AND ".join(f"{alias}.{quote(k.name)} = v.key_{k.name}" for k in key)

    step_params, step_names = source(STEP_KEY, STEP_COLUMNS)
    exec_params, exec_names = source(EXECUTION_KEY, EXECUTION_COLUMNS, "final")
    event_params = [array(c) for c in EVENT_COLUMNS]
    event_names = [quote(c.name) for c in EVENT_COLUMNS]
    approval_params = [array(c) for c in APPROVAL_COLUMNS]
    approval_names = [quote(c.name) for c in APPROVAL_COLUMNS]
    seq = EVENT_COLUMNS.index(events.c.seq)
    execution_id = EVENT_COLUMNS.index(events.c.execution_id)
    lease = ", ".join(
        f"{quote(c.name)} = CASE WHEN v.final THEN NULL ELSE t.{quote(c.name)} END"
        for c in LEASE_COLUMNS
    )
    return f"""
WITH sv AS (
  SELECT * FROM unnest({step_params}) AS v({step_names})
), s AS (
  UPDATE {quote(steps.name)} r SET {sets("r", STEP_COLUMNS)}
  FROM sv v WHERE {match("r", STEP_KEY)}
  RETURNING 1
), xv AS (
  SELECT * FROM unnest({exec_params}) AS v({exec_names})
), x AS (
  UPDATE {quote(executions.name)} t SET {sets("t", EXECUTION_COLUMNS)}, {lease}
  FROM xv v WHERE {match("t", EXECUTION_KEY)}
  RETURNING 1
), e AS (
  INSERT INTO {quote(events.name)} ({", ".join(event_names)})
  SELECT * FROM unnest({", ".join(event_params)})
  RETURNING 1
), a AS (
  INSERT INTO {quote(approvals.name)} ({", ".join(approval_names)})
  SELECT * FROM unnest({", ".join(approval_params)})
  RETURNING 1
), nt AS (
  SELECT pg_notify('{NOTIFY_CHANNEL}', ne.execution_id || ':' || max(ne.seq)::text)
  FROM unnest({event_params[execution_id]}, {event_params[seq]})
    AS ne(execution_id, seq)
  GROUP BY ne.execution_id
)
SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM x), (SELECT count(*) FROM e),
       (SELECT count(*) FROM a), (SELECT count(*) FROM nt)
"""


class PostgresBatches:
    """Writes batches with one statement each on a connection of the engine's pool
    (see the module docstring); implements `write` for `SqlRunStore`.

    The connection is checked out at the first batch and kept for the next ones (the
    pool's pre-ping would otherwise add a round trip to every batch); it goes back to
    the pool on `aclose`, and is dropped from the pool when a batch fails other than
    by the server refusing it. While kept it plans the statement once, generically:
    custom plans, which PostgreSQL otherwise tries first, replan it on every call.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.statement = _pg_statement(engine.dialect)
        self._convert = _Converters(engine.dialect)
        self._conn: AsyncConnection | None = None
        self._driver: Any = None
        self._lock = anyio.Lock()

    def arguments(self, batch: WriteBatch) -> list[list[Any]]:
        """The array arguments of `statement` for a batch."""
        step_rows, execution_rows = _fold_batch(batch)
        return [
            *self._columns(step_rows, STEP_KEY, STEP_COLUMNS),
            *self._columns(execution_rows, EXECUTION_KEY, EXECUTION_COLUMNS, True),
            *self._event_columns(batch.events),
            *self._approval_columns(batch.approvals),
        ]

    def _columns(
        self,
        rows: Mapping[Key, Row],
        key: tuple[Column[Any], ...],
        columns: tuple[Column[Any], ...],
        with_final: bool = False,
    ) -> list[list[Any]]:
        keys: list[list[Any]] = [[] for _ in key]
        finals: list[Any] = []
        values: list[list[Any]] = [[] for _ in range(2 * len(columns))]
        converters = [(c.key, self._convert.of[c]) for c in columns]
        for row_key, row in rows.items():
            for i, part in enumerate(row_key):
                keys[i].append(part)
            if with_final:
                finals.append(_is_final(row))
            for i, (name, convert) in enumerate(converters):
                present = name in row
                value = row.get(name)
                values[2 * i].append(present)
                values[2 * i + 1].append(
                    value if convert is None or not present else convert(value)
                )
        return [*keys, *([finals] if with_final else []), *values]

    def _event_columns(self, stored: Sequence[ExecutionEvent]) -> list[list[Any]]:
        columns: list[list[Any]] = [[] for _ in EVENT_COLUMNS]
        for event in stored:
            for column, value in zip(
                columns, self._convert.event_row(event), strict=True
            ):
                column.append(value)
        return columns

    def _approval_columns(self, requests: Sequence[ApprovalRequest]) -> list[list[Any]]:
        columns: list[list[Any]] = [[] for _ in APPROVAL_COLUMNS]
        for request in requests:
            for column, value in zip(
                columns, self._convert.approval_row(request), strict=True
            ):
                column.append(value)
        return columns

    async def write(self, batch: WriteBatch) -> None:
        """Apply the batch atomically (one statement).

        Raises:
            NotStorable: The data cannot be stored; nothing of the batch is.
            asyncpg.PostgresError: From the driver; nothing of the batch is stored.
            OSError: The connection broke (it is dropped; the next batch takes another).
        """
        import asyncpg

        arguments = self.arguments(batch)
        async with self._lock:
            if self._conn is None:
                await self._check_out()
            try:
                if batch.new_steps:
                    # Rows the batch then updates: a statement of their own first,
                    # as the batch statement's CTEs would not see rows inserted
                    # beside them.
                    async with self._driver.transaction():
                        await self._driver.execute(
                            _PG_NEW_STEPS, *_new_step_columns(batch.new_steps)
                        )
                        await self._driver.fetchrow(self.statement, *arguments)
                else:
                    await self._driver.fetchrow(self.statement, *arguments)
            except asyncpg.DataError as exc:
                raise refused(exc) from exc  # the connection is fine
            except asyncpg.PostgresError:
                raise  # the server refused the batch; the connection is fine
            except BaseException as exc:
                # Broken, or cut off mid-statement: not to be used again.
                await self._drop()
                if isinstance(exc, UnicodeEncodeError):
                    raise refused(exc) from exc
                raise

    async def _check_out(self) -> None:
        conn = await self._engine.connect()
        try:
            driver: Any = (await conn.get_raw_connection()).driver_connection
            await driver.execute("SET plan_cache_mode = force_generic_plan")
        except BaseException:
            await _discard(conn)
            raise
        self._conn, self._driver = conn, driver

    async def _drop(self) -> None:
        conn, self._conn, self._driver = self._conn, None, None
        if conn is not None:
            await _discard(conn)

    async def aclose(self) -> None:
        """Give the connection back to the pool, reset for its other users."""
        async with self._lock:
            conn, driver = self._conn, self._driver
            self._conn = self._driver = None
            if conn is None:
                return
            try:
                await driver.execute("RESET plan_cache_mode")
            except BaseException:
                await _discard(conn)
                raise
            await conn.close()


async def _discard(conn: AsyncConnection) -> None:
    """Close a pooled connection for good (the pool opens a new one in its place)."""
    with anyio.CancelScope(shield=True):
        await conn.invalidate()
        await conn.close()
