"""Deciding one batch, one record at a time in log order, as if nothing were batched.

A lane is one partition of journey's input: every contact of the customers keyed to it, with
their deadlines and visits. Before each record, its lane's clock as it stood then breaks the
lane's deadlines it has passed and completes the lane's visits whose gap it has passed; then the
record is scored, keeps or opens its deadlines and joins its visit. The clock moves by what
contacts tells the lane of each source's progress (lane_clocks.py): the least of them once all
have spoken, and until then by the lane's own records on time. So the same log decides the same
losses and completions whatever the batches were and however the lanes' records interleave, and
a source that lags holds its deadlines back instead of missing them early.
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.journey.codec import (
    VERDICT_NAMES,
    missed_moment,
    moment_of,
    moment_scored,
    visit_completed,
)
from touchstone.journey.deadlines import (
    Deadline,
    Opening,
    deadlines_opened,
    first_waiting,
    missed_before,
)
from touchstone.journey.deadlines import kept as kept_judgement
from touchstone.journey.deadlines import missed as missed_judgement
from touchstone.journey.domain import Judgement, Standard, score, verdict_of
from touchstone.journey.lane_clocks import LaneState, Progress
from touchstone.journey.moment_records import completion_of, moment_record, opening_of, row_of
from touchstone.journey.ports import Ledger, MissedDeadline, Settlement
from touchstone.journey.stage_days import MomentMark, StageDay
from touchstone.journey.v1.events_pb2 import MomentScored
from touchstone.journey.visits import Result, Tally, VisitState, verdict_from
from touchstone.platform.runtime.ids import derived_id
from touchstone.platform.runtime.prototime import to_datetime
from touchstone.shared_kernel.calendar import Calendars

Index = Mapping[tuple[str, str], Sequence[Standard]]  # (map, stage) -> standards


@dataclass(frozen=True)
class Rules:
    """Everything a batch is judged by."""

    judging: Index  # what judges a moment at (map, stage)
    opening: Index  # the deadlines a moment there opens
    keeping: Index  # the deadlines a moment there keeps
    by_id: Mapping[str, Standard]
    version: str
    calendars: Calendars
    visit_gaps: Mapping[str, timedelta]
    shortest_gap: timedelta
    lateness: timedelta


@dataclass(frozen=True)
class Versions:
    """The standards a batch judges by: the base ones, then each promoted version from its
    effective time (event time) on."""

    base: Rules
    promoted: tuple[tuple[datetime, Rules], ...] = ()  # by effective time

    def at(self, when: datetime) -> Rules:
        """The rules in force at that event time: the latest promoted by then, else the base."""
        n = bisect.bisect_right(self.promoted, when, key=lambda version: version[0])
        return self.promoted[n - 1][1] if n else self.base


def with_visit(recorded: TouchpointRecorded, visit_id: str) -> TouchpointRecorded:
    """The recorded touchpoint, in this visit."""
    grouped = TouchpointRecorded()
    grouped.CopyFrom(recorded)
    grouped.visit_id = visit_id
    return grouped


def tally_of(judgements: Sequence[Judgement]) -> Tally:
    """What a moment's judgements add to its visit's verdict."""
    return Tally.of(
        [Result(j.met, j.standard.weight, j.standard.side, j.surprised) for j in judgements]
    )


class BatchDecision:
    """One batch decided against its ledger."""

    def __init__(self, versions: Versions, ledger: Ledger) -> None:
        self.versions = versions
        self.rules = versions.base  # what every version shares: calendars, gaps, lateness
        self.ledger = ledger
        self.lanes = dict(ledger.lanes)  # lane -> its clock and its sources' progress
        self.settlement = Settlement(moments=[])
        self.open = {d.deadline_id: d for d in (*ledger.waiting, *ledger.overdue)}
        self.visits = {v.visit_id: v for v in ledger.visits}
        self.by_customer: defaultdict[str, set[str]] = defaultdict(set)  # customer -> visit ids
        for v in ledger.visits:
            self.by_customer[v.customer_id].add(v.visit_id)
        self.past = {customer: list(p) for customer, p in ledger.past.items()}
        self.taken: set[str] = set(ledger.known)  # moments stored, or taken earlier in the batch
        # What each lane's clock may pass next, soonest first: advance() runs before every
        # record, so it pops what is due instead of scanning every deadline and visit each time.
        self.dues: defaultdict[int, list[tuple[datetime, str]]] = defaultdict(list)
        for d in self.open.values():
            self.dues[d.lane].append((d.due_at, d.deadline_id))
        self.ends: defaultdict[int, list[tuple[datetime, str]]] = defaultdict(list)
        for v in self.visits.values():
            if not v.completed:
                self.ends[v.lane].append((self.end_of(v), v.visit_id))
        for heap in (*self.dues.values(), *self.ends.values()):
            heapq.heapify(heap)
        self.pending = Counter(d.visit_id for d in self.open.values())  # visit -> open deadlines

    def run(
        self, items: Sequence[tuple[int, TouchpointRecorded | Progress]], moment_ids: Sequence[str]
    ) -> Settlement:
        """Decide every item in order, each in its lane: a source's progress moves the lane's
        clock (lane_clocks.py); a record is scored under its moment id (moment_ids, one a
        record, in order) and, on time, moves the clock while the lane has not heard from every
        source. Then what each lane's clock has passed."""
        ids = iter(moment_ids)
        for lane, item in items:
            state = self.lanes.get(lane, LaneState())
            if isinstance(item, Progress):
                self.lanes[lane] = state.heard(item)
                self.advance(lane)
                continue
            self.advance(lane)
            self.take(item, next(ids), lane)
            if not item.late:
                self.lanes[lane] = state.saw(to_datetime(item.touchpoint.occurred_at))
        for lane in sorted(self.lanes):
            self.advance(lane)
        return self.settlement

    def clock(self, lane: int) -> datetime | None:
        """The lane's clock as it stands."""
        state = self.lanes.get(lane)
        return state.clock if state else None

    def advance(self, lane: int) -> None:
        """Miss the lane's deadlines and complete its visits that its clock has passed, oldest
        first."""
        clock = self.clock(lane)
        if clock is None:
            return
        passed = clock - self.rules.lateness
        dues, ends = self.dues[lane], self.ends[lane]
        while dues and dues[0][0] < missed_before(clock, self.rules.lateness):
            _, deadline_id = heapq.heappop(dues)
            if deadline_id in self.open:
                self.miss(self.open[deadline_id])
        while ends and ends[0][0] < passed:  # again while a completion lets a waiting one end
            ended: dict[str, VisitState] = {}
            while ends and ends[0][0] < passed:
                end, visit_id = heapq.heappop(ends)
                visit = self.visits[visit_id]
                # a stale entry (the visit has grown since) or one held open by a pending
                # deadline is skipped: the visit is pushed again whenever its end or its
                # deadlines change, or an earlier visit it waits for completes
                if not visit.completed and not self.pending[visit_id] and self.end_of(visit) == end:
                    ended[visit_id] = visit
            for visit in sorted(ended.values(), key=lambda v: (v.last_at, v.visit_id)):
                if not self.waits_for_earlier(visit):
                    self.complete(visit)

    def waits_for_earlier(self, visit: VisitState) -> bool:
        """Whether a visit of the customer's that ended before this one began is not complete
        yet: the expectation this one is judged against is learnt from those, so it waits for
        them whatever order the clock reached their ends in (a phone call held open by its
        callback deadline keeps the next day's shop visit waiting)."""
        return any(
            not (other := self.visits[v]).completed and other.last_at < visit.first_at
            for v in self.by_customer[visit.customer_id]
            if v != visit.visit_id and v in self.visits
        )

    def watch_end(self, visit_id: str) -> None:
        """(Re)schedule the visit's completion after its end or its deadlines changed."""
        visit = self.visits.get(visit_id)
        if visit is not None and not visit.completed:
            heapq.heappush(self.ends[visit.lane], (self.end_of(visit), visit_id))

    def close(self, deadline: Deadline) -> None:
        """The deadline is settled (kept or missed): its visit may end now."""
        del self.open[deadline.deadline_id]
        self.pending[deadline.visit_id] -= 1
        self.watch_end(deadline.visit_id)

    def end_of(self, visit: VisitState) -> datetime:
        """When the lane's clock may complete the visit: its map's visit gap after its last
        contact, and after the lane's clock saw that contact come (a late visit still gets a gap
        to arrive whole). Arrival decides this, so it is not the visit's completion time."""
        return visit.quiet_from + self.gap_of(visit)

    def completed_at(self, visit: VisitState) -> datetime:
        """The visit's completion in event time: its map's visit gap after its last contact,
        whenever the contacts arrived."""
        return visit.last_at + self.gap_of(visit)

    def gap_of(self, visit: VisitState) -> timedelta:
        """The visit gap of the visit's map."""
        return self.rules.visit_gaps.get(visit.journey_map, self.rules.shortest_gap)

    def take(self, recorded: TouchpointRecorded, moment_id: str, lane: int) -> None:
        """Score one record; unless it is a redelivery, keep, open and join what it should."""
        tp = recorded.touchpoint
        place = (tp.journey_map, tp.stage)
        rules = self.versions.at(to_datetime(tp.occurred_at))
        judgements = list(score(moment_of(tp), rules.judging.get(place, ())).judgements)
        fresh = moment_id not in self.taken  # a repeat (even within the batch) changes nothing
        self.taken.add(moment_id)
        if fresh and not tp.visit_id:  # the producer named no visit: group by the map's gap
            recorded = with_visit(recorded, self.visit_by_gap(recorded, moment_id))
        if fresh:
            judgements += self.keep(recorded, moment_id, rules.keeping.get(place, ()))
        scored = verdict_of(tuple(judgements))
        event = moment_scored(recorded, moment_id, scored, rules.version)
        row = row_of(event)
        self.settlement.moments.append(row)
        if fresh:
            self.join(event, tally_of(judgements), self.clock(lane), lane)
            openers = rules.opening.get(place)
            if openers:
                self.open_deadlines(opening_of(recorded, moment_id, lane), openers)

    def visit_by_gap(self, recorded: TouchpointRecorded, moment_id: str) -> str:
        """The customer's open visit on the map at the site that the moment falls within the
        map's visit gap of (the nearest, if several), or a new one named after the moment."""
        tp = recorded.touchpoint
        at = to_datetime(tp.occurred_at)
        gap = self.rules.visit_gaps.get(tp.journey_map, self.rules.shortest_gap)
        near = [
            v
            for visit_id in self.by_customer[recorded.customer_id]
            if not (v := self.visits[visit_id]).completed
            and (v.journey_map, v.site_id) == (tp.journey_map, tp.site_id)
            and v.first_at - gap <= at <= v.last_at + gap
        ]
        if not near:
            return derived_id("visit", recorded.customer_id, tp.journey_map, tp.site_id, moment_id)
        return min(near, key=lambda v: (max(v.first_at - at, at - v.last_at), v.visit_id)).visit_id

    def keep(
        self, recorded: TouchpointRecorded, moment_id: str, keepers: Sequence[Standard]
    ) -> list[Judgement]:
        """The judgements of the deadlines this moment comes for (in time or late)."""
        at = to_datetime(recorded.touchpoint.occurred_at)
        judged = []
        for standard in keepers:
            waiting = list(self.open.values())
            customer = recorded.customer_id
            lateness = self.rules.lateness
            deadline = first_waiting(waiting, standard.standard_id, customer, at, lateness)
            if deadline is not None:
                judged.append(kept_judgement(standard, deadline, at))
                self.settlement.kept[deadline.deadline_id] = moment_id
                self.close(deadline)
        return judged

    def open_deadlines(self, opening: Opening, openers: Sequence[Standard]) -> None:
        calendar = self.rules.calendars.for_site(opening.site_id)
        for deadline in deadlines_opened(opening, openers, calendar):
            self.settlement.opened.append(deadline)
            self.open[deadline.deadline_id] = deadline
            self.pending[deadline.visit_id] += 1
            heapq.heappush(self.dues[deadline.lane], (deadline.due_at, deadline.deadline_id))

    def join(self, event: MomentScored, tally: Tally, seen: datetime | None, lane: int) -> None:
        """Add a new moment to its visit, as the store will; seen: its lane's clock then."""
        at, visit_id = to_datetime(event.occurred_at), event.visit_id
        self.mark(event, tally, lane, at)
        visit = self.visits.get(visit_id) or VisitState(
            visit_id, event.customer_id, event.site_id, event.journey_map, at, at, lane=lane
        )
        verdict = VERDICT_NAMES[event.verdict]
        self.visits[visit_id] = joined = visit.plus(at, verdict, tally, seen)
        self.by_customer[visit.customer_id].add(visit_id)
        if joined.seen_at is not None:
            self.settlement.seen[visit_id] = joined.seen_at
        self.watch_end(visit_id)

    def mark(self, event: MomentScored, tally: Tally, lane: int, at: datetime) -> None:
        """What the new moment (at `at`) adds to its visit, and to its stage on its site's
        local day."""
        zone = ZoneInfo(self.rules.calendars.for_site(event.site_id).time_zone)  # cached
        place = StageDay(event.site_id, event.journey_map, event.stage, at.astimezone(zone).date())
        verdict = VERDICT_NAMES[event.verdict]
        broken = tuple(r.standard_id for r in event.results if not r.met)
        labels = tuple(
            (kind, label, r.weight, r.weight if r.met else 0.0)
            for r in event.results
            for kind, label in (("area", r.area), ("dimension", r.dimension))
        )
        self.settlement.marks[event.moment_id] = MomentMark(
            event.visit_id, lane, place, verdict, tally, broken, labels
        )

    def miss(self, deadline: Deadline) -> None:
        """The deadline passed with nothing: its lost moment joins the opening visit."""
        self.close(deadline)
        rules = self.versions.at(deadline.due_at)  # the version in force when it falls
        standard = rules.by_id.get(deadline.standard_id)
        if standard is None:  # withdrawn from the standards in force: nobody judges it
            self.settlement.missed.append(MissedDeadline(deadline.deadline_id, None, None))
            return
        judgement = missed_judgement(standard, deadline)
        event = missed_moment(deadline, judgement, rules.version)
        row = row_of(event)
        self.settlement.missed.append(MissedDeadline(deadline.deadline_id, row, moment_record(row)))
        if deadline.visit_id in self.visits:
            self.join(event, tally_of([judgement]), None, deadline.lane)  # at its own time
        else:
            self.mark(event, tally_of([judgement]), deadline.lane, deadline.due_at)

    def complete(self, visit: VisitState) -> None:
        """The visit is over: its verdict, learnt against the customer's earlier visits."""
        history = self.past.setdefault(visit.customer_id, [])
        earlier = sorted((p for p in history if p[0] < visit.first_at), reverse=True)
        verdict = verdict_from(visit.tally, [perception for _, perception in earlier])
        done_at = self.completed_at(visit)
        event = visit_completed(visit, verdict, done_at)
        self.settlement.completed.append(completion_of(event, verdict, done_at))
        self.visits[visit.visit_id] = replace(visit, completed=True)
        history.append((visit.last_at, verdict.perception))
        for later in self.by_customer[visit.customer_id]:  # those that waited for it
            self.watch_end(later)
