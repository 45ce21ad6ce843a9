"""Loyalty's store in memory, idempotent by key as the SQL is: storage only. A fold loads what
the model's fold decision reads and keeps what it returns (fold_decision.py), as the Postgres
adapter does from its rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from tests.fakes.customer_links import MemoryCustomerLinks
from touchstone.loyalty.at_risk import AtRisk, Stored
from touchstone.loyalty.churn import LostMoment as LoyaltyLostMoment
from touchstone.loyalty.domain import CustomerValue, Purchase
from touchstone.loyalty.fold_decision import (
    FoldWrites,
    Group,
    Loaded,
    LostSince,
    Silence,
    distinct_groups,
    no_longer_recovered,
    settle_fold,
    value_groups,
)
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
from touchstone.loyalty.remembered import Kept
from touchstone.loyalty.tiers import TierChanged, load_tiers, retiered
from touchstone.loyalty.valuation import Facts, Loss, Recovery, Valuation, by_time
from touchstone.loyalty.valued import SilenceClock, presence_of, valued_history
from touchstone.platform.messaging.customer_links import collapsed, group_of, root_of
from touchstone.platform.messaging.topics import Outgoing


class MemoryLoyaltyStore(MemoryCustomerLinks):
    """LoyaltyStore in memory."""

    def __init__(self) -> None:
        super().__init__()
        self.purchases: dict[str, Purchase] = {}
        self.losses: dict[str, Loss] = {}
        self.recovered: dict[str, Recovery] = {}
        self.erased: set[str] = set()
        self.values: dict[str, CustomerValue] = {}  # ranked: customers as known now, not erased
        self.tier: dict[str, str] = {}  # as kept with each ranked customer
        self.at_risk: dict[str, AtRisk] = {}  # by moment, erased customers' too
        self.remembered: dict[str, Kept] = {}  # by root
        self.tiers = load_tiers()
        self.last_contact: dict[str, tuple[datetime, int]] = {}  # customer -> (when, lane)
        self.clocks: dict[int, datetime] = {}
        self.silences: dict[str, Silence] = {}  # by moment
        self.outbox: list[Outgoing] = []  # what folds told, until relayed()

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
        reopened = no_longer_recovered(self._save(facts), facts)
        customers = set(facts.customers) | self._silence_moved(facts)
        if not customers:
            return Folded({}, [])
        loaded = self._load(customers)
        valued = await value_groups(facts, valuer, loaded, reopened, self._lost_since)
        writes = settle_fold(loaded, valued)
        sites = {v.site_id for v in writes.values}
        sites |= {v.site_id for c, v in self.values.items() if c in writes.members}
        revalued = self._write(writes)
        changes = [c for site in sorted(sites) for c in self._retier(site)]
        return Folded(writes.current, changes, writes.revisions, set(reopened.moments), revalued)

    def _save(self, facts: Facts) -> list[tuple[str, str]]:
        for p in facts.purchases:
            self.purchases.setdefault(p.event_id, p)
        for x in facts.losses:
            self.losses.setdefault(x.moment.moment_id, x)
        cases = {c.case_id for c in facts.reopened}
        dropped = [(m, r.customer_id) for m, r in self.recovered.items() if r.case_id in cases]
        for moment, _ in dropped:
            del self.recovered[moment]
        for r in facts.recoveries:
            self.recovered.setdefault(r.moment_id, r)
        self.erased.update(facts.erased)
        self.links.extend(facts.links)
        for c in facts.contacts:
            seen = self.last_contact.get(c.customer_id)
            if seen is None or c.occurred_at > seen[0]:
                self.last_contact[c.customer_id] = (c.occurred_at, c.lane)
            self.clocks[c.lane] = max(self.clocks.get(c.lane, c.occurred_at), c.occurred_at)
        return dropped

    def _silence_moved(self, facts: Facts) -> set[str]:
        """As SELECT_SILENCE_MOVED: silences of customers back in contact, or not yet begun
        though their lane's clock has reached them."""
        back = {root_of(self.links, c.customer_id) for c in facts.contacts}
        return {
            s.customer_id
            for s in self.silences.values()
            if s.customer_id in back or (not s.begun and s.due_at <= self.clocks[s.lane])
        }

    def _load(self, customers: set[str]) -> Loaded:
        folded = collapsed(self.links)
        candidates = []
        for customer in sorted(customers):
            members = group_of(self.links, customer)
            merges = sum(c.survivor_id in members or c.absorbed_id in members for c in folded)
            erased = bool(self.erased & set(members))
            candidates.append(Group(members[0], members, erased, merges))
        groups = distinct_groups(candidates)
        everyone = {m for g in groups.values() for m in g.members}
        bought: dict[str, list[Purchase]] = {}
        for p in self.purchases.values():
            if p.customer_id in everyone:
                bought.setdefault(p.customer_id, []).append(p)
        presence = {
            root: clock
            for root, g in groups.items()
            if (clock := self._presence(g.members)) is not None
        }
        kept = {root: self.remembered[root] for root in groups if root in self.remembered}
        return Loaded(groups, bought, presence, kept)

    async def _lost_since(self, reads: Mapping[str, datetime]) -> LostSince:
        """As SELECT_LOSSES_SINCE: each member's lost moments since the time given, with their
        recovery, and which have figures stored."""
        lost: dict[str, list[LoyaltyLostMoment]] = {}
        for x in self.losses.values():
            since = reads.get(x.customer_id)
            if since is not None and x.moment.occurred_at >= since:
                lost.setdefault(x.customer_id, []).append(self._as_recovered(x.moment))
        stored = {
            m.moment_id: Stored(r.occurred_at, r.recovered, r.site_id)
            for ms in lost.values()
            for m in ms
            if (r := self.at_risk.get(m.moment_id)) is not None
        }
        return LostSince({c: by_time(ms) for c, ms in lost.items()}, stored)

    def _as_recovered(self, moment: LoyaltyLostMoment) -> LoyaltyLostMoment:
        """The moment with its recovery as stored (none if its case reopened)."""
        recovery = self.recovered.get(moment.moment_id)
        if recovery is None:
            return moment
        return replace(moment, recovered=True, recovered_at=recovery.recovered_at)

    def _write(self, writes: FoldWrites) -> set[str]:
        members = set(writes.members)
        self.silences = {m: s for m, s in self.silences.items() if s.customer_id not in members}
        self.silences |= {s.moment_id: s for s in writes.silences}
        for gone in writes.gone:
            self.values.pop(gone, None)
            self.tier.pop(gone, None)
            self.remembered.pop(gone, None)
        for value in writes.values:
            before = self.values.get(value.customer_id)
            if before is not None and before.site_id != value.site_id:
                self.tier.pop(value.customer_id, None)  # as SAVE_VALUES: a new site ranks afresh
            self.values[value.customer_id] = value
        self.remembered |= writes.remembered
        revalued = {r.moment_id for _, r in writes.at_risk if self.at_risk.get(r.moment_id) != r}
        self.at_risk |= {r.moment_id: r for _, r in writes.at_risk}
        return revalued

    def _history(self, group: tuple[str, ...]) -> tuple[list[Purchase], list[LoyaltyLostMoment]]:
        bought = [p for p in self.purchases.values() if p.customer_id in group]
        lost = [
            self._as_recovered(x.moment) for x in self.losses.values() if x.customer_id in group
        ]
        return bought, lost

    def _presence(self, group: tuple[str, ...]) -> SilenceClock | None:
        latest = {
            m: (at, lane, self.clocks[lane])
            for m in group
            if m in self.last_contact
            for at, lane in [self.last_contact[m]]
        }
        return presence_of(group, latest)

    async def retier(self) -> list[TierChanged]:
        sites = {v.site_id for v in self.values.values()}
        return [c for site in sorted(sites) for c in self._retier(site)]

    def _retier(self, site_id: str) -> list[TierChanged]:
        ranked = [
            (r.customer_id, r.currency, r.lifetime_value_minor) for r in self._at_site(site_id)
        ]
        changes = retiered(self.tiers, site_id, ranked, self.tier)
        self.tier |= {c.customer_id: c.tier for c in changes}
        return changes

    async def is_erased(self, customer_id: str) -> bool:
        return bool(self.erased & set(group_of(self.links, customer_id)))

    async def get_history(self, customer_id: str) -> History | None:
        group = group_of(self.links, customer_id)
        bought, lost = self._history(group)
        presence = self._presence(group)
        at_risk = {
            m.moment_id: self.at_risk[m.moment_id] for m in lost if m.moment_id in self.at_risk
        }
        return History(group[0], bought, lost, presence, at_risk) if bought or lost else None

    async def get_value(self, customer_id: str, valuer: Valuer) -> Valuation | None:
        return valued_history(await self.get_history(customer_id), valuer)

    async def standing(self, customer_id: str) -> Standing | None:
        value = self.values.get(customer_id)
        if value is None:
            return None
        site = self._at_site(value.site_id)
        rank = [r.customer_id for r in site].index(customer_id) + 1
        return Standing(value.site_id, rank, len(site))

    def _at_site(self, site_id: str) -> list[Ranked]:
        at_site = [
            Ranked(v.customer_id, v.currency, v.lifetime_value_minor, v.churn_risk or Decimal(0))
            for v in self.values.values()
            if v.site_id == site_id
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
