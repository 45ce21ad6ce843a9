"""The four services' real handlers over memory stores, wired topic to topic as the broker wires
them: for tests of what the whole pipeline decides whatever the batching, the interleaving of
partitions and redelivery.

Each topic is partitioned by record key; each service consumes its topics (its ServiceSpec's)
from its own positions, in batches a test chooses, and what it returns (and what its store put
in its outbox) is appended to the topics. `redeliver` puts every service back to offset 0, as
a crash before any commit would.
"""

from __future__ import annotations

import asyncio
import random
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.contacts import MemoryContactsStore
from tests.fakes.journey import MemoryJourneyStore
from tests.fakes.loyalty import MemoryLoyaltyStore
from tests.fakes.notify import MemoryNotifyStore
from touchstone.contacts.handlers import RecordTouchpoints
from touchstone.contacts.service import SPEC as CONTACTS
from touchstone.contacts.service import ingest_policy
from touchstone.journey.service import SPEC as JOURNEY
from touchstone.loyalty.service import SPEC as LOYALTY
from touchstone.notify.service import SPEC as NOTIFY
from touchstone.platform.messaging.consumers import handle_until_done
from touchstone.platform.messaging.progress import GRPC_SOURCE, SourceClocks, progress_records
from touchstone.platform.messaging.topics import (
    TOUCHPOINTS,
    TOUCHPOINTS_DLQ,
    Incoming,
    Outgoing,
    header_map,
)
from touchstone.platform.runtime.metrics import MeasuredHandler
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.runtime.worker import ServiceSpec
from touchstone.tools.dev.simulator import generate_visits, timed_records
from touchstone.tools.ops.publisher import Record

SPECS: dict[str, ServiceSpec] = {s.name: s for s in (CONTACTS, JOURNEY, LOYALTY, NOTIFY)}
PARTITIONS = 4
ARRIVAL_LAG = timedelta(seconds=1)  # a touchpoint reaches the broker this long after it happened
END_OF_TIME = datetime(2100, 1, 1, tzinfo=UTC)  # "now" for a pipeline fed everything at once


def new_stores() -> dict[str, Any]:
    return {
        "contacts": MemoryContactsStore(),
        "journey": MemoryJourneyStore(),
        "loyalty": MemoryLoyaltyStore(),
        "notify": MemoryNotifyStore(),
    }


