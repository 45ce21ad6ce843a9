"""A customer valued from their whole history: lifetime value moved by churn risk, and what each
lost moment put at risk when it happened.

Everything is a function of the sets of purchases and lost moments, never of the order they
arrived in: each lost moment is valued against the purchases and the lost moments that came
before it in event time, so late and out-of-order events give the figures in-order ones would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from loyalty.churn import (
    ChurnModel,
    LostMoment,
    churn_risk,
    expected_years,
    is_silent,
    leave_chance,
    risk_of_stay,
    silences,
    value_at_risk,
)
from loyalty.domain import (
    DEFAULT_POLICY,
    CustomerValue,
    Purchase,
    Spending,
    ValuePolicy,
    spending_of,
)
from loyalty.so_far import SpendingSoFar, StaysSoFar
from touchstone.common.broken import what_it_broke
from touchstone.common.customer_links import LinkChange
from touchstone.common.prototime import to_datetime
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE, MomentScored


@dataclass(frozen=True)
class AtRisk:
    """What one lost moment put at stake when it happened."""

    moment_id: str
    site_id: str
    occurred_at: datetime
    currency: str  # of the lifetime value; "" if the customer had bought nothing by then
    lifetime_value_minor: int  # just before the moment
    risk_before: Decimal
    risk_after: Decimal  # had it not been recovered
    value_at_risk_minor: int  # lifetime value x (risk after - risk before)
    recovered: bool
    remaining_minor: int  # still at stake: all of it until recovered, the remainder after

    @property
    def saved_minor(self) -> int:
        """What recovery took off the value at risk."""
        return self.value_at_risk_minor - self.remaining_minor


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
class Contact:
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
    contacts: Sequence[Contact] = ()  # every recorded touchpoint, for silence

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


NOTHING_CHANGED = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Stored:
    """That a lost moment's figures are stored, and the moment they were figured for (when,
    whether recovered, where), without the figures: all a fold needs to keep them (it writes
    only what it values again, so reading every stored figure of a long history was waste)."""

    occurred_at: datetime
    recovered: bool
    site_id: str


@dataclass(frozen=True)
class Known:
    """What a customer's lost moments were valued at before (the figures, or only that they are
    stored), and the earliest event time at which their history has changed since. A moment
    before that time has the same purchases and lost moments before it as when it was valued,
    so the same figures: valuation keeps them instead of valuing it again (a long history costs
    only its new moments)."""

    at_risk: Mapping[str, AtRisk | Stored]
    changed_from: datetime = NOTHING_CHANGED

    def figures_of(self, moment: LostMoment) -> AtRisk | Stored | None:
        """The moment's known figures, if its history before it has not changed since."""
        known = self.at_risk.get(moment.moment_id)
        if known is None or moment.occurred_at >= self.changed_from:
            return None
        same = (known.occurred_at, known.recovered, known.site_id) == (
            moment.occurred_at,
            moment.recovered,
            moment.site_id,
        )
        return known if same else None


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
    members = set(group)
    linked = {c.survivor_id for c in facts.links} | {c.absorbed_id for c in facts.links}
    if members & (linked | set(facts.erased)):
        return None
    times = [p.occurred_at for p in facts.purchases if p.customer_id in members]
    times += [x.moment.occurred_at for x in facts.losses if x.customer_id in members]
    times += [m.occurred_at for m in lost if m.moment_id in recovery_changed]
    at_risk = {m.moment_id: stored[m.moment_id] for m in lost if m.moment_id in stored}
    return Known(at_risk, min(times, default=NOTHING_CHANGED))


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


def valued(
    spending: Spending | None, risk: Decimal, model: ChurnModel, silent: bool = False
) -> CustomerValue | None:
    """The lifetime value of the spending when the customer leaves with this yearly risk."""
    if spending is None:
        return None
    return spending.value_for(expected_years(model, risk), risk, silent)


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
    before it has not changed (the same figures valuing it again would give)."""
    ordered = by_time(lost)
    chances = [leave_chance(model, m) for m in ordered]  # each moment's, as it stands
    spending = SpendingSoFar(purchases, policy)
    stays = StaysSoFar(model, chances)
    at_risk = []
    kept = set()
    oldest = 0  # the first of the earlier moments still in the model's memory
    for n, moment in enumerate(ordered):
        at = moment.occurred_at
        while oldest < n and ordered[oldest].occurred_at <= at - model.memory:
            oldest += 1
        if known is not None and (figures := known.figures_of(moment)) is not None:
            if isinstance(figures, AtRisk):
                at_risk.append(figures)
            kept.add(moment.moment_id)
            continue
        # churn_risk's figures, multiplied in the same order: the same to the last digit
        stay = stays.over(oldest, n)
        unrecovered = leave_chance(model, moment, recovered=False)
        before = risk_of_stay(model, stay)
        after = risk_of_stay(model, stay * (Decimal(1) - unrecovered))
        after_recovery = risk_of_stay(model, stay * (Decimal(1) - chances[n]))
        value = valued(spending.by(at), before, model)
        worth = value.lifetime_value_minor if value else 0
        at_risk.append(
            AtRisk(
                moment_id=moment.moment_id,
                site_id=moment.site_id,
                occurred_at=at,
                currency=value.currency if value else "",
                lifetime_value_minor=worth,
                risk_before=before,
                risk_after=after,
                value_at_risk_minor=value_at_risk(worth, before, after),
                recovered=moment.recovered,
                remaining_minor=value_at_risk(worth, before, after_recovery),
            )
        )
    as_of = max([p.occurred_at for p in purchases] + [m.occurred_at for m in ordered], default=None)
    everything = spending.by(None)
    due = silence_due(everything, ordered, as_of, model, presence)
    silent = presence is not None and is_silent(due, presence.clock)
    value, risk = standing_of(everything, ordered, as_of, model, silent)
    return Valuation(value, risk, tuple(at_risk), silent, tuple(due), frozenset(kept))


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
