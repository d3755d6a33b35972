"""Traces (`observability.tracing`, `observability.spans`): a GraphQL request that
starts an execution is one trace with the execution's run and each step attempt in
it, carried through the stored execution to whichever runner drives it; nothing at
all when traces are off; no secret, input or output in any span. In process with the
SDK's in-memory exporter, and from real server and worker processes to a stand-in
OTLP/HTTP collector."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode
from starlette.testclient import TestClient

from agent_orchestrator.app import create_app
from agent_orchestrator.config import load_settings
from agent_orchestrator.core.enums import EventType, ExecutionStatus, Role
from agent_orchestrator.engine.bus import EventBus
from agent_orchestrator.engine.runner import Runner
from agent_orchestrator.observability.spans import TRACE_CONTEXT
from agent_orchestrator.observability.tracing import open_tracing
from agent_orchestrator.service.caller import Caller
from agent_orchestrator.service.container import Services
from agent_orchestrator.service.starting import ExecuteRequest, ExecutionStarter
from agent_orchestrator.store.database import create_database
from agent_orchestrator.store.runs import SqlRunStore
from tests.api.conftest import make_keys
from tests.engine.conftest import FAST, make_registry
from tests.engine.test_scale_out import waiting
from tests.support.gql import follow_to_end
from tests.support.server import ROOT, ServerProcess
from tests.support.tracing import FakeCollector, memory_tracing, texts_of
from tests.support.workers import WorkerProcess

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from opentelemetry.sdk.trace import ReadableSpan

    from tests.support.tracing import ReceivedSpan

WEBHOOK_SECRET = "whsec-0123456789abcdef"
#: Document content: an input that no span may carry.
RECEIPT_TEXT = "K-Market Kamppi 12,50 EUR"
START = "mutation StartRun($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }"


def graph(message: str) -> dict[str, Any]:
    """A step that fails once (with `message`) and is retried, then one that reads
    a receipt's text."""
    return {
        "steps": [
            {
                "id": "read",
                "agent": "flaky_agent",
                "inputs": {"fail_times": 1, "message": message},
                "retry": {"max_retries": 2, "initial_delay_ms": 10},
            },
            {
                "id": "echo",
                "agent": "echo_agent",
                "depends_on": ["read"],
                "inputs": {"text": RECEIPT_TEXT},
            },
        ]
    }


def ids(span: ReadableSpan) -> tuple[int, int, int | None]:
    """A span's trace id, its id and its parent's id."""
    assert span.context is not None
    parent = span.parent.span_id if span.parent is not None else None
    return span.context.trace_id, span.context.span_id, parent


def traceparent(span: ReadableSpan) -> str:
    """The W3C ``traceparent`` of a span (sampled: flags with bit 1 set)."""
    assert span.context is not None and span.context.trace_flags.sampled
    context = span.context
    return (
        f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
    )


def attribute(span: ReadableSpan, name: str) -> Any:
    return (span.attributes or {}).get(f"agent_orchestrator.{name}")


def only(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


@dataclasses.dataclass
class Traced:
    http: TestClient
    key: str
    exporter: InMemorySpanExporter
    services: Services

    def start(self, document: dict[str, Any], **headers: str) -> str:
        body = self.http.post(
            "/graphql",
            json={
                "query": START,
                "operationName": "StartRun",
                "variables": {"g": document},
            },
            headers={"X-API-Key": self.key, **headers},
        ).json()
        assert not body.get("errors"), body
        return str(body["data"]["executeWorkflow"]["id"])

    def finish(self, execution_id: str) -> ExecutionStatus:
        portal = self.http.portal
        assert portal is not None
        record = portal.call(self.services.runner.wait_finished, execution_id)
        return record.status

    def status(self, execution_id: str) -> ExecutionStatus:
        portal = self.http.portal
        assert portal is not None
        return portal.call(self.services.runs.load_execution, execution_id).status

    def metadata(self, execution_id: str) -> dict[str, Any]:
        portal = self.http.portal
        assert portal is not None
        record = portal.call(self.services.runs.load_execution, execution_id)
        return dict(record.metadata)

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())


