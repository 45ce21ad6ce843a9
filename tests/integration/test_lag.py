"""Each service's lag, read from the real broker: the records on its input topics its consumer
group has not committed yet, whatever its partitions."""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from touchstone.platform.messaging.consumers import consumer_group
from touchstone.platform.messaging.kafka_admin import ensure_topics
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.ops.lag import LagReader

pytestmark = pytest.mark.integration


def test_a_services_lag_is_what_its_group_has_not_committed_on_its_topics(infra: Settings) -> None:
    name, topic = f"lagged-{uuid.uuid4().hex[:8]}", f"lag.test.{uuid.uuid4().hex[:8]}"
    ensure_topics(infra.kafka, [topic], 2)
    producer = KafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    for n in range(10):
        producer.send(topic, value=b"x", partition=n % 2)
    producer.flush()
    producer.close()
    reader = LagReader(infra.kafka, {name: [topic]}, "aiokafka")
    try:
        assert reader.read() == {name: 10}  # nothing committed yet: all of it
        group = KafkaConsumer(
            bootstrap_servers=infra.kafka_bootstrap,
            group_id=consumer_group(name, "aiokafka"),
            enable_auto_commit=False,
        )
        group.commit({TopicPartition(topic, 0): OffsetAndMetadata(4, "", -1)})
        group.close()
        assert reader.read() == {name: 6}  # partition 0 has 1 left, partition 1 all 5
    finally:
        reader.close()


def test_a_reading_the_client_slips_on_is_unknown_not_a_crash(
    infra: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = LagReader(infra.kafka, {"journey": ["journey.moments.v1"]}, "aiokafka")

    def slips(partitions: object) -> dict[TopicPartition, int]:
        raise KeyError(TopicPartition("journey.moments.v1", 0))  # as kafka-python once did

    monkeypatch.setattr(reader, "_ends", slips)
    try:
        assert reader.read() == {"journey": None}
    finally:
        reader.close()
