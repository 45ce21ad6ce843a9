"""Score moments: every recorded touchpoint becomes one MomentScored, stored once.

A moment may also open deadlines (a message left), keep one (the callback), and every batch
moves journey's event clock, which breaks the deadlines nothing kept: each becomes a lost
moment of its own, published through the outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from journey.calendar import Calendars
from journey.calendar_file import load_calendars
from journey.codec import (
    VERDICT_NAMES,
    missed_moment,
    moment_of,
    moment_scored,
    results_of,
    visit_completed,
)
from journey.deadline_store import DeadlineStore, Ledger, MissedDeadline, Settlement
from journey.deadlines import (
    DEFAULT_LATENESS,
    Deadline,
    Opening,
    deadlines_opened,
    first_waiting,
    is_overdue,
    kept,
    missed,
)
from journey.domain import Judgement, Standard, score, standards_version, verdict_of
from journey.store import JourneyStore, MomentRow
from journey.visit_store import Completion, EndingVisit
from journey.visits import VisitVerdict, verdict_of_visit
from touchstone.common.decoding import (
    UnusableRecord,
    checked_time,
    dead_letter_unusable,
    parse_record,
)
from touchstone.common.ids import derived_id
from touchstone.common.journey_maps import load_maps
from touchstone.common.prototime import to_datetime
from touchstone.common.topics import (
    JOURNEY_DLQ,
    JOURNEY_MOMENTS,
    JOURNEY_VISITS,
    Incoming,
    Outgoing,
    cloudevent_headers,
)
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.journey.v1.events_pb2 import MomentScored

SOURCE = "touchstone/journey"
SCORED_TYPE = "touchstone.journey.v1.MomentScored"
VISIT_TYPE = "touchstone.journey.v1.VisitCompleted"


class JourneyTables(JourneyStore, DeadlineStore, Protocol):
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


def row_of(event: MomentScored) -> MomentRow:
    """The stored form of a scored moment."""
    return MomentRow(
        moment_id=event.moment_id,
        source_event_id=event.source_event_id,
        customer_id=event.customer_id,
        visit_id=event.visit_id,
        site_id=event.site_id,
        journey_map=event.journey_map,
        stage=event.stage,
        occurred_at=to_datetime(event.occurred_at),
        verdict=VERDICT_NAMES[event.verdict],
        payload=event.SerializeToString(deterministic=True),
    )


def moment_record(row: MomentRow) -> Outgoing:
    """The MomentScored record of a stored moment, keyed by customer id."""
    headers = cloudevent_headers(
        event_id=row.moment_id, source=SOURCE, type_=SCORED_TYPE, time=row.occurred_at
    )
    return Outgoing(JOURNEY_MOMENTS, row.customer_id.encode(), row.payload, headers)


def opening_of(recorded: TouchpointRecorded, moment_id: str) -> Opening:
    """The recorded touchpoint as a moment that may open deadlines."""
    tp = recorded.touchpoint
    return Opening(
        moment_id=moment_id,
        source_event_id=tp.event_id,
        customer_id=recorded.customer_id,
        visit_id=recorded.visit_id,
        site_id=tp.site_id,
        journey_map=tp.journey_map,
        stage=tp.stage,
        occurred_at=to_datetime(tp.occurred_at),
        measurements=dict(tp.measurements),
    )


def index_by(
    standards: Iterable[Standard], stage_of: Callable[[Standard], str] = lambda s: s.stage
) -> dict[tuple[str, str], list[Standard]]:
    """Standards by (map, stage), so a moment meets only its own."""
    index: dict[tuple[str, str], list[Standard]] = {}
    for standard in standards:
        index.setdefault((standard.journey_map, stage_of(standard)), []).append(standard)
    return index


def completion_of(visit: EndingVisit, verdict: VisitVerdict, done_at: datetime) -> Completion:
    """A completed visit, stored and published as VisitCompleted (keyed by customer id)."""
    event = visit_completed(visit, verdict, done_at)
    payload = event.SerializeToString(deterministic=True)
    headers = cloudevent_headers(
        event_id=event.event_id, source=SOURCE, type_=VISIT_TYPE, time=done_at
    )
    record = Outgoing(JOURNEY_VISITS, visit.customer_id.encode(), payload, headers)
    return Completion(
        visit.visit_id,
        done_at,
        verdict.level,
        verdict.quadrant,
        verdict.perception,
        verdict.satisfaction,
        payload,
        record,
    )


class ScoreMoments:
    """The journey batch handler."""

    def __init__(
        self,
        store: JourneyTables,
        standards: Sequence[Standard],
        calendars: Calendars | None = None,
        lateness: timedelta = DEFAULT_LATENESS,
        visit_gaps: Mapping[str, timedelta] | None = None,
    ) -> None:
        self.store = store
        self.standards = tuple(standards)
        self.version = standards_version(self.standards)
        self.calendars = calendars or load_calendars()
        self.visit_gaps = visit_gaps or {m.id: m.visit_gap for m in load_maps().values()}
        self.shortest_gap = min(self.visit_gaps.values(), default=timedelta(0))
        self.lateness = lateness
        self.by_id = {s.standard_id: s for s in self.standards}
        # by (map, stage): what judges a moment there, what it opens, what it keeps
        self.judging = index_by(s for s in self.standards if not s.is_deadline)
        self.opening = index_by(s for s in self.standards if s.is_deadline)
        self.keeping = index_by(
            (s for s in self.standards if s.is_deadline), lambda s: s.deadline_until
        )

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        """Score and store the batch; re-emit duplicates (same ids) so a crash loses nothing."""
        recorded: list[TouchpointRecorded] = []
        outgoing: list[Outgoing] = []
        for record in batch:
            try:
                recorded.append(decode_recorded(record))
            except UnusableRecord as error:
                outgoing.append(dead_letter_unusable(record, JOURNEY_DLQ, error))
        customers = sorted({r.customer_id for r in recorded})
        on_time = [to_datetime(r.touchpoint.occurred_at) for r in recorded if not r.late]
        stored = await self.store.settle(
            customers,
            max(on_time, default=None),
            self.lateness,
            lambda ledger: self.decide(recorded, ledger),
            self.shortest_gap,
        )
        return outgoing + [moment_record(row) for row in stored]

    def decide(self, batch: Sequence[TouchpointRecorded], ledger: Ledger) -> Settlement:
        """Score each moment, open and keep deadlines, and miss the ones event time passed."""
        waiting = list(ledger.waiting)
        settlement = Settlement(moments=[])
        for recorded in batch:
            moment_id = derived_id("moment", recorded.touchpoint.event_id)
            judgements = self.judge(recorded, moment_id, waiting, settlement)
            event = moment_scored(recorded, verdict_of(judgements), self.version)
            settlement.moments.append(row_of(event))
            tp = recorded.touchpoint
            openers = self.opening.get((tp.journey_map, tp.stage))
            if openers:
                calendar = self.calendars.for_site(tp.site_id)
                opened = deadlines_opened(opening_of(recorded, moment_id), openers, calendar)
                settlement.opened.extend(opened)
                waiting.extend(opened)
        overdue = {d.deadline_id: d for d in ledger.overdue}
        if ledger.watermark is not None:
            late = [d for d in waiting if is_overdue(d, ledger.watermark, self.lateness)]
            overdue.update({d.deadline_id: d for d in late})
        settlement.missed.extend(
            self.miss(d) for d_id, d in sorted(overdue.items()) if d_id not in settlement.kept
        )
        settlement.completed.extend(self.complete(ledger, settlement))
        return settlement

    def complete(self, ledger: Ledger, settlement: Settlement) -> list[Completion]:
        """The visits whose gap has passed by event time, oldest first, with their verdicts."""
        if ledger.watermark is None:
            return []
        touched = {m.visit_id for m in settlement.moments}
        history = {v.customer_id: list(v.past) for v in ledger.ending}
        completions = []
        for visit in sorted(ledger.ending, key=lambda v: (v.last_at, v.visit_id)):
            done_at = visit.last_at + self.visit_gaps.get(visit.journey_map, self.shortest_gap)
            if visit.visit_id in touched or done_at + self.lateness >= ledger.watermark:
                continue
            past = sorted(
                (p for p in history[visit.customer_id] if p[0] < visit.first_at), reverse=True
            )
            verdict = verdict_of_visit(results_of(visit.moments), [p for _, p in past])
            history[visit.customer_id].append((visit.last_at, verdict.perception))
            completions.append(completion_of(visit, verdict, done_at))
        return completions

    def judge(
        self,
        recorded: TouchpointRecorded,
        moment_id: str,
        waiting: list[Deadline],
        settlement: Settlement,
    ) -> tuple[Judgement, ...]:
        """The moment's own judgements, and those of the deadlines it comes for."""
        tp = recorded.touchpoint
        place = (tp.journey_map, tp.stage)
        judgements = list(score(moment_of(tp), self.judging.get(place, ())).judgements)
        at = to_datetime(tp.occurred_at)
        for standard in self.keeping.get(place, ()):
            deadline = first_waiting(waiting, standard.standard_id, recorded.customer_id, at)
            if deadline is not None:
                judgements.append(kept(standard, deadline, at))
                settlement.kept[deadline.deadline_id] = moment_id
                waiting.remove(deadline)
        return tuple(judgements)

    def miss(self, deadline: Deadline) -> MissedDeadline:
        """The lost moment of a deadline nothing kept (none if its standard was withdrawn)."""
        standard = self.by_id.get(deadline.standard_id)
        if standard is None:
            return MissedDeadline(deadline.deadline_id, None, None)
        row = row_of(missed_moment(deadline, missed(standard, deadline), self.version))
        return MissedDeadline(deadline.deadline_id, row, moment_record(row))
