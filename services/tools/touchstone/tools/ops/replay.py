"""`touchstone replay SERVICE`: rebuild a service's state from the log and swap it in.

The service's workers must be stopped: the replay joins their consumer group and holds every
partition, so it refuses to start while a worker runs and stops if one starts (group_hold.py).

1. The old state takes what its workers had not finished, from the offsets their group
   committed to the end of the log now, as a restarted worker would (idempotently).
2. Its schema is set aside as `<service>_before_replay`, fresh tables are migrated in its place,
   and the service's own handler takes its input topics from offset 0 to that same end.
3. Tables the rules carry over (the outbox: what the old state had not published yet) are
   copied, and both states are checksummed. Identical: the old one is dropped. Different: the
   old one is put back and the rebuilt one kept as `<service>_replayed` to inspect, unless told
   to keep it. Any failure puts the old state back.

The workers then resume where their group committed, and take the records of step 1 again:
duplicates, re-emitted under the same ids, so nothing they would have published is lost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from touchstone.platform.messaging.consumers import (
    BatchHandler,
    consumer_group,
    publish,
    settle_batch,
)
from touchstone.platform.messaging.kafka_admin import committed_offsets
from touchstone.platform.messaging.log_reader import partitions_of
from touchstone.platform.messaging.topics import Outgoing
from touchstone.platform.persistence.pg import open_pool
from touchstone.platform.runtime.settings import CONSUMERS, Settings
from touchstone.platform.runtime.work_progress import WorkProgress, staged
from touchstone.platform.runtime.worker import ServiceSpec
from touchstone.tools.ops.group_hold import WAIT_FOR_GROUP_S, GroupHold, GroupTaken, hold_group
from touchstone.tools.ops.log_range import LogRange, LogStalled, read_range
from touchstone.tools.ops.replay_schemas import ReplaySchemas, SchemaRefused
from touchstone.tools.ops.state_checksum import StateChecksum

CATCH_UP = "catching up the old state"  # what its workers had not finished, if anything
REBUILD = "rebuilding"


class ReplayRefused(Exception):
    """The replay cannot start, or was stopped, and why; the old state is in place."""


@dataclass(frozen=True)
class ReplayOptions:
    """How to replay."""

    batch: int = 2000  # records per handler call (one transaction)
    keep_different: bool = False  # swap the rebuilt state in even when it differs
    wait_for_workers_s: float = WAIT_FOR_GROUP_S  # for stopped workers to leave the group


@dataclass(frozen=True)
class ReplayReport:
    """What a replay did."""

    service: str
    events: int
    seconds: float
    before: StateChecksum
    after: StateChecksum
    swapped: bool
    kept: str = ""  # the schema left to inspect, if any
    carried_over: Mapping[str, int] = field(default_factory=dict)  # rows copied, by table
    caught_up: int = 0  # events the old state took first, to end where the rebuilt one does
    dead_lettered: int = 0  # records the rebuild could not take (the log had them dead-lettered)
    recovered: bool = False  # an interrupted replay's old state was put back first

    @property
    def identical(self) -> bool:
        """The rebuilt state has the same checksum as the old one."""
        return self.before.total == self.after.total

    @property
    def rate(self) -> float:
        """Events rebuilt per second."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


def replay(
    spec: ServiceSpec,
    settings: Settings,
    options: ReplayOptions | None = None,
    progress: Callable[[WorkProgress], None] = lambda p: None,
) -> ReplayReport:
    """Rebuild the service's state from its input topics and swap it in (see the module);
    ReplayRefused if it cannot, with the old state in place."""
    if spec.replay.refused:
        raise ReplayRefused(f"{spec.name} cannot be replayed: {spec.replay.refused}")
    try:
        return asyncio.run(_replay(spec, settings, options or ReplayOptions(), progress))
    except (LogStalled, SchemaRefused) as refused:
        raise ReplayRefused(f"{refused}: the old state is in place") from refused
    except GroupTaken as taken:
        raise ReplayRefused(
            f"{taken}: stop every worker of {spec.name} (scale it to 0), then replay; "
            f"the old state is in place"
        ) from taken


