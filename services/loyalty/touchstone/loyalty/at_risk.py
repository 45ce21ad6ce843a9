"""What each lost moment put at stake when it happened, valued in event time: the figures, what
of them a fold keeps (those whose history before them is unchanged), and how they are figured
from the chance of staying over the moments before each in the churn model's memory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from touchstone.loyalty.churn import (
    ChurnModel,
    LostMoment,
    expected_years,
    leave_chance,
    risk_of_stay,
    value_at_risk,
)
from touchstone.loyalty.domain import CustomerValue, Spending
from touchstone.loyalty.remembered import THE_BEGINNING, Remembered, fingerprint
from touchstone.loyalty.so_far import SpendingSoFar, StaysSoFar


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
    remembered: Remembered | None = None  # gone on from: the lost moments given are only
    # those read from read_from, and every one it covers is kept
    read_from: datetime = THE_BEGINNING

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


def valued(
    spending: Spending | None, risk: Decimal, model: ChurnModel, silent: bool = False
) -> CustomerValue | None:
    """The lifetime value of the spending when the customer leaves with this yearly risk."""
    if spending is None:
        return None
    return spending.value_for(expected_years(model, risk), risk, silent)


def value_all(
    ordered: Sequence[LostMoment],
    model: ChurnModel,
    spending: SpendingSoFar,
    known: Known | None,
) -> tuple[list[AtRisk], set[str], Remembered]:
    """Each lost moment's figures (those still known kept), and where the moments leave the
    chance of staying."""
    chances = [leave_chance(model, m) for m in ordered]  # each moment's, as it stands
    stays = StaysSoFar(model, chances)
    at_risk: list[AtRisk] = []
    kept = set()
    oldest = 0  # the first of the earlier moments still in the model's memory
    for n, moment in enumerate(ordered):
        while oldest < n and ordered[oldest].occurred_at <= moment.occurred_at - model.memory:
            oldest += 1
        if known is not None and (figures := known.figures_of(moment)) is not None:
            if isinstance(figures, AtRisk):
                at_risk.append(figures)
            kept.add(moment.moment_id)
            continue
        # churn_risk's figures, multiplied in the same order: the same to the last digit
        at_risk.append(figures_of(moment, stays.over(oldest, n), chances[n], spending, model))
    last = ordered[-1] if ordered else None
    remembered = Remembered(
        model=fingerprint(model),
        last_at=last.occurred_at if last else None,
        last_id=last.moment_id if last else "",
        first_at=ordered[oldest].occurred_at if ordered else None,
        stay=stays.over(oldest, len(ordered)),
        same_visit=model.silence_same_visit,
    )
    return at_risk, kept, remembered


def value_after(
    remembered: Remembered,
    ordered: Sequence[LostMoment],
    model: ChurnModel,
    spending: SpendingSoFar,
) -> tuple[list[AtRisk], set[str], Remembered]:
    """value_all's figures for the moments after those remembered (which are kept), each
    stay multiplied on from the remembered one: no moment has left the model's memory."""
    fresh = [m for m in ordered if not remembered.covers(m)]
    kept = {m.moment_id for m in ordered if remembered.covers(m)}
    chances = [leave_chance(model, m) for m in fresh]
    stays = StaysSoFar(model, chances, start=remembered.stay)
    at_risk = [
        figures_of(m, stays.over(0, n), chances[n], spending, model) for n, m in enumerate(fresh)
    ]
    if fresh:
        last = fresh[-1]
        remembered = replace(
            remembered,
            last_at=last.occurred_at,
            last_id=last.moment_id,
            stay=stays.over(0, len(fresh)),
        )
    return at_risk, kept, remembered


def figures_of(
    moment: LostMoment,
    stay: Decimal,
    chance: Decimal,
    spending: SpendingSoFar,
    model: ChurnModel,
) -> AtRisk:
    """What the moment put at stake, from the chance of staying over the moments before it in
    the model's memory and its own leave chance as it stands."""
    at = moment.occurred_at
    unrecovered = leave_chance(model, moment, recovered=False)
    before = risk_of_stay(model, stay)
    after = risk_of_stay(model, stay * (Decimal(1) - unrecovered))
    after_recovery = risk_of_stay(model, stay * (Decimal(1) - chance))
    value = valued(spending.by(at), before, model)
    worth = value.lifetime_value_minor if value else 0
    return AtRisk(
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
