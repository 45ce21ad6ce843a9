"""The two ways a service consumes its topics in batches; both end in the same BatchHandler.

- aiokafka (default): a mode service running getmany → handler → publish → commit. Faust's
  per-event stream machinery costs about 100 µs an event per service (py-spy under `make bench`);
  this loop leaves that budget to the handler: 1.7x the throughput and a tenth of the latency.
- faust: a Faust agent over `stream.take_events(n, within)`, for deployments that want Faust's
  own consumer (TOUCHSTONE_CONSUMER=faust; faust_consumer.py).

Either way a batch's offsets are committed (acknowledged) only after the batch's output is on the
broker, so a crash anywhere means redelivery, which the idempotent handlers make harmless.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import mode
from aiokafka.errors import ConsumerStoppedError

from touchstone.platform.messaging.progress import REPORT_EVERY_S, SOURCE_CLOCKS, progress_records
from touchstone.platform.messaging.record_size import fitted
from touchstone.platform.messaging.topics import (
    CONTACTS_RECORDED,
    TOUCHPOINTS,
    Incoming,
    Outgoing,
    dead_letter_record,
    header_map,
    received_time,
)
from touchstone.platform.runtime.log_context import about, batch_fields
from touchstone.platform.runtime.metrics import observe_lag
from touchstone.platform.runtime.outages import is_transient, log_failure
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.runtime.tracing import batch_span, traced

log = logging.getLogger(__name__)

MAX_RETRY_DELAY_S = 10.0


class BatchHandler(Protocol):
    """Turns one batch of incoming records into the records to publish, idempotently."""

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]: ...


# publishes records and returns once the broker has them all
Send = Callable[[Sequence[Outgoing]], Awaitable[None]]


def coordinates(batch: Sequence[Incoming]) -> str:
    """Where a batch came from, for the log: topic/partition/first-last offsets."""
    spans: dict[tuple[str, int], list[int]] = {}
    for r in batch:
        spans.setdefault((r.topic, r.partition), []).append(r.offset)
    return ", ".join(f"{t}/{p}/{min(o)}-{max(o)}" for (t, p), o in sorted(spans.items()))


async def settle_batch(
    handler: BatchHandler, batch: Sequence[Incoming], dead_letter_topic: str, send: Send
) -> None:
    """Handle the batch and publish its output: never skipped, never stalled by one record.

    Transient failures (the database or broker away) are retried with backoff, whole. Any other
    failure, in handling or in publishing (an output the broker would refuse, say), is a record
    the worker cannot take: the batch is split until that record is alone, and it is
    dead-lettered with the error and its coordinates logged, while the rest go through. Handlers
    are idempotent, so what a failed half already wrote is re-emitted, never doubled.
    """
    service = str(getattr(handler, "service", ""))  # MeasuredHandler's
    with about(batch_fields(batch)), batch_span(service, batch):  # logs and traces name them
        await _settle(handler, batch, dead_letter_topic, send)


async def _settle(
    handler: BatchHandler, batch: Sequence[Incoming], dead_letter_topic: str, send: Send
) -> None:
    delay = 0.2
    while True:
        try:
            await send(traced(await handler.handle(batch)))
            return
        except Exception as error:
            if not is_transient(error):
                log.warning("batch %s failed (%r); isolating", coordinates(batch), error)
                await _isolate(handler, batch, dead_letter_topic, send, error)
                return
            log.warning("batch %s failed (%r); retrying in %.1fs", coordinates(batch), error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY_S)


async def _isolate(
    handler: BatchHandler,
    batch: Sequence[Incoming],
    dead_letter_topic: str,
    send: Send,
    error: Exception,
) -> None:
    if len(batch) > 1:
        half = len(batch) // 2
        await settle_batch(handler, batch[:half], dead_letter_topic, send)
        await settle_batch(handler, batch[half:], dead_letter_topic, send)
        return
    (record,) = batch
    log.error("dead-lettering %s: %r", coordinates(batch), error)
    reason = f"unhandled: {type(error).__name__}: {error}"[:2000]
    letter = dead_letter_record(record, dead_letter_topic, reason, "value", received_time(record))
    await send_dead_letter(letter, send, coordinates(batch))


async def send_dead_letter(letter: Outgoing, send: Send, where: str) -> None:
    """Publish a dead letter, waiting out the broker; one that cannot be sent at all is logged
    with its coordinates (the record stays in its topic) and the stream goes on."""
    delay = 0.2
    while True:
        try:
            await send([letter])
            return
        except Exception as error:
            if not is_transient(error):
                log.critical("could not dead-letter %s: %r; skipped", where, error)
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY_S)


async def handle_until_done(
    handler: BatchHandler, batch: Sequence[Incoming], dead_letter_topic: str
) -> list[Outgoing]:
    """What settle_batch would publish for the batch, collected instead of sent."""
    collected: list[Outgoing] = []

    async def collect(records: Sequence[Outgoing]) -> None:
        collected.extend(records)

    await settle_batch(handler, batch, dead_letter_topic, collect)
    return collected


def incoming(message: Any, timestamp_ms: int) -> Incoming:
    """The transport-neutral view of a consumed record (aiokafka's or Faust's message)."""
    return Incoming(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=header_map(message.headers),
        timestamp_ms=timestamp_ms,
    )


def consumer_group(service: str, consumer: str) -> str:
    """The consumer group a service's workers share (Faust names it after its app id)."""
    return f"touchstone-{service}" if consumer == "faust" else f"touchstone.{service}"


