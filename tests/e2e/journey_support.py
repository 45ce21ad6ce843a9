"""What the whole journey's tests, and others, use to drive the stack: a supermarket visit to
publish, and polls of what the services made of it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import grpc
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from touchstone.contacts.v1.contacts_service_pb2 import RegisterCustomerRequest
from touchstone.contacts.v1.profile_pb2 import Profile
from touchstone.contacts.v1.touchpoint_pb2 import (
    Channel,
    CustomerRef,
    ExternalIdentity,
    IdentityKind,
    Money,
    Touchpoint,
)
from touchstone.journey.v1.events_pb2 import MomentScored
from touchstone.journey.v1.journey_service_pb2 import ListMomentsRequest
from touchstone.loyalty.v1.events_pb2 import CustomerValue
from touchstone.loyalty.v1.loyalty_service_pb2 import GetCustomerValueRequest
from touchstone.notify.v1.notify_service_pb2 import ListCasesRequest, ListCasesResponse
from touchstone.platform.messaging.topics import TOUCHPOINTS
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.ops.client import Clients

T = TypeVar("T")
WAIT_S = 60.0


def eventually(probe: Callable[[], T | None], what: str, timeout: float = WAIT_S) -> T:
    """Poll probe until it returns something truthy; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"after {timeout}s still waiting for: {what}")


def supermarket_visit(
    customer: CustomerRef, start: datetime, site_id: str = "hcm-01"
) -> list[Touchpoint]:
    """A visit whose greeting took 45 s and whose checkout went well (parking and leaving carry
    nothing a standard reads: unscored)."""
    visit_id = f"visit-{uuid.uuid4()}"
    steps: list[tuple[str, dict[str, float], Money | None]] = [
        ("find_parking", {}, None),
        ("enter_store", {"greeting_seconds": 45}, None),
        ("select_goods", {}, None),
        ("wait_in_queue", {"wait_seconds": 60}, None),
        ("pay", {"checkout_seconds": 90}, Money(currency="VND", minor_units=250_000)),
        ("drive_away", {}, None),
    ]
    seen = {"pay": ["thanked"]}
    visit = []
    for n, (stage, measurements, purchase) in enumerate(steps):
        tp = Touchpoint(
            event_id=str(uuid.uuid4()),
            source="e2e",
            customer=customer,
            channel=Channel.CHANNEL_IN_STORE,
            site_id=site_id,
            journey_map="supermarket",
            stage=stage,
            measurements=measurements,
            observations=seen.get(stage, []),
            visit_id=visit_id,
            purchase=purchase,
        )
        tp.occurred_at.FromDatetime(start + timedelta(minutes=3 * n))
        visit.append(tp)
    return visit


def publish(producer: KafkaProducer, touchpoints: list[Touchpoint], key: bytes) -> None:
    for tp in touchpoints:
        producer.send(
            TOUCHPOINTS,
            key=key,
            value=tp.SerializeToString(),
            headers=[("content-type", b"application/protobuf"), ("ce_source", b"e2e")],
        )
    producer.flush()


def moments_of(clients: Clients, customer_id: str, count: int) -> list[MomentScored] | None:
    reply = clients.journey.ListMoments(ListMomentsRequest(customer_id=customer_id), timeout=5)
    return list(reply.moments) if len(reply.moments) >= count else None


def _value(clients: Clients, customer_id: str) -> CustomerValue | None:
    """The customer's value once they have bought something."""
    reply = _valued(clients, customer_id)
    return reply if reply is not None and reply.purchases else None


def _valued(clients: Clients, customer_id: str) -> CustomerValue | None:
    try:
        return clients.loyalty.GetCustomerValue(
            GetCustomerValueRequest(customer_id=customer_id), timeout=5
        )
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise


def _cases(clients: Clients, customer_id: str) -> ListCasesResponse | None:
    reply = clients.notify.ListCases(ListCasesRequest(customer_id=customer_id), timeout=5)
    return reply if reply.cases else None


def on_topic(settings: Settings, topic: str) -> list[tuple[bytes, dict[str, bytes]]]:
    """Everything on the topic so far, to its end offsets now (read without a consumer group)."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        consumer_timeout_ms=200,
        max_partition_fetch_bytes=settings.kafka.fetch_bytes,  # a dead letter may be 1 MiB
    )
    partitions = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    end = consumer.end_offsets(partitions)
    found: list[tuple[bytes, dict[str, bytes]]] = []
    deadline = time.monotonic() + 20
    while any(consumer.position(p) < end[p] for p in partitions) and time.monotonic() < deadline:
        found.extend((m.value, dict(m.headers)) for m in consumer)
    consumer.close()
    return found


def registered_with_secrets(clients: Clients, first_name: str) -> tuple[str, list[str]]:
    """A customer registered with an address, a phone number and a name of their own, and a
    comment they will make: their id, and those four (what an erasure must leave nowhere)."""
    tag = uuid.uuid4().hex[:8]
    email, phone = f"{first_name.lower()}.{tag}@example.com", f"+8491{uuid.uuid4().int % 10**7:07d}"
    name, comment = f"{first_name} {tag}", f"nobody helped me {tag}"
    registered = clients.contacts.RegisterCustomer(
        RegisterCustomerRequest(
            identities=[
                ExternalIdentity(kind=IdentityKind.IDENTITY_KIND_EMAIL, value=email),
                ExternalIdentity(kind=IdentityKind.IDENTITY_KIND_PHONE, value=phone),
            ],
            profile=Profile(display_name=name),
        ),
        timeout=5,
    )
    return registered.customer_id, [email, phone, name, comment]
