"""The machine's ceiling for the benchmarks: a plain aiokafka consume → produce loop on the same
broker, with none of the services' work."""

from __future__ import annotations

import asyncio
import time

from kafka import KafkaProducer

from touchstone.common.kafka_admin import ensure_topics
from touchstone.common.kafka_connection import KafkaConnection

RAW_IN, RAW_OUT = "bench.raw.in.v1", "bench.raw.out.v1"
VALUE_200_BYTES = b"x" * 200


def raw_hop_rate(kafka: KafkaConnection, count: int, partitions: int) -> float:
    """Messages/s through a plain aiokafka consume → produce loop on the same broker."""
    ensure_topics(kafka, (RAW_IN, RAW_OUT), partitions)
    producer = KafkaProducer(**kafka.client_config(linger_ms=5, batch_size=65536))
    for n in range(count):
        producer.send(RAW_IN, VALUE_200_BYTES, str(n % 1000).encode())
    producer.flush()
    producer.close()
    return asyncio.run(_hop(kafka, count, partitions))


async def _hop(kafka: KafkaConnection, count: int, partitions: int) -> float:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.structs import TopicPartition as AioTopicPartition

    consumer = AIOKafkaConsumer(**kafka.client_config(enable_auto_commit=False))
    producer = AIOKafkaProducer(**kafka.client_config(linger_ms=5))
    await consumer.start()
    await producer.start()
    consumer.assign([AioTopicPartition(RAW_IN, p) for p in range(partitions)])
    await consumer.seek_to_beginning()
    moved, started = 0, time.perf_counter()
    while moved < count:
        batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
        for messages in batches.values():
            for m in messages:
                await producer.send(RAW_OUT, m.value, key=m.key)
            moved += len(messages)
    await producer.flush()
    elapsed = time.perf_counter() - started
    await consumer.stop()
    await producer.stop()
    return count / elapsed