class BatchConsumerService(mode.Service):
    """getmany → handler → publish → commit, with aiokafka in the worker's event loop."""

    def __init__(
        self,
        name: str,
        topics: Sequence[str],
        handler: BatchHandler,
        settings: Settings,
        dead_letter_topic: str,
        reports_progress: bool = False,
        **kwargs: Any,
    ) -> None:
        self.dead_letter_topic = dead_letter_topic
        self.reports_progress = reports_progress  # contacts: tell journey's lanes (progress.py)
        self._next_report = 0.0
        self.service_name = name
        self.group = consumer_group(name, "aiokafka")
        self.topics = tuple(topics)
        self.handler = handler
        self.settings = settings
        self._consumer: Any = None
        self._producer: Any = None
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

        kafka = self.settings.kafka
        rebalance_ms = int(self.settings.rebalance_timeout_s * 1000)
        self._consumer = AIOKafkaConsumer(
            *self.topics,
            **kafka.consumer_config(),
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            rebalance_timeout_ms=rebalance_ms,
            session_timeout_ms=max(rebalance_ms, 6000),
            heartbeat_interval_ms=1000,
            max_poll_records=self.settings.batch_size,
            fetch_max_wait_ms=fetch_wait_ms(0.0, self.settings),
        )
        self._producer = AIOKafkaProducer(**kafka.producer_config(linger_ms=2))
        await self._producer.start()
        await self._consumer.start()

    def holds_partitions(self) -> bool:
        """Whether the group has assigned this worker partitions of its input."""
        return self._consumer is not None and bool(self._consumer.assignment())

    async def on_stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()

    @mode.Service.task
    async def _consume(self) -> None:
        wait_ms = fetch_wait_ms(0.0, self.settings)
        last_taken = time.monotonic()
        window, size = BatchWindow.of(self.settings), self.settings.batch_size
        while not self.should_stop:
            batch = await self._take(wait_ms, size)
            first_at = time.monotonic()
            while batch and (left := window.left(len(batch), time.monotonic() - first_at)):
                batch.extend(await self._take(max(1, round(left * 1000)), size - len(batch)))
            if self.should_stop:  # stopped while it fetched: what it took is redelivered
                break
            last_taken = time.monotonic() if batch else last_taken
            if (wanted := fetch_wait_ms(time.monotonic() - last_taken, self.settings)) != wait_ms:
                wait_ms = wanted
                set_fetch_wait(self._consumer, wait_ms)
            if batch:
                await settle_batch(self.handler, batch, self.dead_letter_topic, self._publish)
                await self._commit()
            if self.reports_progress and time.monotonic() >= self._next_report:
                self._next_report = time.monotonic() + REPORT_EVERY_S
                await self._report_progress()

    async def _take(self, wait_ms: int, max_records: int) -> list[Incoming]:
        """The records one poll brings (waiting at most wait_ms), each partition's lag noted;
        none once the service stops (on_stop stops the consumer while this waits on it)."""
        try:
            fetched = await self._consumer.getmany(timeout_ms=wait_ms, max_records=max_records)
        except ConsumerStoppedError:
            if not self.should_stop:
                raise
            return []
        for tp, records in fetched.items():
            if records:
                highwater = self._consumer.highwater(tp)
                observe_lag(
                    self.service_name, tp.topic, tp.partition, highwater, records[-1].offset + 1
                )
        return [incoming(m, m.timestamp) for records in fetched.values() for m in records]

    async def _report_progress(self) -> None:
        """Tell every lane how far each input partition this worker holds has come: after the
        records it covers (they are on the broker), caught up or not (progress.py). A report
        that fails (a rebalance, the broker away) is told again at the next one."""
        try:
            held: dict[int, bool] = {}
            for tp in self._consumer.assignment():
                if tp.topic == TOUCHPOINTS:
                    highwater = self._consumer.highwater(tp)
                    position = await self._consumer.position(tp)
                    held[tp.partition] = highwater is not None and position >= highwater
            claims = SOURCE_CLOCKS.claims(held, datetime.now(UTC))
            partitions_in = len(self._consumer.partitions_for_topic(TOUCHPOINTS) or ())
            lanes = len(await self._producer.partitions_for(CONTACTS_RECORDED))
            if claims and partitions_in and lanes:
                await self._publish(progress_records(claims, partitions_in, lanes))
        except Exception as error:
            log_failure(log, f"{self.service_name}: progress not told", error)

    async def _publish(self, records: Sequence[Outgoing]) -> None:
        await publish(self._producer, records, self.settings.max_record_bytes)

    async def _commit(self) -> None:
        from aiokafka.errors import CommitFailedError

        try:
            await self._consumer.commit()
        except CommitFailedError:
            # the group rebalanced under the batch (a worker joined or left): its partitions'
            # new owners take it again from the last commit, and every write is idempotent
            log.warning("%s: commit failed in a rebalance; the batch will be redelivered", self)


