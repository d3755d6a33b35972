"""The database-only use cases: API keys, the audit log and metrics."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..schema.feeds import MetricsFeed
from ..security.api_keys import ApiKeyService
from ..service.access import Access
from ..service.api_keys import ApiKeys
from ..service.audit import AuditLog
from ..service.container import AdminServices
from ..service.metrics import Metrics
from ..store.api_keys import ApiKeyStore
from ..store.audit import AuditStore
from ..store.database import Database, create_database
from ..store.metrics import MetricsQueries

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from ..config import Settings


@dataclass(frozen=True, slots=True)
class AdminParts:
    """The database-only parts both containers share."""

    access: Access
    api_keys: ApiKeys
    audit: AuditLog
    metrics: Metrics


def admin_parts(settings: Settings, database: Database) -> AdminParts:
    access = Access(
        AuditStore(database),
        rbac=settings.agent_rbac_enabled,
        audit_enabled=settings.agent_audit_enabled,
    )
    key_store = ApiKeyStore(database)
    return AdminParts(
        access=access,
        api_keys=ApiKeys(access, ApiKeyService(key_store), key_store),
        audit=AuditLog(access, AuditStore(database)),
        metrics=Metrics(
            access,
            MetricsFeed(MetricsQueries(database), settings.agent_metrics_interval_s),
        ),
    )


@asynccontextmanager
async def open_admin_services(settings: Settings) -> AsyncIterator[AdminServices]:
    """Open the database and the use cases that need nothing else (API keys, the
    audit log, metrics): quick to start, for the CLI's admin commands.

    Example::

        async with open_admin_services(settings) as services:
            record, key = await services.api_keys.create(
                Caller.cli("acme"), name="ci", role=Role.OPERATOR
            )
    """
    async with create_database(settings.database_url) as database:
        admin = admin_parts(settings, database)
        yield AdminServices(
            settings=settings,
            database=database,
            access=admin.access,
            api_keys=admin.api_keys,
            audit=admin.audit,
            metrics=admin.metrics,
        )
