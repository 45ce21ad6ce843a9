"""A small client for producers: build valid touchpoints and publish them to touchpoints.v1.

    from touchstone.tools.ops.publisher import TouchpointPublisher, new_touchpoint

    with TouchpointPublisher("127.0.0.1:19092") as publisher:
        publisher.publish(new_touchpoint(
            source="door-sensor-3", site_id="hcm-01", journey_map="supermarket",
            stage="enter_store", loyalty_card="LC-000123", measurements={"greeting_seconds": 12},
        ))

Over a network, say how: `KafkaConnection("kafka:9093", security_protocol="SASL_SSL", tls_ca=...,
sasl_mechanism="SCRAM-SHA-512", sasl_username=..., sasl_password=...)`.

Records carry CloudEvents binary-mode headers and are keyed by the customer reference, so one
customer's touchpoints stay in order.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from kafka import KafkaProducer

from touchstone.contacts.v1.touchpoint_pb2 import (
    CustomerRef,
    ExternalIdentity,
    IdentityKind,
    Money,
    Touchpoint,
)
from touchstone.platform.messaging.kafka_connection import KafkaConnection
from touchstone.platform.messaging.topics import TOUCHPOINTS, cloudevent_headers
from touchstone.platform.runtime.prototime import to_datetime, to_timestamp

TOUCHPOINT_TYPE = "touchstone.contacts.v1.Touchpoint"
IDENTITY_KINDS = {
    "loyalty_card": IdentityKind.IDENTITY_KIND_LOYALTY_CARD,
    "phone": IdentityKind.IDENTITY_KIND_PHONE,
    "email": IdentityKind.IDENTITY_KIND_EMAIL,
    "account": IdentityKind.IDENTITY_KIND_ACCOUNT,
}
KIND_NAMES = {kind: name for name, kind in IDENTITY_KINDS.items()}


class Record(NamedTuple):
    """One Kafka record: key, value and CloudEvents binary-mode headers."""

    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


def customer_key(touchpoint: Touchpoint) -> str:
    """The record key: the customer id, or "kind:value" of the external identity."""
    ref = touchpoint.customer
    if ref.HasField("identity"):
        return f"{KIND_NAMES.get(ref.identity.kind, 'unknown')}:{ref.identity.value}"
    return ref.customer_id


def touchpoint_record(touchpoint: Touchpoint, value: bytes | None = None) -> Record:
    """The Kafka record for a touchpoint (value: its protobuf bytes unless given)."""
    headers = cloudevent_headers(
        event_id=touchpoint.event_id,
        source=touchpoint.source,
        type_=TOUCHPOINT_TYPE,
        time=to_datetime(touchpoint.occurred_at) if touchpoint.HasField("occurred_at") else None,
    )
    body = touchpoint.SerializeToString() if value is None else value
    return Record(customer_key(touchpoint).encode(), body, headers)


def new_touchpoint(
    *,
    source: str,
    site_id: str,
    journey_map: str,
    stage: str,
    customer_id: str = "",
    occurred_at: datetime | None = None,
    measurements: Mapping[str, float] | None = None,
    observations: Sequence[str] = (),
    purchase: tuple[str, int] | None = None,
    **identity_and_fields: Any,
) -> Touchpoint:
    """A touchpoint with a fresh event id, happening now unless told otherwise.

    Name the customer with customer_id, or with one of loyalty_card=, phone=, email=, account=;
    purchase is (currency, minor units); other keyword arguments set Touchpoint fields as they are.
    """
    identities = {k: identity_and_fields.pop(k) for k in IDENTITY_KINDS if k in identity_and_fields}
    if len(identities) + bool(customer_id) != 1:
        raise ValueError("name the customer once: customer_id or one external identity")
    tp = Touchpoint(
        event_id=str(uuid.uuid4()),
        source=source,
        site_id=site_id,
        journey_map=journey_map,
        stage=stage,
        measurements=dict(measurements or {}),
        observations=list(observations),
        **identity_and_fields,
    )
    tp.occurred_at.CopyFrom(to_timestamp(occurred_at or datetime.now(UTC)))
    if customer_id:
        tp.customer.CopyFrom(CustomerRef(customer_id=customer_id))
    else:
        ((kind, value),) = identities.items()
        tp.customer.identity.CopyFrom(ExternalIdentity(kind=IDENTITY_KINDS[kind], value=value))
    if purchase:
        tp.purchase.CopyFrom(Money(currency=purchase[0], minor_units=purchase[1]))
    return tp


class TouchpointPublisher:
    """Publishes touchpoints to touchpoints.v1 with kafka-python; a context manager."""

    def __init__(
        self, kafka: KafkaConnection | str, topic: str = TOUCHPOINTS, **producer_config: Any
    ) -> None:
        """kafka: how to reach the brokers, or just their "host:port[,host:port]" (plaintext,
        as on a developer's machine)."""
        connection = KafkaConnection(kafka) if isinstance(kafka, str) else kafka
        config = {"linger_ms": 5, "acks": "all", **producer_config}
        self.topic = topic
        self.producer = KafkaProducer(**connection.producer_config(**config))

    def publish(self, touchpoint: Touchpoint) -> Any:
        """Send one touchpoint; the kafka-python future of its delivery."""
        record = touchpoint_record(touchpoint)
        return self.producer.send(self.topic, record.value, record.key, list(record.headers))

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every touchpoint sent so far is on the broker."""
        self.producer.flush(timeout)

    def close(self) -> None:
        """Flush and close the producer."""
        self.producer.close()

    def __enter__(self) -> TouchpointPublisher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