@dataclass(frozen=True)
class BatchWindow:
    """When a batch is closed and handed to the handler. A batch costs its handler a fixed
    dozen statements and a transaction or two whatever its size: at a trickle every record was a
    batch of its own (50 touchpoints/s took 1.7 cores). So a batch smaller than `fill` waits,
    at most `linger_s` after its first record, for more; once records come faster than
    fill / linger_s a second it waits for nothing beyond its fetch, and at `size` it closes."""

    fill: int
    linger_s: float
    size: int

    @classmethod
    def of(cls, settings: Settings) -> BatchWindow:
        return cls(settings.batch_fill, settings.batch_linger_s, settings.batch_size)

    def left(self, records: int, waited_s: float) -> float:
        """How much longer a batch of `records`, its first taken waited_s ago, waits for more;
        0 when it is closed."""
        if records >= min(self.fill, self.size):
            return 0.0
        return max(self.linger_s - waited_s, 0.0)


IDLE_AFTER_S = 1.0  # a consumer that took nothing for this long is idle


def fetch_wait_ms(idle_for_s: float, settings: Settings) -> int:
    """How long a fetch waits at the broker for records: the batch window while records come,
    the longer idle wait once nothing came for IDLE_AFTER_S. Idle consumers fetching every
    20 ms kept an idle stack at a third of a core, most of it the broker answering them."""
    busy = int(settings.batch_within_s * 1000)
    return busy if idle_for_s < IDLE_AFTER_S else max(busy, int(settings.idle_wait_s * 1000))


def set_fetch_wait(consumer: Any, wait_ms: int) -> None:
    """Make an aiokafka consumer's next fetches wait wait_ms at the broker (its fetcher reads
    fetch_max_wait_ms for every request; aiokafka has no public setter)."""
    consumer._fetcher._fetch_max_wait_ms = wait_ms


async def publish(producer: Any, records: Sequence[Outgoing], max_bytes: int) -> None:
    """Send the records with an aiokafka producer and wait until the broker has them all;
    RecordTooLarge, before any is sent, if one would not fit (a dead letter is cut to fit)."""
    sendable = [fitted(r, max_bytes) for r in records]
    pending = [
        await producer.send(
            r.topic, r.value, key=r.key, headers=list(r.headers), partition=r.partition
        )
        for r in sendable
    ]
    if pending:
        await asyncio.gather(*pending)