@pytest.fixture
def traced(database_url: str, tmp_path: Path) -> Iterator[Traced]:
    settings = load_settings(
        database_url=database_url,
        agent_plugins=["tests.support.agents"],
        agent_files_dir=tmp_path,
        agent_webhook_secret=WEBHOOK_SECRET,
        agent_metrics_interval_s=3_600,
    )
    tracing, exporter = memory_tracing(settings.secret_values())
    app = create_app(settings, tracing=tracing)
    with TestClient(app) as http:
        services: Services = app.state.services
        portal = http.portal
        assert portal is not None
        _, key = portal.call(
            lambda: services.api_keys.create(Caller.cli(), name="t", role=Role.ADMIN)
        )
        yield Traced(http, key, exporter, services)
    tracing.shutdown()


def test_a_request_that_starts_an_execution_is_one_trace(traced: Traced) -> None:
    leaky = f"the bank refused key {traced.key} with secret {WEBHOOK_SECRET}"
    execution_id = traced.start(graph(leaky))
    assert traced.finish(execution_id) is ExecutionStatus.SUCCEEDED
    spans = traced.spans()

    request = only(spans, "mutation StartRun")
    assert request.kind is SpanKind.SERVER
    assert request.attributes is not None
    assert request.attributes["http.route"] == "/graphql"
    assert request.attributes["http.response.status_code"] == 200
    assert request.attributes["graphql.operation.type"] == "mutation"
    assert attribute(request, "tenant_id") == "default"
    trace_id, request_id, parent = ids(request)
    assert parent is None  # no traceparent header: a new trace

    submit = only(spans, "submit execution")
    assert ids(submit)[0::2] == (trace_id, request_id)
    assert attribute(submit, "execution_id") == execution_id
    assert attribute(submit, "created") is True

    execution = only(spans, "execution graph")
    assert ids(execution)[0::2] == (trace_id, ids(submit)[1])
    assert attribute(execution, "outcome") == "succeeded"
    assert attribute(execution, "execution_id") == execution_id
    assert attribute(execution, "tenant_id") == "default"
    assert attribute(execution, "resumed") is False

    attempts = sorted(
        (s for s in spans if s.name.startswith("step ")),
        key=lambda s: s.start_time or 0,
    )
    assert [(attribute(s, "step_id"), attribute(s, "attempt")) for s in attempts] == [
        ("read", 1),
        ("read", 2),
        ("echo", 1),
    ]
    assert [s.name for s in attempts] == [
        "step flaky_agent",
        "step flaky_agent",
        "step echo_agent",
    ]
    assert all(ids(s)[0::2] == (trace_id, ids(execution)[1]) for s in attempts)
    assert [attribute(s, "outcome") for s in attempts] == [
        "retrying",
        "succeeded",
        "succeeded",
    ]
    assert all(attribute(s, "agent_id") in s.name for s in attempts)
    assert all(attribute(s, "execution_id") == execution_id for s in attempts)

    failed, retried, _ = attempts
    assert failed.status.status_code is StatusCode.ERROR
    assert retried.status.status_code is StatusCode.UNSET
    [error] = failed.events
    assert error.name == "exception"
    assert error.attributes is not None
    assert error.attributes["exception.type"] == "AgentError"
    message = str(error.attributes["exception.message"])
    assert message.startswith("the bank refused key ao_[redacted] with secret")
    assert "[redacted] (attempt 1)" in message
    assert failed.attributes is not None
    assert failed.attributes["error.type"] == "AgentError"

    # The execution keeps the context its engine spans continue.
    stored = traced.metadata(execution_id)[TRACE_CONTEXT]
    assert stored == {"traceparent": traceparent(submit)}

    # Neither the key, the configured secret nor the step's input in any span.
    texts = " ".join(texts_of(spans))
    assert traced.key not in texts
    assert WEBHOOK_SECRET not in texts
    assert RECEIPT_TEXT not in texts
    assert "redacted" in texts


