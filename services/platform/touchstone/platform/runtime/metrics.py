"""Prometheus metrics every service exposes on its own HTTP port (/metrics).

Names follow Prometheus conventions (touchstone_ prefix, _total counters, _seconds histograms,
base units); labels are services, topics, partitions, stages, channels and gRPC methods, never a
customer id or anything personal.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

import grpc
from opentelemetry.trace import Span, SpanKind, use_span
from prometheus_client import Counter, Gauge, Histogram, start_http_server

from touchstone.platform.messaging.topics import Incoming, Outgoing
from touchstone.platform.runtime.backlog import BACKLOG
from touchstone.platform.runtime.log_context import about, call_fields
from touchstone.platform.runtime.tracing import metadata_context, tracer
from touchstone.platform.serving.rpc import Continuation, status_name

log = logging.getLogger(__name__)

CONSUMED = Counter(
    "touchstone_events_consumed_total", "Records a service consumed.", ["service", "topic"]
)
PRODUCED = Counter(
    "touchstone_events_produced_total",
    "Records a service's handler published (its outbox relay's not included).",
    ["service", "topic"],
)
DEAD_LETTERED = Counter(
    "touchstone_events_dead_lettered_total",
    "Records a service could not use, sent to its dead-letter topic with the reason.",
    ["service", "topic"],
)
BATCH_SECONDS = Histogram(
    "touchstone_batch_seconds",
    "Time to handle one consumed batch (store writes included, publishing not).",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CONSUMER_LAG = Gauge(
    "touchstone_consumer_lag_records",
    "Records on a partition not yet consumed, as of the last fetch.",
    ["service", "topic", "partition"],
)
GRPC_SECONDS = Histogram(
    "touchstone_grpc_server_handling_seconds",
    "Time to answer a unary gRPC call (HTTP/JSON calls included: the gateway makes them).",
    ["service", "method", "code"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
STREAM_SECONDS = Histogram(
    "touchstone_grpc_server_stream_seconds",
    "How long a streaming gRPC call lasted, from its start to its end (a watch: as long as its "
    "client watched; IngestStream: as long as its producer sent), by how it ended.",
    ["service", "method", "code"],
    buckets=(0.1, 1, 10, 60, 300, 1800, 3600, 4 * 3600, 24 * 3600),
)
STREAMS_OPEN = Gauge(
    "touchstone_grpc_server_streams_open", "Streaming gRPC calls open now.", ["service", "method"]
)
STREAM_MESSAGES = Counter(
    "touchstone_grpc_server_stream_messages_sent_total",
    "Messages a server-streaming call sent (WatchMoments, WatchValues, WatchCases, WatchTasks).",
    ["service", "method"],
)


VOCABULARY_GAPS = Counter(
    "touchstone_contacts_vocabulary_gaps_total",
    "Recorded touchpoints carrying a word their stage does not declare (unknown_measurement, "
    "unknown_observation) or a value outside its plausible range (out_of_range); per producer "
    "and name in contacts' GetIngestStats.",
    ["journey_map", "stage", "kind"],
)
MOMENTS = Counter(
    "touchstone_journey_moments_total",
    "Moments journey published, by verdict (a batch delivered again publishes its own again).",
    ["journey_map", "stage", "verdict"],
)
VALUATIONS = Counter(
    "touchstone_loyalty_valuations_total",
    "Customer groups loyalty valued, by what it read: recent (the lost moments since what it "
    "remembered of the group) or whole (its whole history: nothing remembered, or facts "
    "reaching back before it, a recovery, a merge, a moment leaving the churn model's memory).",
    ["read"],
)
DELIVERIES = Counter(
    "touchstone_notify_deliveries_total",
    "Notify's delivery attempts and decisions: sent, retry, dead, skipped, deferred.",
    ["channel", "outcome"],
)
CASES = Gauge(
    "touchstone_notify_cases", "Notify's cases by status (refreshed every 30 s).", ["status"]
)
OVERDUE_STEPS = Gauge(
    "touchstone_notify_overdue_steps",
    "Staff and duty-manager steps of open cases past their due time (refreshed every 30 s).",
)


class MeasuredHandler:
    """A batch handler that counts what it consumes, publishes and dead-letters, and times it."""

    def __init__(self, service: str, handler: Any, dead_letter_topic: str) -> None:
        self.service = service
        self.handler = handler
        self.dead_letter_topic = dead_letter_topic

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        started = time.perf_counter()
        outgoing: list[Outgoing] = await self.handler.handle(batch)
        BATCH_SECONDS.labels(self.service).observe(time.perf_counter() - started)
        for topic, count in collections.Counter(
            r.topic for r in batch
        ).items():  # a label lookup per topic
            CONSUMED.labels(self.service, topic).inc(count)
        for topic, count in collections.Counter(r.topic for r in outgoing).items():
            counter = DEAD_LETTERED if topic == self.dead_letter_topic else PRODUCED
            counter.labels(self.service, topic).inc(count)
        return outgoing


def observe_lag(
    service: str, topic: str, partition: int, highwater: int | None, next_offset: int
) -> None:
    """Record a partition's lag after a fetch (highwater None: unknown yet)."""
    if highwater is not None:
        behind = max(highwater - next_offset, 0)
        CONSUMER_LAG.labels(service, topic, str(partition)).set(behind)
        BACKLOG.observe(service, topic, partition, behind)


