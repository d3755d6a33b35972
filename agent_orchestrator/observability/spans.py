"""The spans: HTTP requests, the start of executions, executions and step attempts, in
one trace from the request that starts an execution to its last step, across processes.

* ``<METHOD> <route>`` (kind server), one per HTTP request (`request_spans`); on
  ``/graphql`` named by the operation instead: ``mutation StartReceipt``, or by its
  root fields when it has no name (``mutation executeWorkflow``). A request that
  carries a W3C ``traceparent`` header continues its caller's trace. WebSockets
  (subscriptions) get no span: one as long as a browser tab stays open helps nobody.
* ``submit execution``: storing a new execution (`Tracing.submitting`). Its W3C
  context (``traceparent``, and ``tracestate`` when there is one) is kept in the
  execution's metadata under ``trace_context``.
* ``execution <template id | graph>``: the execution's run in one process, from when
  that process takes it until it ends, waits for an approval, is handed back or stops.
* ``step <agent id>``: one attempt of a step, its outcome (``succeeded``,
  ``retrying``, ``failed``, ``cancelled``) and, when it failed, its error: the type
  and the message with secrets blanked (`logging.Redactor`), never inputs or outputs.

The execution spans are **children** of the stored context, not linked to it. An
execution is the work its request asked for; it may run in the API process at once,
in a worker after a crash or a hand-back, and in yet another process days later when
an approval is decided, and each of those runs is a child of the same stored context.
So one trace id holds the execution's whole life wherever it ran, found from the
request (or by the execution id attribute), and the sampling decision stored in the
context's flags is the one every process follows (parent-based sampling): an
execution is traced completely or not at all. Links would start a new trace at every
resume, each sampled on its own, and leave the joining to whoever reads them. The
price is a trace that may keep growing long after its first spans ended: Jaeger and
Tempo assemble a trace by its id when it is read, so the spans of a later resume join
it then; a search by duration sees the parts.

Spans are named and attributed with ids only (``agent_orchestrator.tenant_id``,
``.execution_id``, ``.step_id``, ``.agent_id``, ``.attempt``, ``.outcome``, ...);
headers, query strings, variables, inputs and outputs are never recorded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from .. import __version__
from ..core.text import clean_text
from .logging import Redactor

if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import TracebackType

    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.util.types import AttributeValue

    from ..core.protocols import ExecutionRecord, NewExecution

__all__ = ["TRACE_CONTEXT", "ExecutionSpan", "Submission", "Tracing"]

#: The key of an execution's metadata that holds the W3C context of its trace.
TRACE_CONTEXT = "trace_context"

_PREFIX = "agent_orchestrator."
TENANT_ID = _PREFIX + "tenant_id"
EXECUTION_ID = _PREFIX + "execution_id"
TEMPLATE_ID = _PREFIX + "template_id"
STEP_ID = _PREFIX + "step_id"
AGENT_ID = _PREFIX + "agent_id"
ATTEMPT = _PREFIX + "attempt"
OUTCOME = _PREFIX + "outcome"
RESUMED = _PREFIX + "resumed"
CREATED = _PREFIX + "created"
REQUEST_ID = _PREFIX + "request_id"
ERROR_CODE = _PREFIX + "error_code"
#: Error messages (and paths, names) are cut to this many characters.
_TEXT_LIMIT = 1_000
_TRACE_HEADERS = (b"traceparent", b"tracestate")


class Tracing:
    """The spans of one process: a `core.protocols.RunTracer` for its runner, the
    span of starting an execution, and the request spans of
    `request_spans.TraceRequests`.

    Args:
        provider: Where spans go (`tracing.open_tracing` makes one that sends them
            over OTLP; tests hand one with an in-memory exporter).
        redactor: Blanks secrets in error messages, paths and operation names.
    """

    def __init__(
        self, provider: TracerProvider, redactor: Redactor | None = None
    ) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer("agent_orchestrator", __version__)
        self.redactor = redactor or Redactor()
        self._propagator = TraceContextTextMapPropagator()

    def shutdown(self) -> None:
        """Send the spans still queued, then stop (it waits for the exporter)."""
        self.provider.shutdown()

    def clean(self, text: str) -> str:
        """`text` as a span may carry it: secrets blanked, at most 1,000
        characters."""
        return self.redactor.redact(clean_text(text))[:_TEXT_LIMIT]

    def record_error(self, span: Span, error: BaseException) -> None:
        """Mark `span` failed with `error`'s type and cleaned message (an
        ``exception`` event without a stack trace, whose text could quote values)."""
        kind = type(error).__name__
        message = self.clean(str(error))
        span.set_attribute("error.type", kind)
        code = getattr(error, "code", None)
        if isinstance(code, str):
            span.set_attribute(ERROR_CODE, code)
        span.add_event(
            "exception", {"exception.type": kind, "exception.message": message}
        )
        span.set_status(Status(StatusCode.ERROR, f"{kind}: {message}"))

    # --- contexts --------------------------------------------------------------------

    def incoming(self, headers: Iterable[tuple[bytes, bytes]]) -> Context:
        """The caller's context from a request's ``traceparent`` and ``tracestate``
        headers; an empty one (a new trace) without them."""
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in headers
            if name in _TRACE_HEADERS
        }
        return self._propagator.extract(carrier) if carrier else Context()

    def stored(self, metadata: Mapping[str, Any]) -> Context:
        """The context kept in an execution's metadata (`TRACE_CONTEXT`); an empty
        one when it has none (started while traces were off)."""
        carrier = metadata.get(TRACE_CONTEXT)
        if not isinstance(carrier, Mapping):
            return Context()
        return self._propagator.extract(
            {k: v for k, v in carrier.items() if isinstance(v, str)}
        )

    # --- starting executions ---------------------------------------------------------

    @contextmanager
    def submitting(self, new: NewExecution) -> Iterator[Submission]:
        """The span of storing a new execution (a child of the current span: the
        request's), and the W3C context the execution keeps (`Submission`)."""
        with self.tracer.start_as_current_span(
            "submit execution",
            attributes={
                TENANT_ID: new.tenant_id,
                TEMPLATE_ID: new.template_id or "graph",
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            carrier: dict[str, str] = {}
            self._propagator.inject(carrier)
            try:
                yield Submission(span, carrier)
            except Exception as exc:
                self.record_error(span, exc)
                raise

    # --- the engine's spans (`core.protocols.RunTracer`) -----------------------------

    def execution(self, record: ExecutionRecord) -> ExecutionSpan:
        """The span of `record`'s run in this process (see the module for why it is
        a child of the context its metadata keeps)."""
        return ExecutionSpan(self, record)


@dataclass
class Submission:
    """A new execution being stored, inside its ``submit execution`` span.

    Attributes:
        span: The span.
        carrier: The span's W3C context (``traceparent``, ``tracestate``).
    """

    span: Span
    carrier: dict[str, str] = field(default_factory=dict)

    def metadata(self, metadata: Mapping[str, Any]) -> dict[str, Any]:
        """`metadata` with the trace context added (`TRACE_CONTEXT`)."""
        return {**metadata, TRACE_CONTEXT: dict(self.carrier)}

    def stored(self, execution_id: str, created: bool) -> None:
        """Note which execution was stored; `created` False: the idempotency key
        named an earlier one (whose spans are in the trace of its own start)."""
        self.span.set_attributes({EXECUTION_ID: execution_id, CREATED: created})


class ExecutionSpan:
    """An execution's span while this process drives it, current while open (a
    `core.protocols.ExecutionTrace`)."""

    def __init__(self, tracing: Tracing, record: ExecutionRecord) -> None:
        self._tracing = tracing
        self._record = record
        self._ids: dict[str, AttributeValue] = {
            TENANT_ID: record.tenant_id,
            EXECUTION_ID: record.id,
        }
        self._outcome: str | None = None

    def __enter__(self) -> ExecutionSpan:
        record = self._record
        template = record.template_id or "graph"
        self._span = self._tracing.tracer.start_span(
            f"execution {template}",
            context=self._tracing.stored(record.metadata),
            attributes={
                **self._ids,
                TEMPLATE_ID: template,
                # Taken up again: after an approval, a crash or a hand-back.
                RESUMED: record.started_at is not None,
            },
        )
        self._context = trace.set_span_in_context(self._span)
        self._token = otel_context.attach(self._context)
        return self

    def attempt(self, step_id: str, agent_id: str | None, attempt: int) -> AttemptSpan:
        """The span of one attempt of a step, a child of this one."""
        return AttemptSpan(
            self._tracing,
            self._context,
            f"step {agent_id}",
            {**self._ids, STEP_ID: step_id, AGENT_ID: agent_id or "", ATTEMPT: attempt},
        )

    def ended(self, outcome: str, error: str | None = None) -> None:
        """How the run ended here; a failed execution's span is marked failed with
        its message (the failing attempt's span has the error's type)."""
        self._outcome = outcome
        if outcome == "failed":
            message = self._tracing.clean(error or "the execution failed")
            self._span.set_status(Status(StatusCode.ERROR, message))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if isinstance(exc, Exception):
                self._tracing.record_error(self._span, exc)
            # Cut off (the runner stopped) or failed before `ended`.
            self._span.set_attribute(OUTCOME, self._outcome or "stopped")
        finally:
            otel_context.detach(self._token)
            self._span.end()


class AttemptSpan:
    """One attempt's span, current while the agent runs (so that spans made inside
    an agent are its children); a `core.protocols.AttemptTrace`."""

    def __init__(
        self,
        tracing: Tracing,
        parent: Context,
        name: str,
        attributes: dict[str, AttributeValue],
    ) -> None:
        self._tracing = tracing
        self._parent = parent
        self._name = name
        self._attributes = attributes
        self._outcome = "succeeded"

    def __enter__(self) -> AttemptSpan:
        self._span = self._tracing.tracer.start_span(
            self._name, context=self._parent, attributes=self._attributes
        )
        self._token = otel_context.attach(trace.set_span_in_context(self._span))
        return self

    def failed(self, error: BaseException, *, retrying: bool) -> None:
        """The attempt failed with `error`; `retrying`: another attempt follows."""
        self._outcome = "retrying" if retrying else "failed"
        self._tracing.record_error(self._span, error)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if isinstance(exc, Exception):
                self._outcome = "failed"
                self._tracing.record_error(self._span, exc)
            elif exc is not None:
                # Cancelled: the execution was cancelled, failed elsewhere, or its
                # worker stopped; the attempt's end is not its own.
                self._outcome = "cancelled"
            self._span.set_attribute(OUTCOME, self._outcome)
        finally:
            otel_context.detach(self._token)
            self._span.end()