def test_a_failed_execution_and_its_last_attempt_are_marked_failed(
    traced: Traced,
) -> None:
    document = {
        "steps": [
            {
                "id": "read",
                "agent": "flaky_agent",
                "inputs": {"fail_times": 5, "retryable": False, "message": "no file"},
            }
        ]
    }
    execution_id = traced.start(document)
    assert traced.finish(execution_id) is ExecutionStatus.FAILED
    spans = traced.spans()
    execution = only(spans, "execution graph")
    assert attribute(execution, "outcome") == "failed"
    assert execution.status.status_code is StatusCode.ERROR
    assert "no file" in (execution.status.description or "")
    attempt = only(spans, "step flaky_agent")
    assert attribute(attempt, "outcome") == "failed"
    assert attempt.status.status_code is StatusCode.ERROR
    assert attempt.attributes is not None
    assert attempt.attributes["error.type"] == "NonRetryableAgentError"


def test_requests_continue_the_callers_trace_and_are_named_by_route(
    traced: Traced,
) -> None:
    caller_trace, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    parent = f"00-{caller_trace}-{caller_span}-01"
    execution_id = traced.start(
        graph("once"), traceparent=parent, tracestate="vendor=abc"
    )
    traced.finish(execution_id)
    # The caller's trace state travels with the stored context.
    assert traced.metadata(execution_id)[TRACE_CONTEXT]["tracestate"] == "vendor=abc"
    status = traced.http.get(
        f"/api/v1/agent-orchestrator/workflows/{execution_id}/status",
        headers={"X-API-Key": traced.key},
    )
    assert status.status_code == 200
    refused = traced.http.get("/api/v1/agent-orchestrator/agents")
    assert refused.status_code == 401
    anonymous = traced.http.post(
        "/graphql",
        json={"query": "{ agents { id } templates { id } }"},
        headers={"X-API-Key": traced.key},
    )
    assert anonymous.status_code == 200
    spans = traced.spans()

    request = only(spans, "mutation StartRun")
    assert ids(request)[0] == int(caller_trace, 16)
    assert ids(request)[2] == int(caller_span, 16)
    # The execution and its attempts join the caller's trace.
    assert {ids(s)[0] for s in spans if s.name.startswith(("execution", "step"))} == {
        int(caller_trace, 16)
    }
    route = "/api/v1/agent-orchestrator/workflows/{execution_id}/status"
    read = only(spans, f"GET {route}")
    assert read.attributes is not None
    assert read.attributes["http.route"] == route
    assert read.attributes["url.path"] == route.replace("{execution_id}", execution_id)
    assert read.attributes["http.response.status_code"] == 200
    # Refused before routing: named by the method alone, as the conventions say.
    [denied] = [
        s
        for s in spans
        if (s.attributes or {}).get("url.path") == "/api/v1/agent-orchestrator/agents"
    ]
    assert denied.name == "GET"
    assert denied.attributes is not None
    assert denied.attributes["http.response.status_code"] == 401
    assert attribute(denied, "tenant_id") is None
    # An operation without a name is named by its root fields.
    assert only(spans, "query agents,templates").kind is SpanKind.SERVER


