"""Journey's store in memory: storage only; the batch's decision (batch_decision.py) is handed in,
as to Postgres."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from tests.fakes.customer_links import MemoryCustomerLinks
from touchstone.journey.deadlines import Deadline
from touchstone.journey.lane_clocks import LaneState, after
from touchstone.journey.ports import (
    BatchKeys,
    Completion,
    Decide,
    Ledger,
    MomentFilter,
    MomentRow,
    Promotion,
    Settlement,
    VisitFilter,
    VisitRow,
)
from touchstone.journey.stage_days import MomentMark, StageFigures, roll_up
from touchstone.journey.visits import Tally, VisitState
from touchstone.platform.messaging.topics import Outgoing


class MemoryJourneyStore(MemoryCustomerLinks):
    """JourneyStore and DeadlineStore in memory."""

    def __init__(self) -> None:
        super().__init__()
        self.moments: dict[str, MomentRow] = {}
        self.deadlines: dict[str, Deadline] = {}
        self.kept: dict[str, str] = {}  # deadline id -> moment id
        self.missed: set[str] = set()
        self.lanes: dict[int, LaneState] = {}  # lane -> its clock and its sources' progress
        self.visit_lanes: dict[str, int] = {}
        self.outbox: list[Outgoing] = []
        self.completed: dict[str, Completion] = {}
        self.visit_tallies: dict[str, Tally] = {}
        self.visit_seen: dict[str, datetime] = {}
        self.stage_marks: list[MomentMark] = []
        self.promoted: dict[str, Promotion] = {}  # by event id, in the order taken

    async def settle(
        self, keys: BatchKeys, lateness: timedelta, visit_gap: timedelta, decide: Decide
    ) -> list[MomentRow]:
        before = {lane: self.lanes[lane] for lane in keys.steps if lane in self.lanes}
        later = {
            lane: after(before.get(lane, LaneState()), keys.steps[lane]) for lane in keys.steps
        }
        self.lanes.update(later)
        watermarks = {lane: s.clock for lane, s in later.items() if s.clock is not None}
        quiet_since = {lane: w - lateness - visit_gap for lane, w in watermarks.items()}
        states = self._visit_states()
        quiet = {
            v.customer_id
            for v in states
            if not v.completed and v.lane in quiet_since and v.quiet_from < quiet_since[v.lane]
        }
        visits = [
            v
            for v in states
            if v.visit_id in keys.visits
            or (not v.completed and (v.customer_id in keys.customers or v.customer_id in quiet))
        ]
        customers = {*keys.customers, *(v.customer_id for v in visits)}
        open_now = await self.open_deadlines()
        ledger = Ledger(
            lanes=before,
            after=later,
            waiting=tuple(d for d in open_now if d.customer_id in customers),
            overdue=tuple(
                d
                for d in open_now
                if d.lane in watermarks and d.due_at < watermarks[d.lane] - lateness
            ),
            visits=tuple(visits),
            past={c: self._past(c) for c in customers},
            known=frozenset(m for m in keys.moments if m in self.moments),
        )
        return self._apply(decide(ledger))

    def _apply(self, settlement: Settlement) -> list[MomentRow]:
        new = [*settlement.moments, *(m.moment for m in settlement.missed if m.moment)]
        inserted = {m.moment_id for m in new if m.moment_id not in self.moments}
        stored = [self.moments.setdefault(m.moment_id, m) for m in settlement.moments]
        for m in new:
            self.moments.setdefault(m.moment_id, m)
        for moment_id, mark in settlement.marks.items():
            if moment_id in inserted:
                tally = self.visit_tallies.get(mark.visit_id, Tally()) + mark.tally
                self.visit_tallies[mark.visit_id] = tally
                self.visit_lanes.setdefault(mark.visit_id, mark.lane)
                self.stage_marks.append(mark)
        for visit_id, seen in settlement.seen.items():
            self.visit_seen[visit_id] = max(seen, self.visit_seen.get(visit_id, seen))
        for d in settlement.opened:
            self.deadlines.setdefault(d.deadline_id, d)
        still_open = {d.deadline_id for d in self.deadlines.values()} - self.kept.keys()
        still_open -= self.missed
        self.kept.update({d: m for d, m in settlement.kept.items() if d in still_open})
        for missed in settlement.missed:
            if missed.deadline_id in still_open:
                self.missed.add(missed.deadline_id)
            if missed.record:
                self.outbox.append(missed.record)
        for completion in settlement.completed:
            if completion.visit_id not in self.completed:
                self.completed[completion.visit_id] = completion
                self.outbox.append(completion.record)
        return stored

    def _visits(self) -> dict[str, list[MomentRow]]:
        visits: dict[str, list[MomentRow]] = {}
        for m in sorted(self.moments.values(), key=lambda m: (m.occurred_at, m.moment_id)):
            visits.setdefault(m.visit_id, []).append(m)
        return visits

    def _visit_states(self) -> list[VisitState]:
        states = []
        for visit_id, rows in self._visits().items():
            first, verdicts = rows[0], [m.verdict for m in rows]
            states.append(
                VisitState(
                    visit_id,
                    first.customer_id,
                    first.site_id,
                    first.journey_map,
                    first.occurred_at,
                    rows[-1].occurred_at,
                    verdicts.count("win"),
                    verdicts.count("lose"),
                    self.visit_tallies.get(visit_id, Tally()),
                    visit_id in self.completed,
                    self.visit_seen.get(visit_id),
                    self.visit_lanes.get(visit_id, 0),
                )
            )
        return states

    def _past(self, customer_id: str) -> tuple[tuple[datetime, float], ...]:
        return tuple(
            (v.last_at, self.completed[v.visit_id].perception)
            for v in self._visit_states()
            if v.customer_id == customer_id and v.completed
        )

    async def open_deadlines(self) -> list[Deadline]:
        done = self.kept.keys() | self.missed
        waiting = [d for d in self.deadlines.values() if d.deadline_id not in done]
        return sorted(waiting, key=lambda d: (d.due_at, d.deadline_id))

    async def save_moments(self, moments: Sequence[MomentRow]) -> None:
        for row in moments:
            self.moments.setdefault(row.moment_id, row)

    async def list_moments(
        self, where: MomentFilter, after: tuple[datetime, str] | None, limit: int
    ) -> list[MomentRow]:
        wanted = {k: v for k, v in vars(where).items() if v and k not in ("since", "until")}
        rows = sorted(self.moments.values(), key=lambda m: (m.occurred_at, m.moment_id))
        rows = [
            m
            for m in rows
            if self.matches(m, wanted)
            and (where.since is None or m.occurred_at >= where.since)
            and (where.until is None or m.occurred_at < where.until)
        ]
        return [m for m in rows if after is None or (m.occurred_at, m.moment_id) > after][:limit]

    async def get_visit(self, visit_id: str) -> tuple[VisitRow, list[MomentRow]] | None:
        rows = await self.list_moments(MomentFilter(visit_id=visit_id), None, 10**9)
        if not rows:
            return None
        first, verdicts = rows[0], [m.verdict for m in rows]
        visit = VisitRow(
            visit_id,
            first.customer_id,
            first.site_id,
            first.journey_map,
            verdicts.count("win"),
            verdicts.count("lose"),
            self.completed[visit_id].completion if visit_id in self.completed else None,
            first.occurred_at,
            rows[-1].occurred_at,
        )
        return visit, rows

    async def list_visits(
        self, where: VisitFilter, after: tuple[datetime, str] | None, limit: int
    ) -> list[VisitRow]:
        visits = [v for v, _ in [await self.get_visit(i) for i in self._visits()] if v]
        wanted = {k: v for k, v in vars(where).items() if v and k != "completed_only"}
        chosen = [
            v
            for v in visits
            if self.matches(v, wanted) and (v.completion or not where.completed_only)
        ]
        chosen.sort(key=lambda v: (v.last_at, v.visit_id))
        return [v for v in chosen if after is None or (v.last_at, v.visit_id) > after][:limit]

    async def stage_figures(
        self, journey_map: str, site_id: str, first: date, last: date
    ) -> dict[str, StageFigures]:
        chosen = [
            (place, figures)
            for place, figures in roll_up(self.stage_marks).items()
            if place.journey_map == journey_map
            and site_id in ("", place.site_id)
            and first <= place.day <= last
        ]
        by_stage: dict[str, StageFigures] = {}
        for place, figures in chosen:
            by_stage[place.stage] = by_stage.get(place.stage, StageFigures()) + figures
        return by_stage

    async def take_promotions(self, promotions: Sequence[Promotion]) -> None:
        for promotion in promotions:
            self.promoted.setdefault(promotion.event_id, promotion)

    async def promotions(self) -> list[Promotion]:
        # stable: among equal effective times, in the order taken
        return sorted(self.promoted.values(), key=lambda p: p.effective_from)

    async def latest_promotion(self) -> Promotion | None:
        return next(reversed(await self.promotions()), None)

    async def verdict_counts(self, sites: Sequence[str] | None = None) -> dict[str, int]:
        verdicts = [m.verdict for m in self.moments.values() if sites is None or m.site_id in sites]
        return {v: verdicts.count(v) for v in ("win", "lose", "unscored")}
