"""Live feeds behind the Watch* streams: a topic tailed once per process, fanned out.

Tailing the topic rather than a handler's own output means a watcher sees what every instance
of the service publishes, the outbox relay's records included (journey's moments behind
WatchMoments, loyalty's values behind WatchValues). Each watcher has a bounded queue: when it
falls behind, its oldest unread messages are dropped and counted, so a slow client never holds
up the feed, let alone the pipeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import grpc
from google.protobuf.message import Message

from touchstone.platform.runtime.outages import log_failure
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.serving.rpc import ApiError, FailedPrecondition, rich_status

M = TypeVar("M", bound=Message)

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000  # messages a watcher may fall behind before the oldest are dropped
WAIT_MS = 10  # the tail's fetch wait: the feed's share of a moment's latency
RETRY_S = 1.0


@dataclass(frozen=True)
class Delivery(Generic[M]):
    """A message for one watcher, with how many it missed before it and when it was published."""

    message: M
    missed: int
    published_at: datetime


class Watcher(Generic[M]):
    """One Watch* call: its filter and its bounded queue."""

    def __init__(self, wanted: Callable[[M], bool], size: int = QUEUE_SIZE) -> None:
        self.wanted = wanted
        self.queue: asyncio.Queue[Delivery[M]] = asyncio.Queue(size)
        self.dropped = 0

    def offer(self, message: M, published_at: datetime) -> None:
        """Queue the message if wanted; drop the oldest unread one when the queue is full."""
        if not self.wanted(message):
            return
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(Delivery(message, 0, published_at))

    async def next(self) -> Delivery[M]:
        """The next message, with the number dropped since the last one."""
        delivery = await self.queue.get()
        missed, self.dropped = self.dropped, 0
        return Delivery(delivery.message, missed, delivery.published_at)


R = TypeVar("R")


async def live_responses(
    feed: TopicFeed[M],
    wanted: Callable[[M], bool],
    respond: Callable[[M, int, datetime], R],
    live: Callable[[], R],
) -> AsyncGenerator[R, None]:
    """A Watch* stream's responses: live() once the watch is live (so a client knows it can act),
    then respond(message, missed, published_at) for each wanted message. Closing the stream
    (the client hung up) unsubscribes."""
    async with aclosing(feed.watch(wanted)) as deliveries:
        async for delivery in deliveries:
            if delivery is None:
                yield live()
            else:
                yield respond(delivery.message, delivery.missed, delivery.published_at)


async def watch_stream(
    feed: TopicFeed[M] | None,
    choose: Callable[[], Callable[[M], bool]],
    respond: Callable[[M, int, datetime], R],
    live: Callable[[], R],
    context: grpc.aio.ServicerContext,
) -> AsyncGenerator[R, None]:
    """A Watch* method's whole stream: the request's filter (choose() may refuse it with an
    ApiError, which ends the call with its status, as a server without a feed does), then
    live_responses until the client hangs up."""
    try:
        if feed is None:
            raise FailedPrecondition("this server has no live feed")
        wanted = choose()
    except ApiError as error:
        await context.abort_with_status(rich_status(error))
        return
    responses = live_responses(feed, wanted, respond, live)
    async with aclosing(responses):
        async for response in responses:
            yield response


class TopicFeed(Generic[M]):
    """Tails a topic from its end while anyone watches, and fans its messages out."""

    def __init__(self, settings: Settings, topic: str, message_type: type[M]) -> None:
        self.settings = settings
        self.topic = topic
        self.message_type = message_type
        self.watchers: set[Watcher[M]] = set()
        self._tail: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()  # the tail is at the end of every partition

    async def watch(self, wanted: Callable[[M], bool]) -> AsyncGenerator[Delivery[M] | None, None]:
        """None once the watch is live, then every wanted message published from then on."""
        watcher: Watcher[M] = Watcher(wanted)
        self.watchers.add(watcher)
        if self._tail is None or self._tail.done():
            self.ready.clear()
            self._tail = asyncio.create_task(self._run(), name=f"feed-{self.topic}")
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
            except Exception as error:
                log_failure(log, f"feed of {self.topic} lost the broker", error)
                await asyncio.sleep(RETRY_S)

    async def _tail_once(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(
            **self.settings.kafka.consumer_config(),
            enable_auto_commit=False,
            fetch_max_wait_ms=WAIT_MS,
        )
        self.ready.clear()  # a watcher may only hear "live" once this consumer is at the end
        await consumer.start()
        try:
            await consumer.topics()  # fetches the metadata partitions_for_topic reads
            partitions = consumer.partitions_for_topic(self.topic)
            if not partitions:  # the topic does not exist yet: look again shortly, quietly
                await asyncio.sleep(RETRY_S)
                return
            consumer.assign([TopicPartition(self.topic, p) for p in partitions])
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
            message = self.message_type.FromString(record.value or b"")
        except Exception:  # the service's own topic: a record that does not parse is not news
            return
        published_at = datetime.fromtimestamp(record.timestamp / 1000, UTC)
        for watcher in list(self.watchers):
            watcher.offer(message, published_at)
