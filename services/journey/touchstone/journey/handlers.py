"""Score moments: every recorded touchpoint becomes one MomentScored, stored once.

A moment may also open deadlines (a message left) or keep one (the callback); the event clock of
each lane (an input partition) breaks its deadlines nothing kept and completes its visits whose
gap has passed. The
batch is decided record by record (batch_decision) and settled in one transaction.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from touchstone.contacts.v1.events_pb2 import SourceProgress, TouchpointRecorded
from touchstone.journey.batch_decision import BatchDecision, Index, Rules, Versions
from touchstone.journey.codec import moment_id_of
from touchstone.journey.deadlines import DEFAULT_LATENESS
from touchstone.journey.domain import Standard, standards_version
from touchstone.journey.lane_clocks import LaneStep, Progress
from touchstone.journey.moment_records import moment_record
from touchstone.journey.ports import BatchKeys, JourneyStore, PromotionStore, SettlementStore
from touchstone.journey.promotions import promotion_of, standard_set_of
from touchstone.platform.messaging.decoding import (
    UnusableRecord,
    checked_time,
    dead_letter_unusable,
    parse_record,
)
from touchstone.platform.messaging.progress import GRPC_SOURCE, is_progress
from touchstone.platform.messaging.topics import JOURNEY_DLQ, JOURNEY_STANDARDS, Incoming, Outgoing
from touchstone.platform.runtime.metrics import MOMENTS
from touchstone.platform.runtime.prototime import to_datetime
from touchstone.shared_kernel.calendar import Calendars
from touchstone.shared_kernel.calendar_file import load_calendars
from touchstone.shared_kernel.journey_maps import JourneyMap, load_maps

log = logging.getLogger(__name__)


class JourneyTables(JourneyStore, SettlementStore, PromotionStore, Protocol):
    """Every table the journey handler reads or writes."""


def decode_recorded(record: Incoming) -> TouchpointRecorded:
    """The TouchpointRecorded in a record, or UnusableRecord saying why journey cannot score it."""
    recorded = parse_record(record, TouchpointRecorded)
    if not recorded.touchpoint.event_id or not recorded.customer_id:
        raise UnusableRecord("touchpoint event id and customer id are required")
    if not recorded.touchpoint.HasField("occurred_at"):
        raise UnusableRecord("touchpoint occurred_at is required")
    checked_time(recorded.touchpoint.occurred_at, "touchpoint.occurred_at")
    return recorded


def index_by(
    standards: Iterable[Standard], stage_of: Callable[[Standard], str] = lambda s: s.stage
) -> Index:
    """Standards by (map, stage), so a moment meets only its own."""
    index: dict[tuple[str, str], list[Standard]] = {}
    for standard in standards:
        index.setdefault((standard.journey_map, stage_of(standard)), []).append(standard)
    return index


Item = tuple[int, TouchpointRecorded | Progress]  # a record of the batch, with its lane


def decode_progress(record: Incoming) -> Progress:
    """Contacts' SourceProgress in a record (its partition is the lane it tells), or
    UnusableRecord."""
    told = parse_record(record, SourceProgress)
    known = told.partition == GRPC_SOURCE or 0 <= told.partition < told.partitions
    if told.partitions < 1 or not known:
        raise UnusableRecord(f"progress of partition {told.partition} of {told.partitions}")
    at = checked_time(told.event_time, "event_time")
    return Progress(record.partition, told.partition, told.partitions, at)


def keys_of(items: Sequence[Item]) -> BatchKeys:
    """What the batch touches, and each lane's steps: its on-time records' times and the
    progress it was told, in order."""
    steps: dict[int, list[LaneStep]] = {}
    recorded = []
    earliest: dict[str, datetime] = {}
    for lane, item in items:
        lane_steps = steps.setdefault(lane, [])
        if isinstance(item, Progress):
            lane_steps.append(item)
            continue
        recorded.append(item)
        at = to_datetime(item.touchpoint.occurred_at)
        earliest[item.customer_id] = min(earliest.get(item.customer_id, at), at)
        if not item.late:
            lane_steps.append(at)
    return BatchKeys(
        customers=tuple(sorted({r.customer_id for r in recorded})),
        visits=tuple(sorted({r.visit_id for r in recorded})),
        moments=tuple(moment_id_of(r) for r in recorded),
        steps={lane: tuple(lane_steps) for lane, lane_steps in steps.items()},
        earliest=earliest,
    )


class ScoreMoments:
    """The journey batch handler."""

    def __init__(
        self,
        store: JourneyTables,
        standards: Sequence[Standard],
        calendars: Calendars | None = None,
        lateness: timedelta = DEFAULT_LATENESS,
        maps: Mapping[str, JourneyMap] | None = None,
    ) -> None:
        self.store = store
        self.maps = maps or load_maps()
        self.calendars = calendars or load_calendars()
        self.lateness = lateness
        self.versions = Versions(self.rules_of(standards))
        self.taken: dict[str, tuple[datetime, Rules]] = {}  # promotion event id -> its rules

    def rules_of(self, standards: Sequence[Standard]) -> Rules:
        """Everything a batch is judged by, under these standards."""
        gaps = {m.id: m.visit_gap for m in self.maps.values()}
        deadline_standards = [s for s in standards if s.is_deadline]
        return Rules(
            judging=index_by(s for s in standards if not s.is_deadline),
            opening=index_by(deadline_standards),
            keeping=index_by(deadline_standards, lambda s: s.deadline_until),
            by_id={s.standard_id: s for s in standards},
            version=standards_version(standards),
            calendars=self.calendars,
            visit_gaps=gaps,
            shortest_gap=min(gaps.values(), default=timedelta(0)),
            lateness=self.lateness,
        )

    async def follow_promotions(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        """Take the batch's promotions, then judge by every version taken by any worker, each
        from its effective time; dead letters for promotions that cannot go live."""
        taken, outgoing = [], []
        for record in batch:
            try:
                taken.append(promotion_of(record, self.maps))
            except UnusableRecord as error:
                outgoing.append(dead_letter_unusable(record, JOURNEY_DLQ, error))
        await self.store.take_promotions(taken)
        promotions = await self.store.promotions()
        for promotion in promotions:
            if promotion.event_id in self.taken:
                continue
            promoted = standard_set_of(promotion, self.maps)
            if promoted is None:
                log.error("promoted standards %s no longer fit the maps", promotion.version)
                continue
            self.taken[promotion.event_id] = (
                promotion.effective_from,
                self.rules_of(promoted.standards),
            )
            log.info("standards %s judge from %s", promoted.version, promotion.effective_from)
        in_order = [self.taken[p.event_id] for p in promotions if p.event_id in self.taken]
        if len(in_order) != len(self.versions.promoted):
            self.versions = Versions(self.versions.base, tuple(in_order))
        return outgoing

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        """Score and store the batch (by the standards promoted last, if any, from the batch
        that takes them on); re-emit duplicates (same ids) so a crash loses nothing."""
        outgoing = await self.follow_promotions([r for r in batch if r.topic == JOURNEY_STANDARDS])
        items: list[Item] = []  # each record with its input partition: its customer's lane
        for record in batch:
            if record.topic == JOURNEY_STANDARDS:
                continue
            try:
                decoded = (
                    decode_progress(record)
                    if is_progress(record.headers)
                    else decode_recorded(record)
                )
                items.append((record.partition, decoded))
            except UnusableRecord as error:
                outgoing.append(dead_letter_unusable(record, JOURNEY_DLQ, error))
        versions, keys = self.versions, keys_of(items)
        stored = await self.store.settle(
            keys,
            versions.base.lateness,
            versions.base.shortest_gap,
            lambda ledger: BatchDecision(versions, ledger).run(items, keys.moments),
        )
        verdicts = Counter((row.journey_map, row.stage, row.verdict) for row in stored)
        for (journey_map, stage, verdict), count in verdicts.items():
            MOMENTS.labels(journey_map, stage, verdict).inc(count)
        return outgoing + [moment_record(row) for row in stored]
