"""The machine's ceiling for the benchmarks: a plain aiokafka consume → produce loop on the same
broker, with none of the services' work, and what a record moved that way costs the client and
the broker in CPU (the cheapest a record can be had with this client on this broker)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from kafka import KafkaProducer

from touchstone.platform.messaging.kafka_admin import ensure_topics
from touchstone.platform.messaging.kafka_connection import KafkaConnection
from touchstone.tools.dev.cpu_use import CpuMeter, Part

RAW_IN, RAW_OUT = "bench.raw.in.v1", "bench.raw.out.v1"
VALUE_200_BYTES = b"x" * 200


@dataclass(frozen=True)
class RawHop:
    """Messages/s through the loop, and CPU µs a message (one consume, one produce)."""

    per_s: float
    client_us: float  # this process
    broker_us: float  # the broker's process, 0 when not given

    @property
    def record_us(self) -> float:
        """CPU µs one produce or one consume costs client and broker together."""
        return (self.client_us + self.broker_us) / 2


def raw_hop(kafka: KafkaConnection, count: int, partitions: int, broker: Part | None) -> RawHop:
    """The loop over `count` messages, its CPU read from /proc (the broker's if given)."""
    ensure_topics(kafka, (RAW_IN, RAW_OUT), partitions)
    producer = KafkaProducer(**kafka.client_config(linger_ms=5, batch_size=65536))
    for n in range(count):
        producer.send(RAW_IN, VALUE_200_BYTES, str(n % 1000).encode())
    producer.flush()
    producer.close()
    return asyncio.run(_hop(kafka, count, partitions, broker))


async def _hop(kafka: KafkaConnection, count: int, partitions: int, broker: Part | None) -> RawHop:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.structs import TopicPartition as AioTopicPartition

    consumer = AIOKafkaConsumer(**kafka.client_config(enable_auto_commit=False))
    producer = AIOKafkaProducer(**kafka.client_config(linger_ms=5))
    await consumer.start()
    await producer.start()
    consumer.assign([AioTopicPartition(RAW_IN, p) for p in range(partitions)])
    await consumer.seek_to_beginning()
    meter = CpuMeter({"broker": broker} if broker else {})
    moved, started, client_started = 0, time.perf_counter(), time.process_time()
    while moved < count:
        batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
        for messages in batches.values():
            for m in messages:
                await producer.send(RAW_OUT, m.value, key=m.key)
            moved += len(messages)
    await producer.flush()
    elapsed = time.perf_counter() - started
    client_s, broker_s = time.process_time() - client_started, meter.spent().get("broker", 0.0)
    await consumer.stop()
    await producer.stop()
    return RawHop(count / elapsed, client_s * 1e6 / count, broker_s * 1e6 / count)
