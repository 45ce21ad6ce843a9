"""Loyalty's store in memory, idempotent by key as the SQL is. Folding still puts the valuation
together here from the model's functions (valuation.py, tiers.py), as the Postgres adapter does
from its rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from tests.fakes.customer_links import MemoryCustomerLinks
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
from touchstone.loyalty.tiers import TierChanged, load_tiers, tier_of
from touchstone.loyalty.valuation import Facts, Loss, Recovery, Valuation
from touchstone.loyalty.valued import SilenceClock, disjoint, value_as, valued_history
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
