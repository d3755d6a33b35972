"""The composition root: `open_services` wires concrete parts together and
`create_app(settings)` builds the Starlette application around them."""

from __future__ import annotations

import gc
import logging
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from . import __version__
from .agents.builtin import create_agent_registry
from .agents.smtp import SmtpServer
from .core.clocks import ScaledClock, SchedulerClock, SystemClock
from .core.errors import Forbidden, Problem, ValidationFailed
from .core.templates import WorkflowTemplate, load_templates
from .core.validation import validate_workflow
from .engine.bus import EventBus, Fanout
from .engine.hub import EventHub
from .engine.runner import Runner
from .engine.settings import EngineSettings
from .observability.logging import configure_logging
from .observability.prometheus import CONTENT_TYPE, PrometheusMetrics
from .observability.requests import RequestLogFields
from .observability.sentry import configure_sentry
from .planner.factory import open_planner
from .resolvers.access import record_authentication_failure
from .resolvers.files import UPLOAD_LIMIT_BYTES
from .resolvers.rest import rest_routes
from .resolvers.schema import create_schema
from .resolvers.switch import disabled_routes
from .resolvers.view import GraphQLView
from .schema.feeds import MetricsFeed
from .security.api_keys import ApiKeyService
from .security.middleware import ApiGate
from .security.permissions import Permission, require
from .security.ratelimit import AuthFailures, RateLimiter
from .security.sockets import KeySockets
from .service.access import Access
from .service.api_keys import ApiKeys
from .service.approvals import Approvals
from .service.artifacts import Artifacts
from .service.audit import AuditLog
from .service.catalogue import Catalogue
from .service.container import AdminServices, Services
from .service.copilot import Copilot
from .service.executions import Executions
from .service.files import Files
from .service.metrics import Metrics
from .service.review import Review
from .service.schedules import Schedules
from .service.scheduling import Scheduler
from .service.starting import ExecutionStarter
from .service.switch import DISABLED_MESSAGE
from .service.workflows import SavedWorkflows
from .store.api_keys import ApiKeyStore
from .store.approvals import SqlApprovalStore
from .store.artifacts import SqlArtifactStore
from .store.audit import AuditStore
from .store.database import Database, create_database
from .store.executions import ExecutionQueries
from .store.ledger import SqlLedgerStore
from .store.metrics import MetricsQueries
from .store.notify import listen_for_events
from .store.outbox import SqlOutbox
from .store.runs import SqlRunStore
from .store.schedules import ScheduleStore
from .store.workflows import WorkflowStore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from starlette.requests import Request
    from starlette.types import Scope

    from .agents.registry import AgentRegistry
    from .config import Settings

log = logging.getLogger("agent_orchestrator")

__all__ = [
    "AdminServices",
    "Services",
    "create_app",
    "open_admin_services",
    "open_services",
]


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


def scheduler_clock(settings: Settings) -> SchedulerClock:
    """The clock schedules are counted with: the wall clock, or ``AGENT_TEST_CLOCK``'s
    (tests only)."""
    if settings.agent_test_clock:
        log.warning(
            "AGENT_TEST_CLOCK is set: schedules fire by a test clock (%s), not by the "
            "wall clock; unset it outside tests",
            settings.agent_test_clock,
        )
        return ScaledClock.parse(settings.agent_test_clock)
    return SystemClock()


@dataclass(frozen=True, slots=True)
class _Admin:
    """The database-only parts both containers share."""

    access: Access
    api_keys: ApiKeys
    audit: AuditLog
    metrics: Metrics


