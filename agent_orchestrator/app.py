"""The composition root: `open_services` wires concrete parts together and
`create_app(settings)` builds the Starlette application around them."""

from __future__ import annotations

import gc
import logging
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from . import __version__
from .agents.builtin import create_builtin_agents
from .agents.registry import AgentRegistry, create_registry
from .agents.resources import AgentResources
from .core.errors import Problem, ValidationFailed
from .core.records import AuditEntry
from .core.templates import WorkflowTemplate, load_templates
from .core.validation import validate_workflow
from .engine.bus import EventBus, Fanout
from .engine.hub import EventHub
from .engine.runner import Runner
from .engine.service import WorkflowService
from .engine.settings import EngineSettings
from .observability.logging import configure_logging
from .observability.prometheus import CONTENT_TYPE, PrometheusMetrics
from .observability.sentry import configure_sentry
from .planner.factory import open_planner
from .resolvers.files import UPLOAD_LIMIT_BYTES
from .resolvers.rest import rest_routes
from .resolvers.schema import create_schema
from .resolvers.view import GraphQLView
from .schema.feeds import EventPayloads, MetricsFeed
from .schema.services import Services
from .security.api_keys import ApiKeyService
from .security.middleware import ApiGate
from .security.ratelimit import RateLimiter
from .store.api_keys import ApiKeyStore
from .store.artifacts import SqlArtifactStore
from .store.audit import AuditStore
from .store.database import create_database
from .store.executions import ExecutionQueries
from .store.ledger import SqlLedgerStore
from .store.metrics import MetricsQueries
from .store.notify import listen_for_events
from .store.outbox import SqlOutbox
from .store.runs import SqlRunStore
from .store.workflows import WorkflowStore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from starlette.requests import Request
    from starlette.types import Scope

    from .config import Settings

log = logging.getLogger("agent_orchestrator")

__all__ = ["Services", "create_app", "open_services"]


def engine_settings(settings: Settings, *, resume: bool = True) -> EngineSettings:
    """The engine's knobs from the service settings."""
    return EngineSettings(
        max_retries=settings.agent_max_retries,
        timeout_ms=settings.agent_timeout_ms,
        retry_initial_ms=settings.agent_retry_initial_ms,
        retry_max_ms=settings.agent_retry_max_ms,
        lease_s=settings.agent_lease_seconds,
        max_concurrent_executions=settings.agent_max_concurrent_executions,
        resume=resume,
    )


def create_agent_registry(
    settings: Settings, services: dict[str, Any] | None = None
) -> AgentRegistry:
    """Built-in agents plus entry-point and ``AGENT_PLUGINS`` agents."""
    resources = AgentResources(
        files_dir=settings.agent_files_dir.resolve(), services=services or {}
    )
    return create_registry(
        resources,
        builtins=create_builtin_agents(resources),
        plugins=settings.agent_plugins,
    )


def load_checked_templates(registry: AgentRegistry) -> dict[str, WorkflowTemplate]:
    """The shipped templates, each validated against the registry.

    Raises:
        ValidationFailed: A template is broken; paths start with its file name.
    """
    templates = load_templates()
    problems: list[Problem] = []
    for template in templates.values():
        try:
            validate_workflow(template.graph, registry)
        except ValidationFailed as exc:
            problems.extend(
                Problem(f"templates/{template.id}.json: {p.path}", p.message, p.code)
                for p in exc.problems
            )
    if problems:
        raise ValidationFailed(problems)
    return templates


@asynccontextmanager
async def open_services(
    settings: Settings, *, resume: bool | None = None
) -> AsyncIterator[Services]:
    """Open the database, the registry, the templates and the runner.

    Args:
        settings: The configuration.
        resume: Whether this process takes over unfinished executions nobody holds
            (default: when ``AGENT_WORKER_ENABLED``).
    """
    configure_logging(settings.log_level)
    if resume is None:
        resume = settings.agent_worker_enabled
    async with AsyncExitStack() as stack:
        database = await stack.enter_async_context(
            create_database(settings.database_url)
        )
        books = {
            "ledger": SqlLedgerStore(database),
            "artifacts": SqlArtifactStore(database),
            "outbox": SqlOutbox(database),
        }
        registry = create_agent_registry(
            settings, {"database": database, "settings": settings, **books}
        )
        templates = load_checked_templates(registry)
        key = settings.openai_api_key
        planner = await stack.enter_async_context(
            open_planner(
                registry,
                templates,
                openai_api_key=key.get_secret_value() if key else None,
                openai_base_url=settings.openai_base_url,
                openai_model=settings.openai_model,
                max_retries=settings.agent_max_retries,
                timeout_ms=settings.agent_timeout_ms,
                fallback=settings.agent_planner_fallback,
            )
        )
        runs = SqlRunStore(database)
        bus = EventBus()
        prometheus = PrometheusMetrics()
        runner = await stack.enter_async_context(
            Runner(
                runs,
                registry,
                Fanout(bus, prometheus),
                engine_settings(settings, resume=resume),
            )
        )
        key_store = ApiKeyStore(database)
        metrics = MetricsQueries(database)
        hub = await stack.enter_async_context(
            EventHub(runs, bus, runs_here=lambda id_: id_ in runner.active)
        )
        services = Services(
            settings=settings,
            database=database,
            registry=registry,
            templates=templates,
            bus=bus,
            hub=hub,
            runs=runs,
            runner=runner,
            workflows=WorkflowService(runner, registry, templates),
            api_keys=ApiKeyService(key_store),
            api_key_store=key_store,
            executions=ExecutionQueries(database),
            saved_workflows=WorkflowStore(database),
            audit=AuditStore(database),
            metrics=metrics,
            planner=planner,
        )
        services.extras.update(
            **books,
            prometheus=prometheus,
            event_payloads=EventPayloads(),
            metrics_feed=MetricsFeed(metrics, settings.agent_metrics_interval_s),
            audit_failure=_audit_failure(services),
            rate_limiter=RateLimiter(
                settings.agent_rate_limit, settings.agent_rate_limit_storage
            ),
        )
        async with anyio.create_task_group() as tg:
            await tg.start(listen_for_events, database, services.hub.remote_event)
            try:
                yield services
            finally:
                tg.cancel_scope.cancel()


