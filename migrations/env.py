"""Alembic environment: one history for SQLite and PostgreSQL, run on the async
drivers."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import create_async_engine

from agent_orchestrator.store.database import normalise_url
from agent_orchestrator.store.metadata import target_metadata

config = context.config


def _url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    if not url:
        url = "sqlite:///agent_orchestrator.db"
    return normalise_url(url).render_as_string(hide_password=False)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
            await connection.commit()
    finally:
        await engine.dispose()


def run() -> None:
    """Run migrations on the configured database (a connection handed in wins)."""
    connection = config.attributes.get("connection")
    if isinstance(connection, Engine):  # pytest-alembic may hand over an engine
        with connection.begin() as conn:
            _configure(conn)
        return
    if connection is not None:
        _configure(connection)
        return
    if context.is_offline_mode():
        context.configure(
            url=_url(), target_metadata=target_metadata, literal_binds=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online())


run()