def test_a_decided_approval_continues_the_trace_of_the_start(
    traced: Traced,
) -> None:
    document = {
        "steps": [
            {"id": "a", "agent": "echo_agent", "inputs": {"value": 1}},
            {
                "id": "ok",
                "agent": "approval_agent",
                "inputs": {"title": "Hyväksy", "approver_role": "OPERATOR"},
                "depends_on": ["a"],
            },
            {"id": "after", "agent": "echo_agent", "inputs": {}, "depends_on": ["ok"]},
        ]
    }
    execution_id = traced.start(document)
    portal = traced.http.portal
    assert portal is not None
    services = traced.services
    deadline = time.monotonic() + 30
    while traced.status(execution_id) is not ExecutionStatus.WAITING_APPROVAL:
        assert time.monotonic() < deadline, "the execution did not park"
        time.sleep(0.02)
    # Four eyes: another key decides, in a request (and a trace) of its own.
    _, approver = portal.call(
        lambda: services.api_keys.create(Caller.cli(), name="u", role=Role.ADMIN)
    )
    decided = traced.http.post(
        "/graphql",
        json={
            "query": "mutation Decide($id: ID!) { decideApproval(executionId: $id, "
            'stepId: "ok", approve: true) { status } }',
            "variables": {"id": execution_id},
        },
        headers={"X-API-Key": approver},
    ).json()
    assert not decided.get("errors"), decided
    assert traced.finish(execution_id) is ExecutionStatus.SUCCEEDED
    spans = traced.spans()

    submit = only(spans, "submit execution")
    runs = sorted(
        (s for s in spans if s.name == "execution graph"),
        key=lambda s: s.start_time or 0,
    )
    assert [attribute(s, "outcome") for s in runs] == ["waiting_approval", "succeeded"]
    assert [attribute(s, "resumed") for s in runs] == [False, True]
    # Both runs are children of the start, not of the decision's request.
    trace_id, submit_id, _ = ids(submit)
    assert [ids(s)[0::2] for s in runs] == [(trace_id, submit_id)] * 2
    assert ids(only(spans, "mutation Decide"))[0] != trace_id
    steps = [s for s in spans if s.name.startswith("step ")]
    assert sorted(attribute(s, "step_id") for s in steps) == ["a", "after"]
    assert {ids(s)[0] for s in steps} == {trace_id}


async def first_step_started(store: SqlRunStore, execution_id: str) -> None:
    with anyio.fail_after(30):
        while not any(
            e.type is EventType.STEP_STARTED
            for e in await store.events_after(execution_id)
        ):
            await anyio.sleep(0.01)


@pytest.mark.anyio
async def test_an_execution_resumed_by_another_runner_continues_its_trace(
    database_url: str,
) -> None:
    # Two runners with a tracer each, as two processes would have; only the stored
    # execution connects them.
    registry = make_registry()
    first_tracing, first_spans = memory_tracing()
    second_tracing, second_spans = memory_tracing()
    settings = dataclasses.replace(FAST, lease_s=60, drain_s=10, resume=False)
    async with create_database(database_url) as database:
        store = SqlRunStore(database)
        first = Runner(store, registry, EventBus(), settings, tracer=first_tracing)
        starter = ExecutionStarter(first, registry, {}, tracing=first_tracing)
        async with first:
            record, _ = await starter.execute(
                ExecuteRequest(tenant_id="t1", graph=waiting(0.2, steps=2))
            )
            await first_step_started(store, record.id)
            # Stops between the steps: the first ends here, the second runs there.
            assert await first.drain() == [record.id]
        second = Runner(
            store,
            registry,
            EventBus(),
            dataclasses.replace(settings, resume=True),
            tracer=second_tracing,
        )
        async with second:
            with anyio.fail_after(30):
                final = await second.wait_finished(record.id)
    assert final.status is ExecutionStatus.SUCCEEDED
    before, after = first_spans.get_finished_spans(), second_spans.get_finished_spans()

    submit = only(before, "submit execution")
    trace_id, submit_id, _ = ids(submit)
    assert final.metadata[TRACE_CONTEXT] == {"traceparent": traceparent(submit)}
    here, there = only(before, "execution graph"), only(after, "execution graph")
    assert attribute(here, "outcome") == "handed_back"
    assert attribute(there, "outcome") == "succeeded"
    assert attribute(here, "resumed") is False
    assert attribute(there, "resumed") is True
    # Both runs are children of the stored context: one trace.
    assert ids(here)[0::2] == ids(there)[0::2] == (trace_id, submit_id)
    [s0] = [s for s in before if s.name.startswith("step ")]
    [s1] = [s for s in after if s.name.startswith("step ")]
    assert (attribute(s0, "step_id"), attribute(s1, "step_id")) == ("s0", "s1")
    assert ids(s0)[0::2] == (trace_id, ids(here)[1])
    assert ids(s1)[0::2] == (trace_id, ids(there)[1])
    assert attribute(s0, "outcome") == attribute(s1, "outcome") == "succeeded"
    first_tracing.shutdown()
    second_tracing.shutdown()


