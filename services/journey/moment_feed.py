"""The live feed behind WatchMoments: journey.moments.v1 tailed once per process, fanned out.

Tailing the topic rather than the handler's own output means a watcher sees every journey
instance's moments, and the lost moments the outbox relay publishes. Each watcher has a bounded
queue: when it falls behind, its oldest unread moments are dropped and counted, so a slow client
never holds up the feed, let alone scoring.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from touchstone.common.settings import Settings
from touchstone.common.topics import JOURNEY_MOMENTS
from touchstone.journey.v1.events_pb2 import MomentScored

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000  # moments a watcher may fall behind before the oldest are dropped
WAIT_MS = 10  # the tail's fetch wait: the feed's share of a moment's latency
RETRY_S = 1.0

Wanted = Callable[[MomentScored], bool]


@dataclass(frozen=True)
class Delivery:
    """A moment for one watcher, with how many it missed before it and when it was published."""

    moment: MomentScored
    missed: int
    published_at: datetime


class Watcher:
    """One WatchMoments call: its filter and its bounded queue."""

    def __init__(self, wanted: Wanted, size: int = QUEUE_SIZE) -> None:
        self.wanted = wanted
        self.queue: asyncio.Queue[Delivery] = asyncio.Queue(size)
        self.dropped = 0

    def offer(self, moment: MomentScored, published_at: datetime) -> None:
        """Queue the moment if wanted; drop the oldest unread one when the queue is full."""
        if not self.wanted(moment):
            return
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(Delivery(moment, 0, published_at))

    async def next(self) -> Delivery:
        """The next moment, with the number dropped since the last one."""
        delivery = await self.queue.get()
        missed, self.dropped = self.dropped, 0
        return Delivery(delivery.moment, missed, delivery.published_at)


class MomentFeed:
    """Tails journey.moments.v1 from its end while anyone watches, and fans out."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.watchers: set[Watcher] = set()
        self._tail: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()  # the tail is at the end of every partition

    async def watch(self, wanted: Wanted) -> AsyncGenerator[Delivery | None, None]:
        """None once the watch is live, then every wanted moment published from then on."""
        watcher = Watcher(wanted)
        self.watchers.add(watcher)
        if self._tail is None or self._tail.done():
            self.ready.clear()
            self._tail = asyncio.create_task(self._run(), name="journey-moment-feed")
        try:
            await self.ready.wait()
            yield None
            while True:
                yield await watcher.next()
        finally:
            self.watchers.discard(watcher)

    async def _run(self) -> None:
        while self.watchers:
            try:
                await self._tail_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("moment feed lost the broker; retrying")
                await asyncio.sleep(RETRY_S)

    async def _tail_once(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap.split(","),
            enable_auto_commit=False,
            fetch_max_wait_ms=WAIT_MS,
        )
        self.ready.clear()  # a watcher may only hear "live" once this consumer is at the end
        await consumer.start()
        try:
            await consumer.topics()  # fetches the metadata partitions_for_topic reads
            partitions = consumer.partitions_for_topic(JOURNEY_MOMENTS)
            if not partitions:  # the topic does not exist yet: look again shortly, quietly
                await asyncio.sleep(RETRY_S)
                return
            consumer.assign([TopicPartition(JOURNEY_MOMENTS, p) for p in partitions])
            await consumer.seek_to_end()
            self.ready.set()
            while self.watchers:
                fetched = await consumer.getmany(timeout_ms=WAIT_MS * 10)
                for records in fetched.values():
                    for record in records:
                        self._fan_out(record)
        finally:
            await consumer.stop()

    def _fan_out(self, record: Any) -> None:
        try:
            moment = MomentScored.FromString(record.value or b"")
        except Exception:  # journey's own topic: a record that does not parse is not a moment
            return
        published_at = datetime.fromtimestamp(record.timestamp / 1000, UTC)
        for watcher in list(self.watchers):
            watcher.offer(moment, published_at)
