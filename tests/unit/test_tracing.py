"""Traces: a gRPC call continues its caller's trace; a batch continues its one record's trace
or links its records'; what a batch publishes carries the batch's trace context; and with
tracing off nothing is recorded, a producer's context passed on as it came. A tracer of the
test's own stands in for the process's (which is set once)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence

import grpc
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import touchstone.platform.runtime.metrics as metrics
import touchstone.platform.runtime.tracing as tracing
from tests.local_servers import one_method_server
from touchstone.platform.messaging.consumers import settle_batch
from touchstone.platform.messaging.topics import Incoming, Outgoing
from touchstone.platform.runtime.env_reader import SettingError
from touchstone.platform.runtime.metrics import GrpcMetrics
from touchstone.platform.runtime.settings import Settings

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("touchstone")
    monkeypatch.setattr(tracing, "tracer", tracer)
    monkeypatch.setattr(metrics, "tracer", tracer)
    yield exporter
    provider.shutdown()


def record(offset: int, traceparent: str = TRACEPARENT) -> Incoming:
    headers = {"traceparent": traceparent.encode()} if traceparent else {}
    return Incoming("contacts.recorded.v1", 0, offset, b"k", b"v", headers, 0)


class Echo:
    service = "journey"

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        return [Outgoing("journey.moments.v1", b"k", b"moment")]


def sent_by(batch: list[Incoming]) -> list[Outgoing]:
    sent: list[Outgoing] = []

    async def send(records: Sequence[Outgoing]) -> None:
        sent.extend(records)

    asyncio.run(settle_batch(Echo(), batch, "journey.dlq.v1", send))
    return sent


def header(record: Outgoing, name: str) -> str:
    return next(value.decode() for key, value in record.headers if key == name)


def test_a_batch_of_one_continues_its_records_trace_and_passes_it_on(
    spans: InMemorySpanExporter,
) -> None:
    (published,) = sent_by([record(7)])

    (span,) = spans.get_finished_spans()
    assert span.name == "journey process contacts.recorded.v1"
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None and format(span.parent.span_id, "016x") == PARENT_ID
    assert header(published, "traceparent") == f"00-{TRACE_ID}-{span.context.span_id:016x}-01"


def test_a_batch_of_many_links_each_records_trace(spans: InMemorySpanExporter) -> None:
    other = "00-1bf7651916cd43dd8448eb211c80319d-c7ad6b7169203332-01"
    sent_by([record(7), record(8, other), record(9, "")])

    (span,) = spans.get_finished_spans()
    assert span.parent is None  # a trace of its own, linked to those it came from
    linked = {format(link.context.trace_id, "032x") for link in span.links}
    assert linked == {TRACE_ID, other.split("-")[1]}
    assert span.attributes is not None and span.attributes["messaging.batch.message_count"] == 3


def test_with_tracing_off_nothing_is_recorded_and_a_callers_context_is_passed_on() -> None:
    (published,) = sent_by([record(7, "")])
    assert published.headers == ()  # no trace began anywhere: none is made up
    (published,) = sent_by([record(7)])
    assert header(published, "traceparent") == TRACEPARENT  # the producer's, as it came


async def _answer(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return b"ok"


def test_a_call_continues_its_callers_trace(spans: InMemorySpanExporter) -> None:
    async def call() -> bytes:
        handler = grpc.unary_unary_rpc_method_handler(_answer)
        async with one_method_server([GrpcMetrics("contacts")], "Ingest", handler) as channel:
            reply: bytes = await channel.unary_unary("/test.Service/Ingest")(
                b"", metadata=[("traceparent", TRACEPARENT)]
            )
            return reply

    assert asyncio.run(call()) == b"ok"

    (span,) = spans.get_finished_spans()
    assert span.name == "contacts Ingest"
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.attributes is not None and span.attributes["rpc.grpc.status_code"] == "OK"


def test_an_exporter_no_one_knows_is_refused() -> None:
    with pytest.raises(SettingError, match="TOUCHSTONE_TRACES"):
        Settings.from_env({"TOUCHSTONE_TRACES": "jaeger"})
