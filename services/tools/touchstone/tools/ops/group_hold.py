"""Holding a service's consumer group: proof that none of its workers runs, kept for a while.

A replay joins the service's consumer group itself, subscribed to its topics, and waits until it
is assigned every partition: then no worker of the service consumes (a live one would keep some;
a departed one is evicted by the rebalance). It pauses everything, never commits, and checks
between batches that it still holds every partition: a worker started meanwhile takes some away.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka.abc import ConsumerRebalanceListener

from touchstone.platform.messaging.kafka_connection import KafkaConnection

WAIT_FOR_GROUP_S = 60.0  # a departed worker is evicted within the session timeout + a rebalance


class GroupTaken(Exception):
    """Workers of the service hold partitions of its consumer group."""


class GroupHold:
    """A member of the group holding every partition of its topics, consuming nothing."""

    def __init__(self, consumer: Any, group: str, partitions: int) -> None:
        self.consumer = consumer
        self.group = group
        self.partitions = partitions

    async def check(self) -> None:
        """Keep the membership alive; GroupTaken if another member took partitions."""
        await self.consumer.getmany(timeout_ms=0)
        held = self.consumer.assignment()
        self.consumer.pause(*held)
        if len(held) < self.partitions:
            raise GroupTaken(
                f"another worker joined consumer group {self.group} and took "
                f"{self.partitions - len(held)} of its {self.partitions} partitions"
            )


class PauseAssigned(ConsumerRebalanceListener):
    """Pauses what a rebalance assigns (fresh assignments fetch), so the hold reads nothing."""

    def __init__(self, consumer: Any) -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        """Nothing to commit: the hold never consumes."""

    async def on_partitions_assigned(self, assigned: Any) -> None:
        """Pause them at once."""
        self.consumer.pause(*assigned)


@asynccontextmanager
async def hold_group(
    kafka: KafkaConnection,
    group: str,
    topics: Sequence[str],
    partitions: int,
    wait_s: float = WAIT_FOR_GROUP_S,
) -> AsyncIterator[GroupHold]:
    """Join the group and hold all the topics' partitions (this many), or GroupTaken after
    wait_s."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        **kafka.client_config(),
        group_id=group,
        enable_auto_commit=False,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
        max_poll_interval_ms=3_600_000,  # checksums of big tables take a while between checks
    )
    consumer.subscribe(list(topics), listener=PauseAssigned(consumer))
    await consumer.start()
    try:
        deadline = time.monotonic() + wait_s
        while len(consumer.assignment()) < partitions:
            if time.monotonic() > deadline:
                taken = partitions - len(consumer.assignment())
                raise GroupTaken(
                    f"workers in consumer group {group} still hold {taken} of its "
                    f"{partitions} partitions after {wait_s:.0f}s"
                )
            consumer.pause(*consumer.assignment())
            await consumer.getmany(timeout_ms=200)
        consumer.pause(*consumer.assignment())
        yield GroupHold(consumer, group, partitions)
    finally:
        await consumer.stop()
