"""Traces: the process's OpenTelemetry set-up, on when an OTLP endpoint is configured.

``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) turns
traces on: `open_tracing` makes a tracer provider whose spans a batch processor sends
over OTLP/HTTP (protobuf) from a thread of its own, and the entry points hand the
`spans.Tracing` over it to what makes spans: the HTTP middleware and the GraphQL
extension (`create_app`), the use case that starts executions and the runner
(`wiring.services.open_services`). The spans themselves are `observability.spans`'s.

Unset, traces are off and cost nothing: this module imports no OpenTelemetry, no
middleware or extension is installed, and the runner, having no tracer, makes no span
object and calls nothing per step (`bench/engine.py` measures that path).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .. import __version__

if TYPE_CHECKING:
    from ..config import Settings
    from .spans import Tracing

__all__ = ["open_tracing"]

log = logging.getLogger("agent_orchestrator.observability")


def open_tracing(settings: Settings) -> Tracing | None:
    """The process's traces, exported to ``settings.otlp_traces_endpoint``; None (and
    nothing imported or started) when no endpoint is configured.

    The caller owns the result: `Tracing.shutdown` sends the spans still queued
    before the process ends.

    The sampler is the SDK's default, parent-based (``OTEL_TRACES_SAMPLER`` changes
    it): a request that arrives with a W3C ``traceparent`` keeps its caller's
    decision, and an execution keeps its request's wherever it runs.
    """
    endpoint = settings.otlp_traces_endpoint
    if endpoint is None:
        return None
    # Imported only now: the SDK and the exporter take a fifth of a second.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter,
    )
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from .logging import Redactor
    from .spans import Tracing

    provider = TracerProvider(
        # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are merged in by the SDK.
        resource=Resource.create(
            {
                "service.name": settings.otel_service_name,
                "service.version": __version__,
            }
        )
    )
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=endpoint, headers=settings.otlp_headers())
        )
    )
    redactor = Redactor(settings.secret_values())
    log.info("sending traces to %s", redactor.redact(endpoint))
    return Tracing(provider, redactor)