async def _replay(
    spec: ServiceSpec,
    settings: Settings,
    options: ReplayOptions,
    progress: Callable[[WorkProgress], None],
) -> ReplayReport:
    group = _group_of(spec.name, settings)
    topics = spec.consumed_topics
    partitions = len(partitions_of(settings.kafka, topics))
    holding = hold_group(settings.kafka, group, topics, partitions, options.wait_for_workers_s)
    schemas = ReplaySchemas(settings.database, spec)
    async with holding as hold:
        resume_at = committed_offsets(settings.kafka, group)
        log_range = _log_to_replay(settings, spec, resume_at)
        recovered = await asyncio.to_thread(schemas.prepare)
        # the old state first takes what its workers left, so both states end at the same
        # offsets; what it publishes is published, as the workers would have
        catch_up = log_range.after(resume_at)
        feed = Feed(spec, settings, options.batch, hold)
        await feed.run(catch_up, staged(progress, CATCH_UP), publishing=True)
        await asyncio.to_thread(schemas.set_old_aside)
        try:
            started = time.monotonic()
            dead = await feed.run(log_range, staged(progress, REBUILD), publishing=False)
            seconds = time.monotonic() - started
            compared = await asyncio.to_thread(schemas.compare)
            await hold.check()  # nothing wrote the new state but the rebuild
            swapped = compared.before.total == compared.after.total or options.keep_different
            await asyncio.to_thread(schemas.finish, swapped)
        except BaseException:
            schemas.put_back()
            raise
    return ReplayReport(
        service=spec.name,
        events=log_range.total,
        seconds=seconds,
        before=compared.before,
        after=compared.after,
        swapped=swapped,
        kept="" if swapped else schemas.kept,
        carried_over=compared.carried_over,
        caught_up=catch_up.total,
        dead_lettered=dead,
        recovered=recovered,
    )


def _group_of(service: str, settings: Settings) -> str:
    """The consumer group the service's workers use, checked against the other kind's."""
    group = consumer_group(service, settings.consumer)
    others = [consumer_group(service, c) for c in CONSUMERS if c != settings.consumer]
    if not committed_offsets(settings.kafka, group):
        for other in others:
            if committed_offsets(settings.kafka, other):
                raise ReplayRefused(
                    f"{service}'s workers consume as group {other}, not {group}: set "
                    f"TOUCHSTONE_CONSUMER as they have it, then replay"
                )
    return group


def _log_to_replay(
    settings: Settings, spec: ServiceSpec, resume_at: Mapping[tuple[str, int], int]
) -> LogRange:
    """The service's input from offset 0 to the end of the log now."""
    log_range = LogRange.now(settings.kafka, spec.consumed_topics, resume_at)
    if trimmed := log_range.trimmed():
        names = ", ".join(f"{topic}[{partition}]" for topic, partition in trimmed)
        raise ReplayRefused(
            f"the broker no longer has the first records of {names} (retention deleted them), "
            f"so {spec.name}'s state cannot be rebuilt from the log: restore a backup instead"
        )
    return log_range


class Feed:
    """The service's own handler, fed stretches of the log in batches."""

    def __init__(self, spec: ServiceSpec, settings: Settings, batch: int, hold: GroupHold):
        self.spec = spec
        self.settings = settings
        self.batch = batch
        self.hold = hold

    async def run(
        self, log_range: LogRange, progress: Callable[[WorkProgress], None], *, publishing: bool
    ) -> int:
        """Feed the range to the handler (publishing what it returns, if asked); the records
        it dead-lettered."""
        progress(WorkProgress(0, log_range.total, 0.0))
        if not log_range.total:
            return 0
        from aiokafka import AIOKafkaProducer

        pool = open_pool(self.settings.database)
        producer = AIOKafkaProducer(**self.settings.kafka.producer_config())
        await pool.open(wait=True, timeout=30)
        await producer.start()
        try:
            handler = self.spec.batch_handler(self.spec.store(pool, self.settings), self.settings)
            return await self._take(handler, log_range, progress, producer if publishing else None)
        finally:
            await producer.stop()
            await pool.close()

    async def _take(
        self,
        handler: BatchHandler,
        log_range: LogRange,
        progress: Callable[[WorkProgress], None],
        producer: Any,
    ) -> int:
        started, done, dead = time.monotonic(), 0, 0

        async def send(outgoing: Sequence[Outgoing]) -> None:
            nonlocal dead
            if producer is not None:
                await publish(producer, outgoing, self.settings.max_record_bytes)
            dead += self._dead_letters(outgoing)

        async for records in read_range(self.settings.kafka, log_range, self.batch):
            await settle_batch(handler, records, self.spec.dead_letter_topic, send)
            await self.hold.check()
            done += len(records)
            progress(WorkProgress(done, log_range.total, time.monotonic() - started))
        return dead

    def _dead_letters(self, outgoing: Sequence[Outgoing]) -> int:
        return sum(1 for r in outgoing if r.topic == self.spec.dead_letter_topic)
