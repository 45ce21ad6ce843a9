"""Topic administration with kafka-python: create what is missing, never touch what exists."""

from __future__ import annotations

import time
from collections.abc import Iterable

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from touchstone.platform.messaging.kafka_connection import KafkaConnection
from touchstone.platform.messaging.topics import topic_config


def ensure_topics(
    kafka: KafkaConnection,
    names: Iterable[str],
    partitions: int,
    timeout_s: float = 30.0,
    replicas: int = 1,
) -> list[str]:
    """Create the named topics that do not exist yet, each with its retention and the
    connection's record limit (topics.topic_config); return the ones created."""
    admin = _connect(kafka, timeout_s)
    try:
        existing = set(admin.list_topics())
        missing = [n for n in names if n not in existing]
        for name in missing:
            try:
                config = topic_config(name, kafka.max_record_bytes)
                admin.create_topics([NewTopic(name, partitions, replicas, topic_configs=config)])
            except TopicAlreadyExistsError:
                continue
        return missing
    finally:
        admin.close()


def _connect(kafka: KafkaConnection, timeout_s: float) -> KafkaAdminClient:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return KafkaAdminClient(**kafka.client_config(client_id="touchstone"))
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def committed_offsets(
    kafka: KafkaConnection, group: str, timeout_s: float = 30.0
) -> dict[tuple[str, int], int]:
    """The offsets the group has committed, by (topic, partition): where it resumes."""
    admin = _connect(kafka, timeout_s)
    try:
        offsets = admin.list_group_offsets({group: None}).get(group) or {}
        return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}
    finally:
        admin.close()