def _admin_parts(settings: Settings, database: Database) -> _Admin:
    access = Access(
        AuditStore(database),
        rbac=settings.agent_rbac_enabled,
        audit_enabled=settings.agent_audit_enabled,
    )
    key_store = ApiKeyStore(database)
    return _Admin(
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
        admin = _admin_parts(settings, database)
        yield AdminServices(
            settings=settings,
            database=database,
            access=admin.access,
            api_keys=admin.api_keys,
            audit=admin.audit,
            metrics=admin.metrics,
        )


@asynccontextmanager
async def open_services(
    settings: Settings, *, resume: bool | None = None
) -> AsyncIterator[Services]:
    """Open the database, the registry, the templates, the planner and the runner, and
    make the use cases.

    With ``AGENT_ORCHESTRATOR_ENABLED=false`` the runner is made but not started: it
    neither claims nor runs executions, and the use cases that would run or plan
    anything refuse (`core.errors.ServiceDisabled`).

    Args:
        settings: The configuration.
        resume: Whether this process takes over unfinished executions nobody holds
            (default: when ``AGENT_WORKER_ENABLED``).
    """
    configure_logging(
        settings.log_level, settings.log_format, secrets=settings.secret_values()
    )
    enabled = settings.agent_orchestrator_enabled
    if not enabled:
        log.warning("AGENT_ORCHESTRATOR_ENABLED is false: %s", DISABLED_MESSAGE)
    if resume is None:
        resume = settings.agent_worker_enabled
    async with AsyncExitStack() as stack:
        database = await stack.enter_async_context(
            create_database(settings.database_url)
        )
        ledger = SqlLedgerStore(database)
        artifacts = SqlArtifactStore(database)
        outbox = SqlOutbox(database)
        registry = create_agent_registry(
            settings, ledger=ledger, artifacts=artifacts, outbox=outbox
        )
        templates = load_checked_templates(registry)
        planner = await stack.enter_async_context(
            open_planner(
                registry,
                templates,
                model=settings.openai,
                max_retries=settings.agent_max_retries,
                fallback=settings.agent_planner_fallback,
            )
        )
        runs = SqlRunStore(database)
        bus = EventBus()
        prometheus = PrometheusMetrics()
        runner = Runner(
            runs,
            registry,
            Fanout(bus, prometheus),
            engine_settings(settings, resume=resume),
        )
        if enabled:
            await stack.enter_async_context(runner)
        hub = await stack.enter_async_context(
            EventHub(runs, bus, runs_here=lambda id_: id_ in runner.active)
        )
        admin = _admin_parts(settings, database)
        access = admin.access
        starter = ExecutionStarter(
            runner,
            registry,
            templates,
            enabled=enabled,
            max_steps=settings.agent_max_steps,
            require_approval_for=settings.agent_require_approval_for,
        )
        saved = WorkflowStore(database)
        schedule_store = ScheduleStore(database)
        clock = scheduler_clock(settings)
        # Schedules fire in the processes that run workflows (serve with workers,
        # and `worker`); every slot once however many there are.
        scheduler = (
            Scheduler(
                schedule_store,
                starter,
                saved,
                clock=clock,
                rescan_s=settings.agent_schedule_rescan_s,
                audit_enabled=settings.agent_audit_enabled,
            )
            if enabled and resume
            else None
        )
        services = Services(
            settings=settings,
            database=database,
            access=access,
            api_keys=admin.api_keys,
            audit=admin.audit,
            metrics=admin.metrics,
            catalogue=Catalogue(access, registry, templates),
            executions=Executions(
                access, starter, runner, runs, ExecutionQueries(database), saved
            ),
            saved_workflows=SavedWorkflows(
                access,
                saved,
                registry,
                max_steps=settings.agent_max_steps,
                require_approval_for=settings.agent_require_approval_for,
            ),
            copilot=Copilot(access, planner, starter, enabled=enabled),
            files=Files(
                access,
                settings.agent_files_dir,
                quota_bytes_per_day=settings.agent_upload_quota_bytes_per_day,
            ),
            artifacts=Artifacts(access, artifacts),
            review=Review(access, ledger),
            approvals=Approvals(
                access,
                SqlApprovalStore(database),
                runner,
                enabled=enabled,
                mail=SmtpServer.from_settings(settings.mail),
                recipients=settings.agent_approval_recipients,
            ),
            schedules=Schedules(
                access, schedule_store, starter, saved, clock, scheduler
            ),
            scheduler=scheduler,
            starter=starter,
            runner=runner,
            bus=bus,
            hub=hub,
            runs=runs,
            prometheus=prometheus,
            sockets=KeySockets(settings.agent_ws_max_sockets_per_key),
        )
        async with anyio.create_task_group() as tg:
            await tg.start(listen_for_events, database, hub.remote_event)
            await tg.start(
                services.api_keys.watch_sockets,
                services.sockets,
                settings.agent_key_recheck_s,
            )
            if enabled and resume:
                # Expiry, decisions no runner took, e-mail to approvers: the work of
                # long-lived processes (servers and workers), not of the CLI's.
                await tg.start(
                    services.approvals.watch, settings.agent_approval_check_s
                )
            if scheduler is not None:
                await tg.start(scheduler.run)
            try:
                yield services
            finally:
                tg.cancel_scope.cancel()


_GRAPHQL_PARAMETERS = ("query", "operationName", "variables", "extensions")


def _is_public(scope: Scope, *, metrics_public: bool = False) -> bool:
    path: str = scope["path"]
    if path in ("/health", "/workflows/metrics") or path.startswith("/static/"):
        return True
    if path == "/metrics":
        return metrics_public
    if path == "/graphql" and scope["method"] == "GET":
        # The IDE page is public; a GET that carries a GraphQL request is not. Decided
        # on the parameters as the GraphQL view will parse them (%71uery is `query`).
        accept = dict(scope["headers"]).get(b"accept", b"").decode("latin-1")
        params = QueryParams(scope.get("query_string", b""))
        return "text/html" in accept and not any(
            name in params for name in _GRAPHQL_PARAMETERS
        )
    return False


@dataclass
class _Running:
    """What the lifespan opened, for the request-time hooks of the middleware."""

    services: Services | None = None
    limiter: RateLimiter | None = None
    failures: AuthFailures | None = None


def create_app(settings: Settings) -> Starlette:
    """The ASGI application; its lifespan owns every long-lived resource.

    With ``AGENT_ORCHESTRATOR_ENABLED=false`` only ``/health`` answers (200, with
    ``"status": "disabled"``); everything else is HTTP 503 with the reason.
    """
    from .web.dashboard import dashboard_html
    from .web.graphiql import STATIC_DIR, local_graphiql_html

    configure_sentry(settings.sentry_dsn, environment=settings.agent_default_region)
    enabled = settings.agent_orchestrator_enabled
    if not settings.agent_api_key_enabled:
        log.warning(
            "AGENT_API_KEY_ENABLED is false: every request acts as an admin of tenant "
            "'default'. Use this only on your own machine."
        )
    schema = create_schema(
        introspection=settings.agent_graphql_introspection,
        suggestions=settings.agent_graphql_suggestions,
    )
    running = _Running()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            app.state.services = services
            running.services = services
            running.limiter = RateLimiter(
                settings.agent_rate_limit, settings.agent_rate_limit_storage
            )
            running.failures = AuthFailures(settings.agent_auth_failure_limit)
            view.services = services
            view.limit = running.limiter.check
            view.failures = running.failures
            log.info(
                "agent orchestrator %s %s on %s (%s profile)",
                __version__,
                "ready" if enabled else "switched off",
                services.database.dialect,
                settings.agent_env,
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

    view = GraphQLView(
        schema, settings, local_graphiql_html() if settings.agent_graphiql else None
    )

    async def health(request: Request) -> JSONResponse:
        services: Services = request.app.state.services
        status = "ok" if enabled else "disabled"
        try:
            version = await services.database.ping()
        except Exception as exc:
            log.warning("health check: database unreachable: %s", exc)
            return JSONResponse(
                {
                    "status": "unavailable",
                    "enabled": enabled,
                    "version": __version__,
                    "database": {"ok": False, "error": "database unreachable"},
                },
                status_code=503,
            )
        body: dict[str, Any] = {
            "status": status,
            "enabled": enabled,
            "version": __version__,
            "database": {
                "ok": True,
                "dialect": services.database.dialect,
                "version": version,
            },
            "executions_running": len(services.runner.active),
        }
        if not enabled:
            body["message"] = DISABLED_MESSAGE
        return JSONResponse(body)

    async def prometheus(request: Request) -> Response:
        services: Services = request.app.state.services
        if not settings.agent_metrics_public:
            # The counts are every tenant's together: an admin's, not any key's.
            try:
                require(
                    request.state.principal,
                    Permission.SCRAPE_METRICS,
                    rbac=settings.agent_rbac_enabled,
                )
            except Forbidden as exc:
                return JSONResponse(
                    {"error": {"code": "FORBIDDEN", "message": str(exc)}},
                    status_code=403,
                )
        by_status = await services.executions.count_by_status()
        body = services.prometheus.exposition(
            by_status,
            len(services.runner.active),
            lambda: services.hub.statistics().followers,
        )
        return Response(body, media_type=CONTENT_TYPE)

    async def dashboard(request: Request) -> HTMLResponse:
        return HTMLResponse(dashboard_html())

    routes: Sequence[BaseRoute]
    middleware: list[Middleware] = []
    if enabled:
        routes = [
            # The busiest first: Starlette tries the routes in order.
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/health", health),
            Route("/metrics", prometheus),
            Route("/workflows/metrics", dashboard),
            *rest_routes(),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ]
        middleware.append(
            Middleware(
                ApiGate,
                authenticate=lambda: _services(running).api_keys.authenticate,
                public=partial(
                    _is_public, metrics_public=settings.agent_metrics_public
                ),
                keys_enabled=settings.agent_api_key_enabled,
                on_failure=lambda: (
                    partial(record_authentication_failure, running.services.audit)
                    if running.services
                    else None
                ),
                limit=lambda: running.limiter.check if running.limiter else None,
                failures=lambda: running.failures,
                body_limits={"/api/v1/agent-orchestrator/files": UPLOAD_LIMIT_BYTES},
            )
        )
        middleware.append(Middleware(RequestLogFields))
    else:
        # Switched off: the process stays observable, and every other request is
        # told why it is refused (no key needed to learn that).
        routes = [Route("/health", health), *disabled_routes()]
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


def _services(running: _Running) -> Services:
    assert running.services is not None, "requests arrive after the lifespan started"
    return running.services
