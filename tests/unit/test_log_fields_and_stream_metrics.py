"""What the README promises of logs and metrics: a line written while a record is handled names
its topic, partition, offset, event id and trace context, one written while a call is answered
its trace context; and streaming calls are timed, counted open and counted in messages."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
from prometheus_client import REGISTRY

from tests.local_servers import one_method_server
from touchstone.platform.messaging.consumers import settle_batch
from touchstone.platform.messaging.topics import Incoming, Outgoing
from touchstone.platform.runtime.json_logs import JsonFormatter
from touchstone.platform.runtime.metrics import GrpcMetrics

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
log = logging.getLogger("tests.log_fields")


def logged(run: Any) -> list[dict[str, Any]]:
    """The JSON lines logged by tests.log_fields while run() runs."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter("journey"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        run()
    finally:
        log.removeHandler(handler)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def record(offset: int, partition: int = 2) -> Incoming:
    headers = {"ce_id": f"event-{offset}".encode(), "traceparent": TRACEPARENT.encode()}
    return Incoming("contacts.touchpoints.v1", partition, offset, b"k", b"v", headers, 0)


class Logging:
    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        log.info("handling %d", len(batch))
        return []


async def nothing(outgoing: Sequence[Outgoing]) -> None:
    return None


def test_a_line_logged_while_a_record_is_handled_names_it() -> None:
    lines = logged(lambda: asyncio.run(settle_batch(Logging(), [record(41)], "dlq", nothing)))

    (line,) = lines
    assert {k: line[k] for k in ("topic", "partition", "offset", "event_id", "traceparent")} == {
        "topic": "contacts.touchpoints.v1",
        "partition": 2,
        "offset": 41,
        "event_id": "event-41",
        "traceparent": TRACEPARENT,
    }


def test_a_batch_of_one_partition_names_the_partition_and_not_a_record() -> None:
    batch = [record(41), record(42)]
    (line,) = logged(lambda: asyncio.run(settle_batch(Logging(), batch, "dlq", nothing)))
    assert (line["topic"], line["partition"]) == ("contacts.touchpoints.v1", 2)
    assert "event_id" not in line and "offset" not in line

    mixed = [record(41, partition=1), record(42, partition=2)]
    (line,) = logged(lambda: asyncio.run(settle_batch(Logging(), mixed, "dlq", nothing)))
    assert "partition" not in line


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def _watch(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    log.info("watching")
    for n in range(3):
        yield bytes([n])


def test_a_stream_is_timed_counted_and_logged_with_its_trace_context() -> None:
    labels = {"service": "journey", "method": "Watch"}
    before = sample("touchstone_grpc_server_stream_seconds_count", **labels, code="OK")
    sent_before = sample("touchstone_grpc_server_stream_messages_sent_total", **labels)

    async def call() -> list[bytes]:
        handler = grpc.unary_stream_rpc_method_handler(_watch)
        async with one_method_server([GrpcMetrics("journey")], "Watch", handler) as channel:
            stream = channel.unary_stream("/test.Service/Watch")(
                b"", metadata=[("traceparent", TRACEPARENT)]
            )
            return [reply async for reply in stream]

    replies: list[bytes] = []
    (line,) = logged(lambda: replies.extend(asyncio.run(call())))

    assert replies == [b"\x00", b"\x01", b"\x02"]
    assert line["traceparent"] == TRACEPARENT
    after = sample("touchstone_grpc_server_stream_seconds_count", **labels, code="OK")
    assert after - before == 1
    sent = sample("touchstone_grpc_server_stream_messages_sent_total", **labels)
    assert sent - sent_before == 3
    assert sample("touchstone_grpc_server_streams_open", **labels) == 0


class LeftContext:
    """A server context a stream's client has left: its metadata, no status set."""

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("traceparent", TRACEPARENT),)

    def code(self) -> None:
        return None


def test_a_stream_closed_from_another_task_ends_cancelled_and_logs_no_error(caplog: Any) -> None:
    """A client that leaves mid-stream can leave the stream suspended where it sent its last
    message; the event loop then closes it from a task of its own (another context)."""
    labels = {"service": "journey", "method": "Endless", "code": "CANCELLED"}
    before = sample("touchstone_grpc_server_stream_seconds_count", **labels)
    timed = GrpcMetrics("journey")._stream(_endless, "Endless")

    async def call() -> None:
        replies = timed(b"", LeftContext())
        assert await asyncio.create_task(anext(replies)) == b"\x00"  # in the call's task
        await asyncio.create_task(replies.aclose())  # by the loop, in a task of its own

    with caplog.at_level(logging.WARNING):
        (line,) = logged(lambda: asyncio.run(call()))
    assert line["traceparent"] == TRACEPARENT
    assert sample("touchstone_grpc_server_stream_seconds_count", **labels) - before == 1
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def _endless(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    log.info("watching")
    while True:
        yield b"\x00"
        await asyncio.sleep(0.01)
