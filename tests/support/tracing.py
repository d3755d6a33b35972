"""Traces in tests: a `Tracing` whose spans stay in memory, and a stand-in OTLP/HTTP
collector on loopback that keeps the spans a real process sends it."""

from __future__ import annotations

import gzip
import threading
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from agent_orchestrator.observability.logging import Redactor
from agent_orchestrator.observability.spans import Tracing

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence


def memory_tracing(secrets: Iterable[str] = ()) -> tuple[Tracing, InMemorySpanExporter]:
    """A `Tracing` that keeps every ended span in the returned exporter."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Tracing(provider, Redactor(secrets)), exporter


def texts_of(spans: Sequence[ReadableSpan]) -> list[str]:
    """Every text the spans carry: names, attribute values, events, statuses."""
    found: list[str] = []
    for span in spans:
        found.append(span.name)
        found += [str(v) for v in (span.attributes or {}).values()]
        for event in span.events:
            found.append(event.name)
            found += [str(v) for v in (event.attributes or {}).values()]
        found.append(span.status.description or "")
    return found


@dataclass(frozen=True)
class ReceivedSpan:
    """A span as an OTLP/HTTP export request carried it (ids in hex)."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]]
    status_code: int
    service_name: str

    @property
    def traceparent(self) -> str:
        """This span's W3C ``traceparent`` (sampled)."""
        return f"00-{self.trace_id}-{self.span_id}-01"


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


def decode_spans(body: bytes) -> list[ReceivedSpan]:
    """The spans of one ``ExportTraceServiceRequest`` (protobuf)."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        kind=span.kind,
                        attributes=_attributes(span.attributes),
                        events=[
                            (e.name, _attributes(e.attributes)) for e in span.events
                        ],
                        status_code=span.status.code,
                        service_name=str(resource.get("service.name", "")),
                    )
                )
    return spans


@dataclass
class FakeCollector:
    """An OTLP/HTTP collector on loopback: keeps what is POSTed to ``/v1/traces``
    (the base URL for ``OTEL_EXPORTER_OTLP_ENDPOINT`` is `endpoint`); a context
    manager that serves in a thread.

    Example::

        with FakeCollector() as collector:
            env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint}
            ...
            spans = collector.wait_for(lambda spans: len(spans) >= 3, 30)
    """

    spans: list[ReceivedSpan] = field(default_factory=list)
    #: Paths and content types of every POST, the rejected ones included.
    posts: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.arrived = arrived = threading.Condition()
        spans, posts = self.spans, self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                with arrived:
                    posts.append((self.path, self.headers.get("Content-Type", "")))
                    if self.path == "/v1/traces":
                        spans.extend(decode_spans(body))
                    arrived.notify_all()
                self.send_response(200 if self.path == "/v1/traces" else 404)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for(
        self, done: Callable[[list[ReceivedSpan]], bool], timeout: float
    ) -> list[ReceivedSpan]:
        """Block until `done` holds for the spans received; a copy of them.

        Raises:
            AssertionError: It did not within `timeout` seconds.
        """
        with self.arrived:
            if not self.arrived.wait_for(lambda: done(self.spans), timeout):
                names = sorted({s.name for s in self.spans})
                raise AssertionError(f"spans not there in {timeout} s; got {names}")
            return list(self.spans)

    def __enter__(self) -> FakeCollector:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