OFF_SCRIPT = """
import json, sys
from starlette.testclient import TestClient
from agent_orchestrator.app import create_app
from agent_orchestrator.config import load_settings
from agent_orchestrator.core.enums import Role
from agent_orchestrator.service.caller import Caller

settings = load_settings(
    database_url=sys.argv[1], agent_plugins=["tests.support.agents"],
    agent_files_dir=sys.argv[2],
)
app = create_app(settings)
with TestClient(app) as http:
    services = app.state.services
    _, key = http.portal.call(
        lambda: services.api_keys.create(Caller.cli(), name="t", role=Role.ADMIN)
    )
    body = http.post(
        "/graphql",
        json={"query": sys.argv[3], "variables": {"g": json.loads(sys.argv[4])}},
        headers={"X-API-Key": key, "traceparent": sys.argv[5]},
    ).json()
    record = http.portal.call(
        services.runner.wait_finished, body["data"]["executeWorkflow"]["id"]
    )
    print(json.dumps({
        "status": record.status.value,
        "metadata": dict(record.metadata),
        "tracer": services.runner.tracer is not None,
        "otel": sorted(m for m in sys.modules if m.startswith("opentelemetry")),
    }))
"""


def test_with_traces_off_nothing_is_traced_or_stored(
    database_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            OFF_SCRIPT,
            database_url,
            str(tmp_path),
            START,
            json.dumps(graph("once")),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["status"] == "SUCCEEDED"
    assert TRACE_CONTEXT not in found["metadata"]
    assert found["tracer"] is False
    # Not even imported: no span object can have been made.
    assert found["otel"] == []


def test_the_settings_name_the_otlp_endpoint_and_its_secrets() -> None:
    off = load_settings(
        otel_exporter_otlp_endpoint=None, otel_exporter_otlp_traces_endpoint=None
    )
    assert off.otlp_traces_endpoint is None and open_tracing(off) is None
    base = load_settings(
        otel_exporter_otlp_endpoint="http://collector:4318/",
        otel_exporter_otlp_traces_endpoint=None,
        otel_exporter_otlp_headers="Authorization=Bearer%20tok-123456,x-team=acme",
    )
    assert base.otlp_traces_endpoint == "http://collector:4318/v1/traces"
    assert base.otlp_headers() == {
        "authorization": "Bearer tok-123456",
        "x-team": "acme",
    }
    assert "Bearer tok-123456" in base.secret_values()
    full = load_settings(
        otel_exporter_otlp_endpoint="http://collector:4318",
        otel_exporter_otlp_traces_endpoint="http://tempo:4318/v1/traces",
    )
    assert full.otlp_traces_endpoint == "http://tempo:4318/v1/traces"
    disabled = load_settings(
        otel_exporter_otlp_endpoint="http://collector:4318", otel_sdk_disabled=True
    )
    assert disabled.otlp_traces_endpoint is None


# --- over OTLP/HTTP, from real processes ---------------------------------------------


def received(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, sorted(s.name for s in spans)
    return found[0]


def ended(execution_id: str) -> Any:
    """Whether the received spans hold the execution's end and its three attempts."""

    def done(spans: list[ReceivedSpan]) -> bool:
        mine = [
            s
            for s in spans
            if s.attributes.get("agent_orchestrator.execution_id") == execution_id
        ]
        return (
            sum(s.name.startswith("step ") for s in mine) == 3
            and any(
                s.name == "execution graph"
                and s.attributes.get("agent_orchestrator.outcome") == "succeeded"
                for s in mine
            )
            and any(s.name == "submit execution" for s in mine)
        )

    return done


@pytest.mark.slow
@pytest.mark.anyio
async def test_spans_of_real_processes_arrive_over_otlp_in_one_trace(
    database_url: str, db_kind: str, tmp_path: Path
) -> None:
    key = (
        await anyio.to_thread.run_sync(
            make_keys, database_url, {"ops": ("operator", "acme")}
        )
    )["ops"]
    with FakeCollector() as collector:
        common = {
            "DATABASE_URL": database_url,
            "AGENT_FILES_DIR": str(tmp_path),
            "AGENT_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        }
        # On PostgreSQL the API process only stores the execution and a worker runs
        # it: the trace crosses processes through the stored execution. A worker's
        # spans wait in its queue until it stops (its shutdown sends them).
        scale_out = db_kind == "postgresql"
        api_env = {
            **common,
            "OTEL_SERVICE_NAME": "ao-api",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "AGENT_WORKER_ENABLED": "false" if scale_out else "true",
        }
        worker_env = {
            **common,
            "OTEL_SERVICE_NAME": "ao-worker",
            "OTEL_BSP_SCHEDULE_DELAY": "600000",
        }
        runs_in = "ao-worker" if scale_out else "ao-api"
        with ServerProcess(api_env, tmp_path / "server.log") as server:
            worker = (
                WorkerProcess(worker_env, tmp_path / "worker.log").start()
                if scale_out
                else None
            )
            try:
                async with httpx.AsyncClient(
                    base_url=server.url, headers={"X-API-Key": key}, timeout=60
                ) as http:
                    body = (
                        await http.post(
                            "/graphql",
                            json={
                                "query": START,
                                "operationName": "StartRun",
                                "variables": {"g": graph(f"refused {key}")},
                            },
                        )
                    ).json()
                assert not body.get("errors"), body
                execution_id = body["data"]["executeWorkflow"]["id"]
                await follow_to_end(server.url, key, execution_id)
                if worker is not None:
                    assert await anyio.to_thread.run_sync(worker.stop) == 0
                spans = await anyio.to_thread.run_sync(
                    collector.wait_for, ended(execution_id), 60
                )
            finally:
                if worker is not None:
                    worker.stop()
        assert {path for path, _ in collector.posts} == {"/v1/traces"}
        assert {kind for _, kind in collector.posts} == {"application/x-protobuf"}

    request = received(spans, "mutation StartRun")
    submit = received(spans, "submit execution")
    execution = received(spans, "execution graph")
    attempts = [s for s in spans if s.name.startswith("step ")]
    assert request.service_name == submit.service_name == "ao-api"
    assert request.kind == 2  # SPAN_KIND_SERVER
    assert {execution.service_name} | {s.service_name for s in attempts} == {runs_in}
    assert submit.parent_span_id == request.span_id
    assert execution.parent_span_id == submit.span_id
    assert {s.parent_span_id for s in attempts} == {execution.span_id}
    assert {s.trace_id for s in [request, submit, execution, *attempts]} == {
        request.trace_id
    }
    assert sorted(
        (
            s.attributes["agent_orchestrator.step_id"],
            s.attributes["agent_orchestrator.attempt"],
        )
        for s in attempts
    ) == [("echo", 1), ("read", 1), ("read", 2)]
    [failed] = [s for s in attempts if s.events]
    assert failed.attributes["agent_orchestrator.outcome"] == "retrying"
    assert failed.status_code == 2  # STATUS_CODE_ERROR
    [(name, event)] = failed.events
    assert name == "exception"
    assert event["exception.type"] == "AgentError"
    assert str(event["exception.message"]).startswith("refused ao_[redacted]")
    texts = json.dumps([dataclasses.asdict(s) for s in spans])
    assert key not in texts
    assert RECEIPT_TEXT not in texts
