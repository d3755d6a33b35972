"""Small real Starlette + Strawberry apps that serve the web pages the way `app.py` does
(`GraphQL.render_graphql_ide` returns our page, `STATIC_DIR` mounted at `/static`), over
a stand-in schema with the fields the pages use."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
import strawberry
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import Info

from agent_orchestrator.core.windows import SERIES_WINDOWS
from agent_orchestrator.web.dashboard import dashboard_html
from agent_orchestrator.web.graphiql import (
    STATIC_DIR,
    STATIC_PREFIX,
    local_graphiql_html,
)

if TYPE_CHECKING:
    from starlette.requests import Request

GOOD_KEY = "ao_" + "k" * 36


@strawberry.type
class AgentMetrics:
    agent_id: str
    executions: int
    success_rate: float
    avg_duration_ms: float | None


@strawberry.type
class MetricsBucket:
    start: dt.datetime
    total: int
    pending: int
    running: int
    waiting_approval: int
    succeeded: int
    failed: int
    cancelled: int
    p50_duration_ms: float | None
    p95_duration_ms: float | None


@strawberry.type
class AgentOutcomes:
    agent_id: str
    succeeded: int
    failed: int


@strawberry.type
class MetricsSeries:
    window: str
    interval_seconds: int
    since: dt.datetime
    until: dt.datetime
    buckets: list[MetricsBucket]
    agents: list[AgentOutcomes]
    queued: int
    running: int
    waiting_approval: int


#: When the stand-in's series were read.
UNTIL = dt.datetime(2026, 11, 24, 10, 30, 15, tzinfo=dt.UTC)


def canned_series(window: str) -> MetricsSeries:
    """A series with numbers of every kind (and empty intervals) for each window;
    ``30d`` has no executions at all."""
    chosen = SERIES_WINDOWS.get(window)
    if chosen is None:
        raise GraphQLError("unknown window", extensions={"code": "VALIDATION_FAILED"})
    starts = chosen.bucket_starts(UNTIL)
    if window == "30d":
        return MetricsSeries(
            window=window,
            interval_seconds=int(chosen.interval.total_seconds()),
            since=starts[0],
            until=UNTIL,
            buckets=[
                MetricsBucket(
                    start=start,
                    total=0,
                    pending=0,
                    running=0,
                    waiting_approval=0,
                    succeeded=0,
                    failed=0,
                    cancelled=0,
                    p50_duration_ms=None,
                    p95_duration_ms=None,
                )
                for start in starts
            ],
            agents=[],
            queued=0,
            running=0,
            waiting_approval=0,
        )
    buckets = []
    for i, start in enumerate(starts):
        last = i == len(starts) - 1
        succeeded, failed, cancelled = (i * 7) % 5, int(i % 3 == 0), int(i % 7 == 0)
        counts = {
            "pending": 2 if last else 0,
            "running": 1 if last else 0,
            "waiting_approval": 1 if i == len(starts) - 2 else 0,
            "succeeded": succeeded,
            "failed": failed,
            "cancelled": cancelled,
        }
        ended = succeeded + failed + cancelled
        buckets.append(
            MetricsBucket(
                start=start,
                total=sum(counts.values()),
                p50_duration_ms=float(300 + 40 * i) if ended else None,
                p95_duration_ms=float(900 + 55 * i) if ended else None,
                **counts,
            )
        )
    return MetricsSeries(
        window=window,
        interval_seconds=int(chosen.interval.total_seconds()),
        since=starts[0],
        until=UNTIL,
        buckets=buckets,
        agents=[
            AgentOutcomes(agent_id="categorizer_agent", succeeded=31, failed=0),
            AgentOutcomes(agent_id="ocr_agent", succeeded=40, failed=4),
            AgentOutcomes(agent_id="receipt_parser_agent", succeeded=36, failed=9),
        ],
        queued=2,
        running=1,
        waiting_approval=1,
    )


@strawberry.type
class Metrics:
    total_executions: int
    success_rate: float
    avg_duration_ms: float | None
    p95_duration_ms: float | None
    error_rate: float
    agents: list[AgentMetrics]

    @strawberry.field
    def series(self, info: Info, window: str = "24h") -> MetricsSeries:
        info.context["seen"].windows.append(window)
        return canned_series(window)


@strawberry.type
class Execution:
    id: strawberry.ID
    status: str
    template_id: str | None
    started_at: str | None
    duration_ms: int | None


@strawberry.type
class ExecutionEdge:
    node: Execution


@strawberry.type
class ExecutionConnection:
    edges: list[ExecutionEdge]


METRICS = Metrics(
    total_executions=12,
    success_rate=0.75,
    avg_duration_ms=1530.0,
    p95_duration_ms=4200.0,
    error_rate=0.25,
    agents=[
        AgentMetrics(
            agent_id="ocr_agent",
            executions=12,
            success_rate=0.75,
            avg_duration_ms=800.0,
        ),
        AgentMetrics(
            agent_id="ledger_agent",
            executions=9,
            success_rate=1.0,
            avg_duration_ms=None,
        ),
    ],
)
EXECUTION = Execution(
    id=strawberry.ID("0195f0aa-1111-7000-8000-000000000001"),
    status="SUCCEEDED",
    template_id="receipt_processing",
    started_at="2026-11-24T10:00:00+00:00",
    duration_ms=1530,
)


@strawberry.enum
class ApprovalStatus(enum.Enum):
    PENDING = "PENDING"


@strawberry.type
class Approval:
    execution_id: strawberry.ID
    step_id: str
    title: str
    details: str
    approver_role: str
    requested_by: str | None
    expires_at: str


APPROVAL = Approval(
    execution_id=strawberry.ID("0195f0bb"),
    step_id="approve",
    title="Lähetä lokakuun ALV-raportti",
    details="Maksettava ALV 1 234,56 €",
    approver_role="ADMIN",
    requested_by="key-1",
    expires_at="2026-11-27T08:00:00+00:00",
)


@strawberry.type
class Query:
    # Strawberry types its decorators called with arguments as returning Any (one
    # overload also serves `x: int = strawberry.field(...)`), hence these ignores.
    @strawberry.field(description="The X-API-Key header this request carried.")  # type: ignore[untyped-decorator]
    def seen_key(self, info: Info) -> str | None:
        request: Request = info.context["request"]
        return request.headers.get("x-api-key")

    @strawberry.field
    def executions(self, info: Info, first: int = 20) -> ExecutionConnection:
        request: Request = info.context["request"]
        key = request.headers.get("x-api-key")
        info.context["seen"].http_keys.append(key)
        if key != GOOD_KEY:
            raise GraphQLError(
                "unknown API key", extensions={"code": "UNAUTHENTICATED"}
            )
        return ExecutionConnection(edges=[ExecutionEdge(node=EXECUTION)][:first])

    @strawberry.field
    def approvals(
        self, info: Info, status: ApprovalStatus | None = None
    ) -> list[Approval]:
        request: Request = info.context["request"]
        if request.headers.get("x-api-key") != GOOD_KEY:
            raise GraphQLError(
                "unknown API key", extensions={"code": "UNAUTHENTICATED"}
            )
        return [APPROVAL]


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def metrics_updates(
        self, hours_back: int = 24
    ) -> AsyncGenerator[Metrics, None]:
        yield METRICS
        await anyio.sleep_forever()


SCHEMA = strawberry.Schema(query=Query, subscription=Subscription)


@dataclass
class Seen:
    """What the stand-in server received, for assertions."""

    init_payloads: list[dict[str, Any]] = field(default_factory=list)
    http_keys: list[str | None] = field(default_factory=list)
    #: The `window` of each series the subscriptions asked for.
    windows: list[str] = field(default_factory=list)


class LocalGraphQL(GraphQL[dict[str, Any], None]):
    """What the lead's view does for the page and the WebSocket key check."""

    def __init__(self, seen: Seen) -> None:
        super().__init__(
            SCHEMA, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,)
        )
        self.seen = seen

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"request": request, "response": response, "seen": self.seen}

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(local_graphiql_html())

    async def on_ws_connect(self, context: dict[str, Any]) -> None:
        params = context["connection_params"]
        self.seen.init_payloads.append(params)
        if params.get("X-API-Key") != GOOD_KEY:
            raise ConnectionRejectionError({"message": "unknown API key"})


def create_app(seen: Seen | None = None) -> Starlette:
    """GraphiQL at ``/graphql``, the dashboard at ``/workflows/metrics`` and
    `STATIC_DIR` at `STATIC_PREFIX`; ``executions`` and WebSockets want `GOOD_KEY`."""
    gql = LocalGraphQL(seen if seen is not None else Seen())

    async def dashboard(request: Request) -> HTMLResponse:
        return HTMLResponse(dashboard_html())

    return Starlette(
        routes=[
            Route("/graphql", gql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", gql),
            Route("/workflows/metrics", dashboard),
            Mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static"),
        ]
    )
