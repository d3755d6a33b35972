"""What a command needs before it works: the settings, the master switch, a database
at the right schema revision, the agent registry.

Each piece is imported when a command asks for it, so that ``--help`` and
``list-agents`` start without loading the server, the ORM or the planner.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from .output import console, fail

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from ..agents.registry import AgentRegistry
    from ..config import Settings
    from ..observability.spans import Tracing
    from ..service.container import AdminServices, Services
    from ..store.migrate import Migration, SchemaStatus


def load_settings(database_url: str | None = None) -> Settings:
    """The settings (``--database-url`` overriding ``DATABASE_URL``); a wrong value
    ends the command with one line naming the variable."""
    from ..config import load_settings as load
    from ..core.errors import ConfigurationError

    overrides = {"database_url": database_url} if database_url else {}
    try:
        return load(**overrides)
    except ConfigurationError as exc:
        fail(exc)


def require_enabled(settings: Settings) -> None:
    """End the command (exit code 2) unless the master switch
    ``AGENT_ORCHESTRATOR_ENABLED`` lets workflows run."""
    from ..core.errors import ServiceDisabled
    from ..service.switch import DISABLED_MESSAGE

    if not settings.agent_orchestrator_enabled:
        fail(ServiceDisabled(DISABLED_MESSAGE))


def is_default_database(settings: Settings) -> bool:
    """True for the embedded SQLite file used when ``DATABASE_URL`` is not set."""
    from ..config import DEFAULT_DATABASE_URL

    return settings.database_url == DEFAULT_DATABASE_URL


async def ready_database(
    settings: Settings, *, migrate_default: bool = False
) -> SchemaStatus | Migration:
    """Check that the database can be used at this version's schema revision.

    Args:
        settings: The configuration.
        migrate_default: Create or upgrade the schema of the embedded default SQLite
            file (``DATABASE_URL`` unset) instead of refusing it.

    Raises:
        ConfigurationError: ``DATABASE_URL`` cannot be read or names another database.
        DatabaseUnavailable: The database cannot be reached or opened.
        SchemaMismatch: The schema is missing or at another revision.
    """
    from ..store.migrate import check_schema, migrate_async, schema_status

    if migrate_default and is_default_database(settings):
        status = await schema_status(settings.database_url)
        if status.up_to_date or not status.known:
            mismatch = status.mismatch()
            if mismatch is not None:
                raise mismatch
            return status
        done = await migrate_async(settings.database_url)
        console.print(f"Database {done.url}: {done.describe()}", highlight=False)
        return done
    return await check_schema(settings.database_url)


@asynccontextmanager
async def open_admin_services(settings: Settings) -> AsyncIterator[AdminServices]:
    """The use cases that need only the database (API keys, audit log, metrics), once
    the database is checked."""
    await ready_database(settings)
    # Imported once the database is known to be usable: a refusal comes at once.
    from ..wiring.admin import open_admin_services as open_admin

    async with open_admin(settings) as services:
        yield services


@asynccontextmanager
async def open_checked_services(
    settings: Settings, *, resume: bool, tracing: Tracing | None = None
) -> AsyncIterator[Services]:
    """Every service (database, registry, planner, runner), once the database is
    checked; `tracing`: the spans of the executions it runs (None: none)."""
    await ready_database(settings)
    from ..wiring.services import open_services

    async with open_services(settings, resume=resume, tracing=tracing) as services:
        yield services


def agent_registry(settings: Settings) -> AgentRegistry:
    """Built-in agents plus entry-point and ``AGENT_PLUGINS`` agents, without the
    stores that only running agents need (what `list-agents` shows)."""
    from ..agents.builtin import create_agent_registry

    return create_agent_registry(settings)
