"""Traces across the real services (TOUCHSTONE_TRACES=otlp): a touchpoint ingested over gRPC
with a W3C trace context is traced in contacts under the caller's trace, and journey's handling
of what contacts recorded continues or links that trace, through contacts' outbox and Kafka."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import running_stack
from tests.e2e.test_whole_journey import eventually, supermarket_visit
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan
from touchstone.contacts.v1.contacts_service_pb2 import IngestBatchRequest
from touchstone.contacts.v1.touchpoint_pb2 import CustomerRef
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients

pytestmark = pytest.mark.e2e

TRACE_ID = uuid.uuid4().hex
TRACEPARENT = f"00-{TRACE_ID}-{uuid.uuid4().hex[:16]}-01"


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    running = OtlpReceiver().start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def stack(infra: Settings, receiver: OtlpReceiver) -> Iterator[LocalStack]:
    with pytest.MonkeyPatch.context() as env:  # the services' exporters read the OTEL_* variables
        env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        env.setenv("OTEL_BSP_SCHEDULE_DELAY", "200")  # ms: spans leave promptly
        with running_stack(infra, traces="otlp") as local:
            yield local


def in_trace(spans: list[ReceivedSpan], service: str) -> list[ReceivedSpan]:
    return [
        s
        for s in spans
        if s.service == f"touchstone-{service}"
        and (s.trace_id == TRACE_ID or TRACE_ID in s.linked_traces)
    ]


def test_a_traced_ingest_is_followed_from_contacts_to_journey(
    stack: LocalStack, receiver: OtlpReceiver
) -> None:
    customer = CustomerRef(customer_id=f"traced-{uuid.uuid4()}")
    visit = supermarket_visit(customer, datetime.now(UTC) - timedelta(hours=1))
    with Clients(stack.settings) as clients:
        reply = clients.contacts.IngestBatch(
            IngestBatchRequest(touchpoints=visit[:1]),
            metadata=[("traceparent", TRACEPARENT)],
            timeout=10,
        )
    assert reply.accepted == 1

    (served,) = eventually(lambda: in_trace(receiver.spans, "contacts"), "contacts' span")
    assert served.name == "contacts IngestBatch"
    assert served.trace_id == TRACE_ID  # the caller's trace, continued

    journey = eventually(lambda: in_trace(receiver.spans, "journey"), "journey's span")
    assert journey[0].name.startswith("journey process contacts.recorded.v1")