def _audit_failure(services: Services) -> Any:
    async def record(scope_or_ws: Any, reason: str) -> None:
        if not services.settings.agent_audit_enabled:
            return
        scope: Scope = getattr(scope_or_ws, "scope", scope_or_ws)
        client = scope.get("client")
        try:
            await services.audit.record(
                AuditEntry(
                    tenant_id="-",
                    action="auth.failed",
                    result="denied",
                    details={
                        "reason": reason,
                        "path": scope.get("path"),
                        "transport": scope.get("type"),
                    },
                    ip_address=client[0] if client else None,
                    request_id=scope.get("state", {}).get("request_id"),
                )
            )
        except Exception:
            log.warning("could not record a failed authentication", exc_info=True)

    return record


def _is_public(scope: Scope) -> bool:
    path: str = scope["path"]
    if path in ("/health", "/metrics", "/workflows/metrics") or path.startswith(
        "/static/"
    ):
        return True
    if path == "/graphql" and scope["method"] == "GET":
        accept = dict(scope["headers"]).get(b"accept", b"").decode()
        return (
            "text/html" in accept
            and "query=" not in scope.get("query_string", b"").decode()
        )
    return False


def create_app(settings: Settings) -> Starlette:
    """The ASGI application; its lifespan owns every long-lived resource."""
    from .web.dashboard import dashboard_html
    from .web.graphiql import STATIC_DIR, local_graphiql_html

    configure_sentry(settings.sentry_dsn, environment=settings.agent_default_region)
    if not settings.agent_api_key_enabled:
        log.warning(
            "AGENT_API_KEY_ENABLED is false: every request acts as an admin of tenant "
            "'default'. Use this only on your own machine."
        )
    schema = create_schema(
        introspection=settings.agent_graphql_introspection,
        suggestions=settings.agent_graphql_suggestions,
    )
    holder: dict[str, Services] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            app.state.services = services
            holder["services"] = services
            view.services = services
            log.info(
                "agent orchestrator %s ready on %s",
                __version__,
                services.database.dialect,
            )
            # What start-up made lives as long as the process (some 200,000 objects):
            # the collector need not walk it on every full collection, each of which
            # otherwise paused requests for 100 ms and more.
            gc.collect()
            gc.freeze()
            try:
                yield
            finally:
                gc.unfreeze()

    view = GraphQLView(schema, settings, local_graphiql_html())

    async def health(request: Request) -> JSONResponse:
        services: Services = request.app.state.services
        try:
            version = await services.database.ping()
        except Exception as exc:
            log.warning("health check: database unreachable: %s", exc)
            return JSONResponse(
                {
                    "status": "unavailable",
                    "version": __version__,
                    "database": {"ok": False, "error": "database unreachable"},
                },
                status_code=503,
            )
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "database": {
                    "ok": True,
                    "dialect": services.database.dialect,
                    "version": version,
                },
                "executions_running": len(services.runner.active),
            }
        )

    async def prometheus(request: Request) -> Response:
        services: Services = request.app.state.services
        by_status = await services.executions.count_by_status()
        body = services.extras["prometheus"].exposition(
            by_status,
            len(services.runner.active),
            lambda: services.hub.statistics().followers,
        )
        return Response(body, media_type=CONTENT_TYPE)

    async def dashboard(request: Request) -> HTMLResponse:
        return HTMLResponse(dashboard_html())

    routes: Sequence[BaseRoute] = [
        # The busiest first: Starlette tries the routes in order.
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Route("/health", health),
        Route("/metrics", prometheus),
        Route("/workflows/metrics", dashboard),
        *rest_routes(),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    middleware = [
        Middleware(
            ApiGate,
            authenticate=lambda: holder["services"].api_keys.authenticate,
            public=_is_public,
            keys_enabled=settings.agent_api_key_enabled,
            on_failure=lambda: (
                holder["services"].extras.get("audit_failure") if holder else None
            ),
            limit=lambda: (
                holder["services"].extras["rate_limiter"].check if holder else None
            ),
            body_limits={"/api/v1/agent-orchestrator/files": UPLOAD_LIMIT_BYTES},
        ),
    ]
    if settings.agent_cors_origins:
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=settings.agent_cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["X-API-Key", "Content-Type"],
                allow_credentials=False,
            ),
        )
    return Starlette(routes=list(routes), middleware=middleware, lifespan=lifespan)
