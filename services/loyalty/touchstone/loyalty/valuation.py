"""A customer valued from their whole history: lifetime value moved by churn risk, and what each
lost moment put at risk when it happened.

Everything is a function of the sets of purchases and lost moments, never of the order they
arrived in: each lost moment is valued against the purchases and the lost moments that came
before it in event time, so late and out-of-order events give the figures in-order ones would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from touchstone.journey.v1.events_pb2 import VERDICT_LOSE, MomentScored
from touchstone.loyalty.at_risk import (
    NOTHING_CHANGED,
    AtRisk,
    Known,
    Stored,
    value_after,
    value_all,
    valued,
)
from touchstone.loyalty.churn import (
    ChurnModel,
    LostMoment,
    churn_risk,
    is_silent,
    risk_of_stay,
    silences,
)
from touchstone.loyalty.domain import (
    DEFAULT_POLICY,
    CustomerValue,
    Purchase,
    Spending,
    ValuePolicy,
    spending_of,
)
from touchstone.loyalty.remembered import THE_BEGINNING, NeedsWholeHistory, Remembered
from touchstone.loyalty.so_far import SpendingSoFar
from touchstone.platform.messaging.customer_links import LinkChange
from touchstone.platform.runtime.prototime import to_datetime
from touchstone.shared_kernel.broken import what_it_broke


@dataclass(frozen=True)
class Loss:
    """A lost moment of a customer, as loyalty stores it."""

    customer_id: str
    moment: LostMoment


@dataclass(frozen=True)
class Recovery:
    """Notify won the customer back after a lost moment."""

    moment_id: str
    customer_id: str  # the id the moment was recorded with
    case_id: str
    recovered_at: datetime


@dataclass(frozen=True)
class ContactSeen:
    """A customer was in contact (any touchpoint), on a lane of contacts.recorded.v1."""

    customer_id: str
    lane: int
    occurred_at: datetime


@dataclass(frozen=True)
class Reopening:
    """A case no longer recovered: a lost moment joined it (notify tells the recovery again,
    naming every moment, if it still holds) or it closed as lost. Its moments count unrecovered
    until it is told recovered again."""

    case_id: str
    customer_id: str


@dataclass(frozen=True)
class Facts:
    """What a batch brings loyalty: new purchases, lost moments, recoveries and reopened cases,
    and contacts' merges, unmerges and erasures."""

    purchases: Sequence[Purchase] = ()
    losses: Sequence[Loss] = ()
    recoveries: Sequence[Recovery] = ()  # after the reopenings: the store drops those first
    reopened: Sequence[Reopening] = ()
    links: Sequence[LinkChange] = ()
    erased: Sequence[str] = ()  # customer ids contacts erased
    contacts: Sequence[ContactSeen] = ()  # every recorded touchpoint, for silence

    @staticmethod
    def combined(parts: Sequence[Facts]) -> Facts:
        """Every part's facts together; recovery folded in their order, as if one by one: a
        reopening drops the recoveries its case was told before it, and a moment keeps the
        first recovery told since its case last reopened."""
        recoveries: dict[str, Recovery] = {}
        reopened: dict[str, Reopening] = {}
        for part in parts:
            for case in part.reopened:
                reopened[case.case_id] = case
                recoveries = {m: r for m, r in recoveries.items() if r.case_id != case.case_id}
            for r in part.recoveries:
                recoveries.setdefault(r.moment_id, r)
        return Facts(
            purchases=[p for f in parts for p in f.purchases],
            losses=[x for f in parts for x in f.losses],
            recoveries=list(recoveries.values()),
            reopened=list(reopened.values()),
            links=[c for f in parts for c in f.links],
            erased=[e for f in parts for e in f.erased],
            contacts=[c for f in parts for c in f.contacts],
        )

    @property
    def customers(self) -> list[str]:
        """Every customer id the facts concern, sorted."""
        ids = {p.customer_id for p in self.purchases} | {x.customer_id for x in self.losses}
        ids |= {r.customer_id for r in self.recoveries} | set(self.erased)
        ids |= {c.customer_id for c in self.reopened}
        linked = {c.survivor_id for c in self.links} | {c.absorbed_id for c in self.links}
        return sorted(ids | linked)

    @property
    def moment_ids(self) -> set[str]:
        """The lost moments the facts change: new ones, and newly recovered ones."""
        lost = {x.moment.moment_id for x in self.losses}
        return lost | {r.moment_id for r in self.recoveries}


@dataclass(frozen=True)
class Presence:
    """When the customer was last in contact, and how far event time has come where their
    contacts arrive (their lane's clock): what silence is judged by."""

    last_contact_at: datetime
    clock: datetime


@dataclass(frozen=True)
class Valuation:
    """A customer's value now, with their churn risk, and each lost moment's value at risk."""

    value: CustomerValue | None  # None until they buy something
    churn_risk: Decimal
    at_risk: tuple[AtRisk, ...]  # by event time; a kept moment known only as Stored is left out
    silent: bool = False  # no contact since an unrecovered lose for the model's quiet time
    silence_due: tuple[tuple[str, datetime], ...] = ()  # (moment id, when silence after it
    # begins) for each unrecovered lose the customer has not been in contact since
    kept: frozenset[str] = field(default=frozenset(), compare=False)  # lost moments whose
    # figures were known (Known) and kept, not valued again: bookkeeping, not a figure
    remembered: Remembered | None = field(default=None, compare=False)  # where the lost
    # moments leave the chance of staying, for the next fold to go on from (remembered.py)


