"""Listening for events other processes store (PostgreSQL LISTEN/NOTIFY)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio

from .batches import NOTIFY_CHANNEL
from .runs import WORK_CHANNEL

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine

    from anyio.abc import TaskStatus

    from .database import Database

log = logging.getLogger("agent_orchestrator.store")
RECONNECT_S = 1.0


async def listen_for_events(
    database: Database,
    on_event: Callable[[str, int], Awaitable[None]],
    *,
    on_work: Callable[[], None] | None = None,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Call `on_event(execution_id, last_seq)` for every batch of events any process
    stores, and `on_work()` whenever work to claim is announced, until cancelled;
    reconnects when the connection drops. Nothing on SQLite (a single process)."""
    if database.is_sqlite:
        task_status.started()
        await anyio.sleep_forever()
    dsn = database.url.set(drivername="postgresql").render_as_string(
        hide_password=False
    )
    send, receive = anyio.create_memory_object_stream[tuple[str, int]](10_000)

    def heard(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
        execution_id, _, seq = payload.rpartition(":")
        try:
            send.send_nowait((execution_id, int(seq)))
        except (anyio.WouldBlock, ValueError):
            pass  # followers read the store when idle; nothing is lost

    async def deliver() -> None:
        async for execution_id, seq in receive:
            try:
                await on_event(execution_id, seq)
            except Exception:
                log.warning("could not relay events of %s", execution_id, exc_info=True)

    def work(_conn: Any, _pid: int, _channel: str, _payload: str) -> None:
        if on_work is not None:
            on_work()

    with send, receive:
        await _listen(
            dsn,
            {NOTIFY_CHANNEL: heard, WORK_CHANNEL: work},
            deliver,
            task_status,
            # Work announced while the connection was down was not heard.
            on_connect=on_work,
        )


async def _listen(
    dsn: str,
    listeners: dict[str, Any],
    deliver: Callable[[], Coroutine[Any, Any, None]],
    task_status: TaskStatus[None],
    *,
    on_connect: Callable[[], None] | None,
) -> None:
    import asyncpg

    started = False
    async with anyio.create_task_group() as tg:
        tg.start_soon(deliver)
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(dsn)
                for channel, heard in listeners.items():
                    await conn.add_listener(channel, heard)
                if on_connect is not None:
                    on_connect()
                if not started:
                    started = True
                    task_status.started()
                # asyncpg has no "closed" event to wait on; look once a second.
                while not conn.is_closed():  # noqa: ASYNC110
                    await anyio.sleep(RECONNECT_S)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("event listener lost its connection: %s", exc)
            finally:
                if conn is not None and not conn.is_closed():
                    with anyio.CancelScope(shield=True):
                        await conn.close()
            if not started:
                started = True
                task_status.started()
            await anyio.sleep(RECONNECT_S)