@dataclass
class Pipeline:
    """Topics, each service's store, handler and positions."""

    partitions: int = PARTITIONS
    stores: dict[str, Any] = field(default_factory=new_stores)
    topics: dict[str, list[list[Incoming]]] = field(default_factory=dict)
    positions: dict[str, dict[tuple[str, int], int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        settings = Settings()
        self.handlers = {
            name: SPECS[name].batch_handler(store, settings) for name, store in self.stores.items()
        }
        self.sources = SourceClocks()  # contacts' progress through touchpoints.v1, its own
        self.told: dict[int, datetime] = {}  # the progress told so far, by source
        contacts = RecordTouchpoints(self.stores["contacts"], ingest_policy(settings), self.sources)
        self.handlers["contacts"] = MeasuredHandler("contacts", contacts, TOUCHPOINTS_DLQ)
        for name in self.stores:
            self.positions[name] = {}

    def append(
        self,
        topic: str,
        key: bytes,
        value: bytes,
        headers: Any,
        timestamp_ms: int,
        partition: int | None = None,
    ) -> None:
        """A record on the topic, in the partition given or the one its key picks."""
        partition = zlib.crc32(key) % self.partitions if partition is None else partition
        log = self.topics.setdefault(topic, [[] for _ in range(self.partitions)])[partition]
        log.append(
            Incoming(topic, partition, len(log), key, value, header_map(headers), timestamp_ms)
        )

    def publish(self, records: Iterable[Outgoing], timestamp_ms: int) -> None:
        for r in records:
            self.append(r.topic, r.key, r.value, r.headers, timestamp_ms, r.partition)

    def pending(self, service: str) -> list[tuple[str, int]]:
        """The (topic, partition)s holding records the service has not taken yet."""
        at = self.positions[service]
        return [
            (topic, p)
            for topic in SPECS[service].consumed_topics
            for p, log in enumerate(self.topics.get(topic, []))
            if at.get((topic, p), 0) < len(log)
        ]

    def take(self, service: str, rng: random.Random, most: int) -> list[Incoming]:
        """Up to `most` records of the service's topics, each partition in order, partitions
        interleaved as rng picks (as a consumer's fetches interleave them)."""
        at, batch = self.positions[service], []
        while len(batch) < most and (open_ := self.pending(service)):
            topic, p = rng.choice(open_)
            batch.append(self.topics[topic][p][at.get((topic, p), 0)])
            at[(topic, p)] = at.get((topic, p), 0) + 1
        return batch

    def step(self, service: str, rng: random.Random, most: int) -> bool:
        """Handle one batch of the service's input; False if it had none."""
        batch = self.take(service, rng, most)
        if not batch:
            return False
        self.handle(service, batch)
        return True

    def handle(self, service: str, batch: Sequence[Incoming]) -> None:
        """The service handles the batch; what it returns and its outbox go on the topics."""
        if not batch:
            return
        handler, dlq = self.handlers[service], SPECS[service].dead_letter_topic
        out = asyncio.run(handle_until_done(handler, batch, dlq))
        stamp = max(r.timestamp_ms for r in batch)
        self.publish(out, stamp)
        outbox = getattr(self.stores[service], "outbox", None)
        if outbox:
            self.publish(list(outbox), stamp)
            outbox.clear()
        if service == "contacts":
            self.tell_progress(stamp)

    def tell_progress(self, stamp: int) -> None:
        """What contacts' consumer and outbox relay tell the lanes after a batch (progress.py):
        here every input is on the topic from the start, so a partition consumed to its end is
        done for good, and the outbox is always empty: both claim the end of time."""
        logs = self.topics.get(TOUCHPOINTS, [])
        at = self.positions["contacts"]
        held = {p: at.get((TOUCHPOINTS, p), 0) >= len(log) for p, log in enumerate(logs)}
        claims = self.sources.claims(held, END_OF_TIME)
        claims[GRPC_SOURCE] = END_OF_TIME
        news = {p: at for p, at in claims.items() if self.told.get(p) != at}  # as if throttled
        self.told.update(news)
        self.publish(progress_records(news, len(logs), self.partitions), stamp)

    def drain(self, service: str, topic: str, partition: int) -> None:
        """The service takes everything waiting on one partition, in one batch (a backlog worked
        through while other partitions wait)."""
        at = self.positions[service]
        log = self.topics.get(topic, [[] for _ in range(self.partitions)])[partition]
        batch = log[at.get((topic, partition), 0) :]
        at[(topic, partition)] = len(log)
        self.handle(service, batch)

    def drain_all(self, service: str) -> None:
        """The service takes everything waiting for it, in one batch."""
        self.step(service, random.Random(0), 10**9)

    def run(self, rng: random.Random, most: Sequence[int] = (1, 500)) -> None:
        """Until every service has taken everything: a service at random, a batch of a size
        between most[0] and most[1] at random."""
        while busy := [s for s in self.stores if self.pending(s)]:
            self.step(rng.choice(busy), rng, rng.randint(most[0], most[1]))

    def redeliver(self) -> None:
        """Every service back to offset 0: everything it took comes again."""
        for at in self.positions.values():
            at.clear()

    def records(self, topic: str) -> list[Incoming]:
        return [r for log in self.topics.get(topic, []) for r in log]


def simulated_touchpoints(
    seed: int, start: datetime, visits: int, bad_share: float = 0.0
) -> list[tuple[Record, int]]:
    """The simulator's visits as touchpoints.v1 records with their broker timestamps, in the
    order a live producer sends them (event time)."""
    timed = timed_records(generate_visits(seed, start, visits), bad_share, seed)
    stamped = [(record, int((at + ARRIVAL_LAG).timestamp() * 1000)) for at, record in timed]
    return sorted(stamped, key=lambda pair: pair[1])


def fed(pipeline: Pipeline, touchpoints: Sequence[tuple[Record, int]]) -> Pipeline:
    """The pipeline with the touchpoints on touchpoints.v1, and contacts' first progress told
    (as its consumer tells it on starting, before its first batch)."""
    for record, stamp in touchpoints:
        pipeline.append(TOUCHPOINTS, record.key, record.value, record.headers, stamp)
    pipeline.tell_progress(min((stamp for _, stamp in touchpoints), default=0))
    return pipeline
