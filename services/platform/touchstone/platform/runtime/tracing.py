"""Traces, with OpenTelemetry: off unless TOUCHSTONE_TRACES names an exporter.

A gRPC call (or an HTTP/JSON one: the gateway passes the header on) continues the caller's W3C
trace context (`traceparent`); a batch a worker handles is a span that continues its record's
trace (one record) or links to its records' traces (several, as OpenTelemetry's messaging
conventions have it); and every record a service publishes, directly or through its outbox,
carries the `traceparent` of the span that made it. With no exporter the API's no-op tracer
stands in: nothing is recorded and no context is made up; one that came with a call, or with a
batch's only record, is passed on as it came (a batch of many starts no trace to link them).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from touchstone.platform.messaging.topics import Incoming, Outgoing

TRACEPARENT = "traceparent"
MAX_LINKS = 128  # a batch links to at most this many of its records' traces
_propagator = TraceContextTextMapPropagator()
tracer = trace.get_tracer("touchstone")


def start_tracing(service: str, exporter: str) -> bool:
    """Send this process's spans to the exporter ('none': no tracing at all); whether it does."""
    if exporter == "none":
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    chosen: SpanExporter
    if exporter == "otlp":  # where to, and how often: the OTEL_EXPORTER_OTLP_* and OTEL_BSP_*
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        chosen = OTLPSpanExporter()
    else:
        chosen = ConsoleSpanExporter(out=sys.stderr)
    provider = TracerProvider(resource=Resource.create({"service.name": f"touchstone-{service}"}))
    provider.add_span_processor(BatchSpanProcessor(chosen))
    trace.set_tracer_provider(provider)
    return True


def context_from(carrier: Mapping[str, str]) -> Context:
    """The trace context a header or metadata map carries (an empty one without)."""
    return _propagator.extract(carrier)


def metadata_context(metadata: Iterable[tuple[str, Any]] | None) -> Context:
    """The trace context of a gRPC call's metadata."""
    found = {key: value for key, value in metadata or () if key == TRACEPARENT}
    return context_from(
        {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in found.items()}
    )


def current_traceparent() -> str:
    """The current span's `traceparent` ('' when there is none: tracing off)."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get(TRACEPARENT, "")


def traced(records: Sequence[Outgoing]) -> Sequence[Outgoing]:
    """The records, each carrying the current span's trace context (those with one kept)."""
    parent = current_traceparent()
    if not parent:
        return records
    return [
        r
        if any(name == TRACEPARENT for name, _ in r.headers)
        else replace(r, headers=(*r.headers, (TRACEPARENT, parent.encode())))
        for r in records
    ]


@contextmanager
def batch_span(service: str, batch: Sequence[Incoming]) -> Iterator[Span]:
    """A span for handling a batch: its one record's trace continued, or its records' linked."""
    contexts = [
        trace.get_current_span(context_from({TRACEPARENT: raw.decode("ascii", "replace")}))
        for r in batch
        if (raw := r.headers.get(TRACEPARENT))
    ]
    valid = [span.get_span_context() for span in contexts if span.get_span_context().is_valid]
    parent = trace.set_span_in_context(contexts[0]) if len(batch) == 1 and valid else None
    links = [Link(c) for c in valid[:MAX_LINKS]] if parent is None else []
    topics = sorted({r.topic for r in batch})
    with tracer.start_as_current_span(
        f"{service} process {', '.join(topics)}",
        context=parent,
        kind=SpanKind.CONSUMER,
        links=links,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.destination.name": ", ".join(topics),
            "messaging.batch.message_count": len(batch),
        },
    ) as span:
        yield span