def known_figures(
    facts: Facts,
    group: Sequence[str],
    lost: Sequence[LostMoment],
    recovery_changed: set[str],
    stored: Mapping[str, AtRisk | Stored],
) -> Known | None:
    """What of a customer group's stored figures still holds after the facts: every moment
    before the earliest purchase or lost moment the facts bring the group, and before the
    earliest of its moments whose recovery they changed (a recovery changes the leave chance
    every later moment is valued with). None if the facts change who the group is (a merge, an
    unmerge, an erasure): its history is valued afresh."""
    changed = facts_change_from(facts, group, set())  # the moments' recoveries: read below
    if changed is None:
        return None
    times = [changed] + [m.occurred_at for m in lost if m.moment_id in recovery_changed]
    at_risk = {m.moment_id: stored[m.moment_id] for m in lost if m.moment_id in stored}
    return Known(at_risk, min(times))


def facts_change_from(
    facts: Facts, group: Sequence[str], recovery_changed_for: set[str]
) -> datetime | None:
    """known_figures' earliest change, before the group's lost moments are read: the earliest
    purchase or lost moment the facts bring it, THE_BEGINNING if they change the recovery of a
    moment of a member's (recovery_changed_for: those members), None if they change who the
    group is."""
    members = set(group)
    linked = {c.survivor_id for c in facts.links} | {c.absorbed_id for c in facts.links}
    if members & (linked | set(facts.erased)):
        return None
    if members & recovery_changed_for:
        return THE_BEGINNING
    times = [p.occurred_at for p in facts.purchases if p.customer_id in members]
    times += [x.moment.occurred_at for x in facts.losses if x.customer_id in members]
    return min(times, default=NOTHING_CHANGED)


def lost_moment_of(moment: MomentScored) -> LostMoment | None:
    """A lost moment as churn needs it: the weight of the standards it broke, and the side of the
    heaviest; None for a win."""
    if moment.verdict != VERDICT_LOSE:
        return None
    broken = what_it_broke(moment)
    at = to_datetime(moment.occurred_at)
    return LostMoment(moment.moment_id, at, broken.side, broken.weight, site_id=moment.site_id)


def by_time(lost: Sequence[LostMoment]) -> list[LostMoment]:
    return sorted(lost, key=lambda m: (m.occurred_at, m.moment_id))


def value_with(
    purchases: Sequence[Purchase],
    risk: Decimal,
    model: ChurnModel,
    policy: ValuePolicy,
    silent: bool = False,
) -> CustomerValue | None:
    """The lifetime value of the purchases when the customer leaves with this yearly risk."""
    return valued(spending_of(purchases, policy), risk, model, silent)


def valuation(
    purchases: Sequence[Purchase],
    lost: Sequence[LostMoment],
    model: ChurnModel,
    policy: ValuePolicy = DEFAULT_POLICY,
    presence: Presence | None = None,
    known: Known | None = None,
) -> Valuation:
    """The customer valued from their whole history (and, given their presence, whether they
    have gone silent after a lose); a lost moment's known figures are kept where its history
    before it has not changed (the same figures valuing it again would give). Given what a
    fold remembered (known.remembered), the moments are those read since and valuation goes
    on from it; NeedsWholeHistory if it cannot (remembered.py)."""
    ordered = by_time(lost)
    spending = SpendingSoFar(purchases, policy)
    as_of = max([p.occurred_at for p in purchases] + [m.occurred_at for m in ordered], default=None)
    gone_on = known is not None and known.remembered is not None
    if known is not None and known.remembered is not None:
        last_contact = presence.last_contact_at if presence is not None else None
        if not known.remembered.holds(model, as_of, last_contact, known.read_from):
            raise NeedsWholeHistory("the history remembered cannot be gone on from")
        at_risk, kept, remembered = value_after(known.remembered, ordered, model, spending)
    else:
        at_risk, kept, remembered = value_all(ordered, model, spending, known)
    everything = spending.by(None)
    due = silence_due(everything, ordered, as_of, model, presence)
    silent = presence is not None and is_silent(due, presence.clock)
    if gone_on:  # no moment out of the memory since: its stay is the latest's
        risk = risk_of_stay(model, remembered.stay, silent)
        value = valued(everything, risk, model, silent)
    else:
        value, risk = standing_of(everything, ordered, as_of, model, silent)
    return Valuation(value, risk, tuple(at_risk), silent, tuple(due), frozenset(kept), remembered)


def silence_due(
    spending: Spending | None,
    lost: Sequence[LostMoment],
    as_of: datetime | None,
    model: ChurnModel,
    presence: Presence | None,
) -> list[tuple[str, datetime]]:
    """When silence begins after each unrecovered lose in the model's memory (of the customer's
    latest event) that the customer has not been in contact since; none without a presence or
    a usual interval between visits (spending: of all their purchases)."""
    if presence is None or as_of is None or spending is None:
        return []
    remembered = [m for m in lost if as_of - model.memory < m.occurred_at <= as_of]
    return silences(model, remembered, presence.last_contact_at, spending.visits_per_year)


def standing(
    purchases: Sequence[Purchase],
    lost: Sequence[LostMoment],
    as_of: datetime | None,
    model: ChurnModel,
    policy: ValuePolicy = DEFAULT_POLICY,
    silent: bool = False,
) -> tuple[CustomerValue | None, Decimal]:
    """The customer's lifetime value and churn risk as of a time (the base risk if None)."""
    return standing_of(spending_of(purchases, policy), lost, as_of, model, silent)


def standing_of(
    spending: Spending | None,
    lost: Sequence[LostMoment],
    as_of: datetime | None,
    model: ChurnModel,
    silent: bool = False,
) -> tuple[CustomerValue | None, Decimal]:
    """standing(), given the spending of the purchases."""
    risk = churn_risk(model, lost, as_of, silent) if as_of is not None else model.base_risk
    return valued(spending, risk, model, silent), risk
