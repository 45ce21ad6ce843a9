"""In-memory fakes of the services' store ports, idempotent by key exactly as the SQL is."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from touchstone.contacts.domain import Outcome, classify_repeat
from touchstone.contacts.store import (
    Arrival,
    CustomerRow,
    DeadLetter,
    RecordedTouchpoint,
    StoredTouchpoint,
    VocabularyGapCount,
    conflict_letter,
    gaps_recorded,
)
from touchstone.journey.deadlines import Deadline
from touchstone.journey.lane_clocks import LaneState, after
from touchstone.journey.promotions import Promotion
from touchstone.journey.settlement_store import BatchKeys, Decide, Ledger, Settlement
from touchstone.journey.stage_days import MomentMark, StageFigures, roll_up
from touchstone.journey.store import MomentFilter, MomentRow, VisitFilter, VisitRow
from touchstone.journey.visit_store import Completion
from touchstone.journey.visits import Tally, VisitState
from touchstone.loyalty.at_risk import AtRisk
from touchstone.loyalty.churn import LostMoment as LoyaltyLostMoment
from touchstone.loyalty.domain import Purchase
from touchstone.loyalty.ports import (
    AtRiskTotal,
    Folded,
    History,
    Ranked,
    Standing,
    Told,
    Valuer,
    tell_nothing,
)
from touchstone.loyalty.store import SilenceClock, disjoint, valued_history
from touchstone.loyalty.store_valuing import value_as
from touchstone.loyalty.tiers import TierChanged, load_tiers, tier_of
from touchstone.loyalty.valuation import Facts, Loss, Recovery, Valuation
from touchstone.notify.codec import case_escalated, case_recovered
from touchstone.notify.contact_book import Contact, ContactChange, KeyChange, folded
from touchstone.notify.domain import (
    CaseClosed,
    CaseOpening,
    LostMoment,
    MomentValue,
    UnknownCase,
    UnknownStep,
    Win,
    case_value,
    escalates_for_value,
    note_kept,
    step_moves,
)
from touchstone.notify.openings import (
    OpenedCase,
    as_laid_out,
    earliest_openings,
    moves_opening,
    replanned,
    withdrawn,
)
from touchstone.notify.outcome_rows import outcomes_to_tell
from touchstone.notify.playbooks import PlannedStep, RecoveryPolicy
from touchstone.notify.recovery import CaseFacts, decide_outcome
from touchstone.notify.rows import CaseFilter, CaseRow, StepCommand, TimelineRow
from touchstone.notify.store import OutcomeEvent, ResolveEvent, StepEvent
from touchstone.notify.tasks import task_records
from touchstone.notify.touchpoint_signals import Complaint, SiteVisit
from touchstone.platform.messaging.customer_links import LinkChange, collapsed, group_of, root_of
from touchstone.platform.messaging.topics import Outgoing


class MemoryCustomerLinks:
    """CustomerLinks in memory: every change kept, folded when asked."""

    def __init__(self) -> None:
        self.links: list[LinkChange] = []

    async def fold_links(self, changes: Sequence[LinkChange]) -> None:
        self.links.extend(changes)

    async def customer_group(self, customer_id: str) -> tuple[str, ...]:
        return group_of(self.links, customer_id)

    def matches(self, row: object, wanted: dict[str, str]) -> bool:
        """Whether the row matches every wanted field; customer_id matches the whole group."""
        return all(
            getattr(row, k) in group_of(self.links, v)
            if k == "customer_id"
            else getattr(row, k) == v
            for k, v in wanted.items()
        )


class MemoryContactsStore:
    """ContactsStore in memory."""

    def __init__(self) -> None:
        self.touchpoints: dict[str, RecordedTouchpoint] = {}
        self.dead: dict[tuple[str, int, int], DeadLetter] = {}
        self.gaps: dict[tuple[str, str, str, str, str], int] = {}
        self.identities: dict[tuple[str, str], str] = {}
        self.conflicts: dict[tuple[str, bytes], bytes] = {}  # (event id, conflicting) -> recorded
        self.outbox: list[Outgoing] = []
        self.erased: set[str] = set()

    async def record(
        self,
        rows: Sequence[RecordedTouchpoint],
        arrivals: Sequence[Arrival | None],
        dead: Sequence[DeadLetter],
        announce: Sequence[Outgoing] = (),
    ) -> list[Outcome]:
        outcomes = await self._record(rows, arrivals, dead)
        for gap in gaps_recorded(rows, outcomes):
            key = (gap.source, gap.journey_map, gap.stage, gap.kind, gap.name)
            self.gaps[key] = self.gaps.get(key, 0) + gap.touchpoints
        if announce:
            new = zip(announce, outcomes, strict=True)
            self.outbox += [e for e, o in new if o is Outcome.RECORDED]
        return outcomes

    async def _record(
        self,
        rows: Sequence[RecordedTouchpoint],
        arrivals: Sequence[Arrival | None],
        dead: Sequence[DeadLetter],
    ) -> list[Outcome]:
        outcomes = []
        for row, arrival in zip(rows, arrivals, strict=True):
            recorded = self.touchpoints.get(row.event_id)
            if recorded is None:
                self.touchpoints[row.event_id] = row
                if row.identity:
                    self.identities.setdefault(row.identity, row.customer_id)
                outcomes.append(Outcome.RECORDED)
                continue
            outcome = classify_repeat(row.payload, recorded.payload)
            if outcome is Outcome.CONFLICT:
                self.conflicts.setdefault((row.event_id, row.payload), recorded.payload)
                if arrival is not None:
                    dead = [*dead, conflict_letter(row, arrival)]
            outcomes.append(outcome)
        for letter in dead:
            a = letter.arrival
            self.dead.setdefault((a.topic, a.partition, a.offset), letter)
        return outcomes

    async def identity_owners(
        self, identities: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        return {i: self.identities[i] for i in identities if i in self.identities}

    async def erased_among(self, customer_ids: Sequence[str]) -> set[str]:
        return set(customer_ids) & self.erased

    async def get_customer(self, customer_id: str) -> CustomerRow | None:
        rows = [t for t in self.touchpoints.values() if t.customer_id == customer_id]
        if not rows:
            return None
        ids = tuple(sorted(k for k, c in self.identities.items() if c == customer_id))
        times = [t.occurred_at for t in rows]
        return CustomerRow(customer_id, min(times), max(times), len(rows), ids)

    async def seen_at(self, customer_id: str, sites: Collection[str]) -> bool:
        return any(
            t.customer_id == customer_id and t.site_id in sites for t in self.touchpoints.values()
        )

    async def list_touchpoints(
        self,
        customer_id: str,
        after: tuple[datetime, str] | None,
        limit: int,
        until: datetime | None = None,
    ) -> list[StoredTouchpoint]:
        rows = sorted(
            (
                t
                for t in self.touchpoints.values()
                if t.customer_id == customer_id and (until is None or t.occurred_at < until)
            ),
            key=lambda t: (t.occurred_at, t.event_id),
        )
        rows = [t for t in rows if after is None or (t.occurred_at, t.event_id) > after]
        return [
            StoredTouchpoint(t.event_id, t.customer_id, t.visit_id, t.occurred_at, t.payload)
            for t in rows[:limit]
        ]

    async def stats(self, sites: Sequence[str] | None = None) -> tuple[int, int]:
        if sites is None:
            return len(self.touchpoints), len(self.dead)
        return sum(t.site_id in sites for t in self.touchpoints.values()), 0

    async def vocabulary_gaps(self) -> list[VocabularyGapCount]:
        counts = [VocabularyGapCount(*key, n) for key, n in self.gaps.items()]
        return sorted(
            counts, key=lambda g: (-g.touchpoints, g.source, g.journey_map, g.stage, g.kind, g.name)
        )


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


class MemoryLoyaltyStore(MemoryCustomerLinks):
    """LoyaltyStore in memory."""

    def __init__(self) -> None:
        super().__init__()
        self.purchases: dict[str, Purchase] = {}
        self.losses: dict[str, Loss] = {}
        self.recovered: dict[str, Recovery] = {}
        self.erased: set[str] = set()
        self.values: dict[str, Valuation] = {}  # ranked: customers as known now, not erased
        self.at_risk: dict[str, AtRisk] = {}  # by moment, erased customers' too
        self.tiers = load_tiers()
        self.last_contact: dict[str, tuple[datetime, int]] = {}  # customer -> (when, lane)
        self.outbox: list[Outgoing] = []  # what folds told, until relayed()
        self.clocks: dict[int, datetime] = {}
        self.silences: dict[str, tuple[str, int, datetime, bool]] = {}  # moment -> customer,
        # lane, when silence begins, whether it has
        self.tier: dict[str, str] = {}  # as kept with each ranked customer

    def _history(self, group: set[str]) -> tuple[list[Purchase], list[LoyaltyLostMoment]]:
        bought = [p for p in self.purchases.values() if p.customer_id in group]
        lost = [
            replace(x.moment, recovered=True, recovered_at=self.recovered[m].recovered_at)
            if (m := x.moment.moment_id) in self.recovered
            else x.moment
            for x in self.losses.values()
            if x.customer_id in group
        ]
        return bought, lost

    async def fold(self, facts: Facts, valuer: Valuer, told: Told = tell_nothing) -> Folded:
        """As the Postgres store: what `told` makes of the facts and changes goes to the
        outbox (here: self.outbox, which relayed() empties)."""
        folded = await self._fold(facts, valuer)
        self.outbox.extend(told(facts, folded))
        return folded

    def relayed(self) -> list[Outgoing]:
        """What the outbox holds, taken out (as the relay publishes and deletes it)."""
        taken, self.outbox = self.outbox, []
        return taken

    async def _fold(self, facts: Facts, valuer: Valuer) -> Folded:
        for p in facts.purchases:
            self.purchases.setdefault(p.event_id, p)
        for x in facts.losses:
            self.losses.setdefault(x.moment.moment_id, x)
        cases = {c.case_id for c in facts.reopened}
        reopened = {m for m, r in self.recovered.items() if r.case_id in cases}
        self.recovered = {m: r for m, r in self.recovered.items() if m not in reopened}
        for r in facts.recoveries:
            self.recovered.setdefault(r.moment_id, r)
        self.erased.update(facts.erased)
        self.links.extend(facts.links)
        for c in facts.contacts:
            seen = self.last_contact.get(c.customer_id)
            if seen is None or c.occurred_at > seen[0]:
                self.last_contact[c.customer_id] = (c.occurred_at, c.lane)
            self.clocks[c.lane] = max(self.clocks.get(c.lane, c.occurred_at), c.occurred_at)
        back = {root_of(self.links, c.customer_id) for c in facts.contacts}
        moved = {
            customer
            for customer, lane, due_at, fired in self.silences.values()
            if customer in back or (not fired and due_at <= self.clocks[lane])
        }
        every = {group_of(self.links, c) for c in {*facts.customers, *moved}}
        groups = {
            (root, *members[1:]) for root, members in disjoint({g[0]: g for g in every}).items()
        }
        presence = {g[0]: p for g in groups if (p := self._presence(g)) is not None}
        valued = {
            g[0]: value_as(g[0], valuer(*self._history(set(g)), presence.get(g[0]))) for g in groups
        }
        erased = {g[0] for g in groups if self.erased & set(g)}
        members = {m for g in groups for m in g}
        self.silences = {m: s for m, s in self.silences.items() if s[0] not in members}
        for root, valuation in valued.items():
            if root not in erased and root in presence:
                clock = presence[root]
                for moment, at in valuation.silence_due:
                    self.silences[moment] = (root, clock.lane, at, at <= clock.clock)
        sites = {v.value.site_id for c, v in self.values.items() if c in members and v.value}
        for group in groups:
            for gone in group[1:] if group[0] not in erased else group:
                self.values.pop(gone, None)
                self.tier.pop(gone, None)
        revalued: set[str] = set()
        for root, valuation in valued.items():
            revalued |= {
                r.moment_id for r in valuation.at_risk if self.at_risk.get(r.moment_id) != r
            }
            self.at_risk.update({r.moment_id: r for r in valuation.at_risk})
            if root not in erased:
                before = self.values.get(root)
                was = before.value.site_id if before and before.value else None
                if valuation.value and was not in (None, valuation.value.site_id):
                    self.tier.pop(root, None)  # a new site ranks afresh
                self.values[root] = valuation
                sites |= {valuation.value.site_id} if valuation.value else set()
        kept = {root: v for root, v in valued.items() if root not in erased}
        folded = collapsed(self.links)
        revisions = {
            g[0]: n
            for g in groups
            if (n := sum(c.survivor_id in g or c.absorbed_id in g for c in folded))
        }
        changes = [c for site in sorted(sites) for c in self._retier(site)]
        reopened -= {r.moment_id for r in facts.recoveries}
        return Folded(kept, changes, revisions, reopened, revalued)

    def _presence(self, group: tuple[str, ...]) -> SilenceClock | None:
        seen = [self.last_contact[m] for m in group if m in self.last_contact]
        if not seen:
            return None
        last_at, lane = max(seen)
        return SilenceClock(last_at, self.clocks[lane], lane)

    async def retier(self) -> list[TierChanged]:
        sites = {v.value.site_id for v in self.values.values() if v.value}
        return [c for site in sorted(sites) for c in self._retier(site)]

    def _retier(self, site_id: str) -> list[TierChanged]:
        ranked = self._at_site(site_id)
        changes = []
        for rank, r in enumerate(ranked, start=1):
            tier = tier_of(self.tiers, rank, len(ranked))
            if self.tier.get(r.customer_id) != tier:
                was = self.tier.get(r.customer_id, "")
                self.tier[r.customer_id] = tier
                changes.append(
                    TierChanged(
                        r.customer_id,
                        site_id,
                        tier,
                        was,
                        rank,
                        len(ranked),
                        r.currency,
                        r.lifetime_value_minor,
                    )
                )
        return changes

    async def is_erased(self, customer_id: str) -> bool:
        return bool(self.erased & set(group_of(self.links, customer_id)))

    async def get_history(self, customer_id: str) -> History | None:
        group = group_of(self.links, customer_id)
        bought, lost = self._history(set(group))
        presence = self._presence(group)
        at_risk = {
            m.moment_id: self.at_risk[m.moment_id] for m in lost if m.moment_id in self.at_risk
        }
        return History(group[0], bought, lost, presence, at_risk) if bought or lost else None

    async def get_value(self, customer_id: str, valuer: Valuer) -> Valuation | None:
        return valued_history(await self.get_history(customer_id), valuer)

    async def standing(self, customer_id: str) -> Standing | None:
        valuation = self.values.get(customer_id)
        if valuation is None or valuation.value is None:
            return None
        site = self._at_site(valuation.value.site_id)
        rank = [r.customer_id for r in site].index(customer_id) + 1
        return Standing(valuation.value.site_id, rank, len(site))

    def _at_site(self, site_id: str) -> list[Ranked]:
        at_site = [
            Ranked(v.customer_id, v.currency, v.lifetime_value_minor, v.churn_risk or Decimal(0))
            for valuation in self.values.values()
            if (v := valuation.value) is not None and v.site_id == site_id
        ]
        return sorted(at_site, key=lambda r: (-r.lifetime_value_minor, r.customer_id))

    async def site_customers(self, site_id: str) -> int:
        return len(self._at_site(site_id))

    async def ranked(self, site_id: str, offset: int, limit: int) -> list[Ranked]:
        return self._at_site(site_id)[offset : offset + limit]

    async def value_at_risk(
        self, site_id: str, since: datetime, until: datetime
    ) -> list[AtRiskTotal]:
        totals: dict[str, list[int]] = {}
        for r in self.at_risk.values():
            if since <= r.occurred_at < until and site_id in ("", r.site_id):
                t = totals.setdefault(r.currency, [0, 0, 0, 0])
                t[0] += r.remaining_minor
                t[1] += r.saved_minor
                t[2] += 1
                t[3] += r.recovered
        return [AtRiskTotal(c, *t) for c, t in sorted(totals.items())]


def _wanted_steps(case: CaseRow, where: CaseFilter) -> bool:
    """ListCases' owner and overdue filters, on an open case's steps not done yet."""
    undone = [s for s in case.steps if s.status != "done"]
    owned = not where.owner or any(
        s.owner == where.owner or (where.owner == "duty_manager" and s.escalated) for s in undone
    )
    late = where.overdue_at is None or any(
        s.owner != "system" and s.due_at < where.overdue_at for s in undone
    )
    return (not (where.owner or where.overdue_at) or case.status == "open") and owned and late


class MemoryNotifyStore(MemoryCustomerLinks):
    """NotifyStore in memory."""

    def __init__(self, outcome_event: OutcomeEvent = case_recovered) -> None:
        super().__init__()
        self.outcome_event = outcome_event
        self.cases: dict[str, CaseRow] = {}
        self.joined: dict[str, tuple[str, str, datetime]] = {}  # moment -> case, reason, when
        self.wins: dict[str, Win] = {}
        self.plans: dict[str, tuple[str, tuple[PlannedStep, ...]]] = {}  # case -> playbook, steps
        self.outbox: list[Outgoing] = []
        self.values: dict[str, MomentValue] = {}
        self.value_escalated: set[str] = set()
        self.contacts: dict[str, Contact] = {}
        self.keys: dict[str, bytes] = {}
        self.erased: set[str] = set()
        self.visits: dict[tuple[str, str], datetime] = {}
        self.tiers: dict[str, str] = {}
        self.complaints: dict[str, Complaint] = {}

    async def case_timeline(self, case_id: str) -> list[TimelineRow]:
        """What the memory store keeps times of: lost moments, and a win or staff recovery."""
        case = await self._known(case_id)
        rows = [
            TimelineRow(at, "lost_moment", 0, reason)
            for _, (c, reason, at) in self.joined.items()
            if c == case_id
        ]
        if case.recovered_at is not None:
            what, detail = (
                ("resolved", case.resolved_by)
                if case.resolved_by
                else (
                    "recovered",
                    case.recovered_by,
                )
            )
            rows.append(TimelineRow(case.recovered_at, what, 0, detail))
        return sorted(rows, key=lambda r: (r.at, r.n, r.what))

    async def fold_tiers(self, tiers: Sequence[tuple[str, str]]) -> None:
        self.tiers.update(dict(tiers))

    async def tiers_of(self, customer_ids: Sequence[str]) -> dict[str, str]:
        return {
            c: self.tiers.get(c) or self.tiers.get(root_of(self.links, c), "") for c in customer_ids
        }

    async def record_visits(
        self, visits: Sequence[SiteVisit], complaints: Sequence[Complaint]
    ) -> None:
        for v in visits:
            seen = self.visits.get((v.site_id, v.visit_id))
            self.visits[(v.site_id, v.visit_id)] = min(seen, v.first_at) if seen else v.first_at
        self.complaints.update(
            {c.event_id: c for c in complaints if c.event_id not in self.complaints}
        )

    async def fold_keys(self, changes: Sequence[KeyChange]) -> None:
        for change in changes:
            if change.key:
                self.keys[change.customer_id] = change.key
            else:
                self.keys.pop(change.customer_id, None)

    async def fold_contacts(self, changes: Sequence[ContactChange]) -> None:
        for change in changes:
            if change.erased:
                self.contacts.pop(change.customer_id, None)
                self.keys.pop(change.customer_id, None)
                self.erased.add(change.customer_id)
            else:
                contact = self.contacts.get(change.customer_id, Contact(change.customer_id))
                self.contacts[change.customer_id] = folded(contact, change)

    def _totals(self, case_id: str) -> dict[str, int]:
        """The case's values at risk by currency."""
        totals: dict[str, int] = {}
        for moment_id, (case, _, _) in self.joined.items():
            value = self.values.get(moment_id)
            if case == case_id and value is not None:
                totals[value.currency] = totals.get(value.currency, 0) + value.value_at_risk_minor
        return totals

    async def weigh(
        self, values: Sequence[MomentValue], moment_ids: Sequence[str], policy: RecoveryPolicy
    ) -> None:
        self.values.update({v.moment_id: v for v in values})
        ids = {*moment_ids, *(v.moment_id for v in values)}
        for case_id in sorted({self.joined[m][0] for m in ids if m in self.joined}):
            if self.cases[case_id].status != "open" or case_id in self.value_escalated:
                continue
            value = case_value(self._totals(case_id))
            if value is None or not escalates_for_value(value, policy):
                continue
            playbook, steps = self.plans[case_id]
            due = self.cases[case_id].due_at
            step = PlannedStep(
                max((s.n for s in steps), default=0) + 1,
                "step_in",
                "duty_manager",
                "in_person",
                due,
            )
            self.plans[case_id] = (playbook, (*steps, step))
            self.value_escalated.add(case_id)
            at = max(
                when
                for m, (case, _, when) in self.joined.items()
                if case == case_id and m in self.values
            )
            case = await self._known(case_id)
            self.outbox.extend(
                [case_escalated(case, step, at, value), *task_records(case, at, step.n)]
            )

    async def take_step(self, command: StepCommand, at: datetime, event: StepEvent) -> CaseRow:
        case = await self._known(command.case_id)
        if case.status == "lost":
            raise CaseClosed(f"case {case.case_id} was closed as lost")
        step = next((s for s in case.steps if s.n == command.n), None)
        if step is None:
            raise UnknownStep(f"case {case.case_id} has no step {command.n}")
        command = replace(command, note=note_kept(command.note, case.customer_id in self.erased))
        if step_moves(step.status, command.completed):
            status = "done" if command.completed else "acknowledged"
            playbook, steps = self.plans[case.case_id]
            moved = replace(step, status=status, taken_by=command.by, taken_at=at)
            self.plans[case.case_id] = (
                playbook,
                tuple(moved if s.n == step.n else s for s in steps),
            )
            now = await self._known(command.case_id)
            self.outbox.extend([event(case, step, command, at), *task_records(now, at, step.n)])
        return await self._known(command.case_id)

    async def resolve(
        self, case_id: str, by: str, note: str, at: datetime, event: ResolveEvent
    ) -> CaseRow:
        case = await self._known(case_id)
        if not case.resolved_by:
            note = note_kept(note, case.customer_id in self.erased)
            recovered_at = case.recovered_at or at
            self.cases[case_id] = replace(
                self.cases[case_id], status="recovered", resolved_by=by, recovered_at=recovered_at
            )
            resolved = await self._known(case_id)
            self.outbox.extend([event(resolved, at), *task_records(resolved, at)])
        return await self._known(case_id)

    async def _known(self, case_id: str) -> CaseRow:
        case = await self.get_case(case_id)
        if case is None:
            raise UnknownCase(f"case {case_id} not found")
        return case

    async def settle(
        self, wins: Sequence[Win], customers: Sequence[str], joined: Sequence[str]
    ) -> None:
        for w in wins:
            self.wins.setdefault(w.moment_id, w)
        touched = {
            m for c in {*(w.customer_id for w in wins), *customers} for m in group_of(self.links, c)
        }
        outcomes, moved = [], set()
        for case in sorted(self.cases.values(), key=lambda c: c.case_id):
            if case.customer_id not in touched:
                continue
            if case.resolved_by:  # confirmed by staff: final
                continue
            lost = sorted((at, m) for m, (c, _, at) in self.joined.items() if c == case.case_id)
            group = set(group_of(self.links, case.customer_id))
            _, steps = self.plans.get(case.case_id, ("", ()))
            apologies = [
                s.taken_at for s in steps if s.action == "apologise" and s.status == "done"
            ]
            facts = CaseFacts(
                case.case_id,
                case.customer_id,
                case.site_id,
                case.visit_id,
                case.status,
                tuple(m for _, m in lost),
                lost[-1][0],
                None,  # the clock that closes cases as lost is Postgres's (test_notify_clock)
                min((a for a in apologies if a is not None), default=None),
            )
            outcome = decide_outcome(
                facts, [w for w in self.wins.values() if w.customer_id in group]
            )
            win = outcome.recovered_by if outcome.status == "recovered" else None
            back = outcome.returned_by
            now = replace(
                case,
                status=outcome.status,
                recovered_at=win.occurred_at if win else None,
                recovered_by=win.moment_id if win else "",
                returned_at=back.occurred_at if back else None,
                returned_by=back.moment_id if back else "",
            )
            if (now.status, now.recovered_by) != (case.status, case.recovered_by):
                moved.add(case.case_id)
            self.cases[case.case_id] = now
            outcomes.append(outcome)
        told = outcomes_to_tell(outcomes, moved, joined)
        self.outbox.extend(self.outcome_event(o) for o in told)
        for case_id in sorted(moved):
            case = await self._known(case_id)
            self.outbox.extend(task_records(case, case.recovered_at or case.opened_at))

    async def fold_links(self, changes: Sequence[LinkChange]) -> None:
        await super().fold_links(changes)
        linked = [c for change in changes for c in (change.survivor_id, change.absorbed_id)]
        await self.settle([], linked, [])

    async def open_or_join(
        self, openings: Sequence[CaseOpening], moments: Sequence[LostMoment]
    ) -> dict[str, CaseRow]:
        laid_out: dict[str, tuple[PlannedStep, ...]] = {}
        taken_off: dict[str, tuple[PlannedStep, ...]] = {}
        for o in earliest_openings(openings):
            case = self.cases.get(o.case_id)
            if case is None:
                self.cases[o.case_id] = CaseRow(
                    o.case_id,
                    o.customer_id,
                    o.visit_id,
                    o.site_id,
                    "open",
                    o.opening_moment_id,
                    o.opened_at,
                    o.due_at,
                )
                self.plans[o.case_id] = (o.playbook, o.steps)
                laid_out[o.case_id] = o.steps
                continue
            _, steps = self.plans[o.case_id]
            acted_on = bool(case.resolved_by) or any(s.status != "pending" for s in steps)
            opened = OpenedCase(o.case_id, case.opened_at, case.opening_moment_id, acted_on)
            if moves_opening(opened, o):
                moved = {"opening_moment_id": o.opening_moment_id, "opened_at": o.opened_at}
                self.cases[o.case_id] = replace(case, **moved, due_at=o.due_at)
                laid_out[o.case_id] = replanned(o, steps)
                taken_off[o.case_id] = withdrawn(steps, laid_out[o.case_id])
                self.plans[o.case_id] = (o.playbook, laid_out[o.case_id])
        for o, m in zip(openings, moments, strict=True):
            self.joined.setdefault(m.moment_id, (o.case_id, m.reason, m.occurred_at))
        return {
            m.moment_id: as_laid_out(self.cases[self.joined[m.moment_id][0]], laid_out, taken_off)
            for m in moments
        }

    async def list_cases(
        self, where: CaseFilter, after: tuple[datetime, str] | None, limit: int
    ) -> tuple[list[CaseRow], int]:
        equal = ("customer_id", "site_id", "status")
        wanted = {k: getattr(where, k) for k in equal if getattr(where, k)}
        rows = [await self._known(c) for c in self.cases]
        rows = sorted(rows, key=lambda c: (c.opened_at, c.case_id))
        rows = [
            c
            for c in rows
            if self.matches(c, wanted)
            and _wanted_steps(c, where)
            and (
                not where.min_value_at_risk_minor
                or max(self._totals(c.case_id).values(), default=0) >= where.min_value_at_risk_minor
            )
        ]
        page = [c for c in rows if after is None or (c.opened_at, c.case_id) > after][:limit]
        return page, len(rows)

    async def get_case(self, case_id: str) -> CaseRow | None:
        case = self.cases.get(case_id)
        if case is None:
            return None
        joined = [
            (m, r)
            for _, m, r in sorted(
                (at, m, r) for m, (c, r, at) in self.joined.items() if c == case_id
            )
        ]
        playbook, steps = self.plans.get(case_id, ("", ()))
        value = case_value(self._totals(case_id))
        return replace(
            case,
            moment_ids=tuple(m for m, _ in joined),
            reasons=tuple(r for _, r in joined),
            playbook=playbook,
            steps=steps,
            value_at_risk_minor=value.minor if value else 0,
            currency=value.currency if value else "",
            valued=value is not None,
        )
