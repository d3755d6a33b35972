"""The web application: `create_app(settings)` builds the Starlette application around
the use cases that `wiring.services` opens."""

from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager
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
from .core.errors import Forbidden
from .observability.prometheus import CONTENT_TYPE
from .observability.requests import RequestLogFields
from .observability.sentry import configure_sentry
from .observability.tracing import open_tracing
from .resolvers.access import record_authentication_failure
from .resolvers.files import UPLOAD_LIMIT_BYTES
from .resolvers.rest import rest_routes
from .resolvers.schema import create_schema
from .resolvers.switch import disabled_routes
from .resolvers.view import GraphQLView
from .security.middleware import ApiGate
from .security.permissions import Permission, require
from .security.ratelimit import AuthFailures, RateLimiter
from .service.container import Services
from .service.switch import DISABLED_MESSAGE
from .wiring.services import open_services

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from starlette.requests import Request
    from starlette.types import Scope

    from .config import Settings
    from .observability.spans import Tracing

log = logging.getLogger("agent_orchestrator")

__all__ = ["create_app", "create_app_from_environment"]


_GRAPHQL_PARAMETERS = ("query", "operationName", "variables", "extensions")


def _is_public(scope: Scope, *, metrics_public: bool = False) -> bool:
    path: str = scope["path"]
    if path in ("/health", "/workflows/metrics", "/workflows/copilot") or (
        path.startswith("/static/")
    ):
        return True
    if path.startswith("/workflows/executions/"):
        return True  # the page alone; its script reads the data with the key
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


def create_app(settings: Settings, *, tracing: Tracing | None = None) -> Starlette:
    """The ASGI application; its lifespan owns every long-lived resource.

    With ``AGENT_ORCHESTRATOR_ENABLED=false`` only ``/health`` answers (200, with
    ``"status": "disabled"``); everything else is HTTP 503 with the reason.

    Args:
        settings: The configuration.
        tracing: Where the spans of requests, executions and attempts go (tests
            hand one with an in-memory exporter); by default the OTLP exporter of
            ``OTEL_EXPORTER_OTLP_ENDPOINT`` (`open_tracing`), shut down with the
            app, or none when it is unset.
    """
    from .web.dashboard import dashboard_html
    from .web.execution_view import execution_view_html
    from .web.graphiql import STATIC_DIR, local_graphiql_html
    from .web.plan_view import plan_view_html

    configure_sentry(settings.sentry_dsn, environment=settings.agent_default_region)
    owns_tracing = tracing is None
    if tracing is None:
        tracing = open_tracing(settings)
    enabled = settings.agent_orchestrator_enabled
    if not settings.agent_api_key_enabled:
        log.warning(
            "AGENT_API_KEY_ENABLED is false: every request acts as an admin of tenant "
            "'default'. Use this only on your own machine."
        )
    schema = create_schema(
        introspection=settings.agent_graphql_introspection,
        suggestions=settings.agent_graphql_suggestions,
        traced=tracing is not None,
    )
    running = _Running()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings, tracing=tracing) as services:
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
                if owns_tracing and tracing is not None:
                    # The spans still queued, sent before the process ends.
                    await anyio.to_thread.run_sync(tracing.shutdown)

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

    async def execution_view(request: Request) -> HTMLResponse:
        execution_id: str = request.path_params["execution_id"]
        if not 0 < len(execution_id) <= 128:
            return HTMLResponse("Ei löydy · Not found", status_code=404)
        return HTMLResponse(execution_view_html(execution_id))

    async def plan_view(request: Request) -> HTMLResponse:
        return HTMLResponse(plan_view_html())

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
            Route("/workflows/executions/{execution_id}", execution_view),
            Route("/workflows/copilot", plan_view),
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
    if tracing is not None:
        from .observability.request_spans import TraceRequests

        # Outermost: refused requests (401, 429, preflights) have spans too.
        middleware.insert(0, Middleware(TraceRequests, tracing=tracing))
    return Starlette(routes=list(routes), middleware=middleware, lifespan=lifespan)


def create_app_from_environment() -> Starlette:
    """The application of one process of ``serve --workers N``, which uvicorn's
    process manager builds in each new worker process by this import name.

    The settings are read from the environment and ``.env``, as the ``serve`` that
    started the workers read them (it puts ``--database-url`` in ``DATABASE_URL``);
    each worker sets up its own logging before the first line.
    """
    from .config import load_settings
    from .observability.logging import configure_logging

    settings = load_settings()
    configure_logging(
        settings.log_level, settings.log_format, secrets=settings.secret_values()
    )
    return create_app(settings)


def _services(running: _Running) -> Services:
    assert running.services is not None, "requests arrive after the lifespan started"
    return running.services