class GrpcMetrics(grpc.aio.ServerInterceptor):
    """Times every call by method and status code (unary calls in GRPC_SECONDS, streams in
    STREAM_SECONDS, with those open and the messages sent), and tells the log lines written
    meanwhile the call's trace context."""

    def __init__(self, service: str) -> None:
        self.service = service

    async def intercept_service(
        self,
        continuation: Continuation,
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method.rsplit("/", 1)[-1]
        codec = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary is not None:
            timed = self._unary(handler.unary_unary, method, GRPC_SECONDS)
            return grpc.unary_unary_rpc_method_handler(timed, **codec)
        if handler.stream_unary is not None:
            timed = self._unary(handler.stream_unary, method, STREAM_SECONDS, streams=True)
            return grpc.stream_unary_rpc_method_handler(timed, **codec)
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(handler.unary_stream, method), **codec
            )
        return grpc.stream_stream_rpc_method_handler(
            self._stream(handler.stream_stream, method), **codec
        )

    def _unary(self, inner: Any, method: str, seconds: Histogram, streams: bool = False) -> Any:
        async def timed(request: Any, context: grpc.aio.ServicerContext) -> Any:
            with self._watching(method, seconds, context, streams) as (ended, _):
                try:
                    reply = await inner(request, context)
                except BaseException:
                    ended.append(status_name(context) or "UNKNOWN")
                    raise
                ended.append(status_name(context) or "OK")
                return reply

        return timed

    def _stream(self, inner: Any, method: str) -> Any:
        async def timed(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            with self._watching(method, STREAM_SECONDS, context, streams=True) as (ended, span):
                sent = STREAM_MESSAGES.labels(self.service, method)
                replies = aiter(inner(request, context))
                try:
                    while True:
                        # the span is current while the stream works on its next reply, never
                        # across a yield: a stream the client left may be closed from another
                        # task, where the context it was attached in is not
                        with use_span(span, record_exception=True, set_status_on_exception=True):
                            try:
                                reply = await anext(replies)
                            except StopAsyncIteration:
                                break
                        sent.inc()
                        yield reply
                except (asyncio.CancelledError, GeneratorExit):
                    ended.append("CANCELLED")  # the client went away
                    raise
                except BaseException:
                    ended.append(status_name(context) or "UNKNOWN")
                    raise
                ended.append(status_name(context) or "OK")

        return timed

    @contextmanager
    def _watching(
        self, method: str, seconds: Histogram, context: grpc.aio.ServicerContext, streams: bool
    ) -> Iterator[tuple[list[str], Span]]:
        """Time what runs inside, under the call's span; it appends how it ended. A unary call
        runs with the span current throughout; a stream makes it current for each step
        (_stream), not across its yields."""
        ended: list[str] = []
        started = time.perf_counter()
        if streams:
            STREAMS_OPEN.labels(self.service, method).inc()
        metadata = context.invocation_metadata()
        span = tracer.start_span(
            f"{self.service} {method}",
            context=metadata_context(metadata),
            kind=SpanKind.SERVER,
            attributes={"rpc.system": "grpc", "rpc.method": method},
        )
        current = nullcontext() if streams else use_span(span, end_on_exit=False)
        try:
            with about(call_fields(metadata)), current:
                yield ended, span
        finally:
            code = status_name(context) or (ended[-1] if ended else "CANCELLED")
            span.set_attribute("rpc.grpc.status_code", code)
            span.end()
            if streams:
                STREAMS_OPEN.labels(self.service, method).dec()
            seconds.labels(self.service, method, code).observe(time.perf_counter() - started)


def serve_metrics(host: str, port: int, service: str) -> bool:
    """Expose /metrics on host:port (0: not at all); a port already taken is logged, not fatal."""
    if port <= 0:
        return False
    try:
        start_http_server(port, addr=host)
    except OSError as error:
        log.warning("%s: metrics not served on %s:%d: %s", service, host, port, error)
        return False
    log.info("%s: metrics on http://%s:%d/metrics", service, host, port)
    return True
