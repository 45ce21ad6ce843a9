"""A customer valued from their whole history: lifetime value moved by churn risk, and what each
lost moment put at risk when it happened.

Everything is a function of the sets of purchases and lost moments, never of the order they
arrived in: each lost moment is valued against the purchases and the lost moments that came
before it in event time, so late and out-of-order events give the figures in-order ones would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from loyalty.churn import ChurnModel, LostMoment, churn_risk, expected_years, value_at_risk
from loyalty.domain import DEFAULT_POLICY, CustomerValue, Purchase, ValuePolicy, lifetime_value
from touchstone.common.prototime import to_datetime
from touchstone.journey.v1.events_pb2 import SIDE_PERSONAL, VERDICT_LOSE, MomentScored


@dataclass(frozen=True)
class AtRisk:
    """What one lost moment put at stake when it happened."""

    moment_id: str
    occurred_at: datetime
    currency: str  # of the lifetime value; "" if the customer had bought nothing by then
    lifetime_value_minor: int  # just before the moment
    risk_before: Decimal
    risk_after: Decimal
    value_at_risk_minor: int  # lifetime value x (risk after - risk before)
    recovered: bool


@dataclass(frozen=True)
class Loss:
    """A lost moment of a customer at a site, as loyalty stores it."""

    customer_id: str
    site_id: str
    moment: LostMoment


@dataclass(frozen=True)
class Valuation:
    """A customer's value now, with their churn risk, and each lost moment's value at risk."""

    value: CustomerValue | None  # None until they buy something
    churn_risk: Decimal
    at_risk: tuple[AtRisk, ...]  # by event time


def lost_moment_of(moment: MomentScored) -> LostMoment | None:
    """A lost moment as churn needs it: the weight of the standards it broke, and the side of the
    heaviest (personal on a tie: indifference drives most departures); None for a win."""
    if moment.verdict != VERDICT_LOSE:
        return None
    broken = [r for r in moment.results if not r.met]
    weight = sum((Decimal(str(r.weight)) for r in broken), Decimal(0))
    heaviest = max(broken, key=lambda r: (r.weight, r.side == SIDE_PERSONAL), default=None)
    side = "procedural" if heaviest is not None and heaviest.side != SIDE_PERSONAL else "personal"
    return LostMoment(moment.moment_id, to_datetime(moment.occurred_at), side, weight or Decimal(1))


def by_time(lost: Sequence[LostMoment]) -> list[LostMoment]:
    return sorted(lost, key=lambda m: (m.occurred_at, m.moment_id))


def value_with(
    purchases: Sequence[Purchase], risk: Decimal, model: ChurnModel, policy: ValuePolicy
) -> CustomerValue | None:
    """The lifetime value of the purchases when the customer leaves with this yearly risk."""
    years = expected_years(model, risk)
    value = lifetime_value(purchases, replace(policy, expected_years=years))
    return replace(value, churn_risk=risk) if value else None


def valuation(
    purchases: Sequence[Purchase],
    lost: Sequence[LostMoment],
    model: ChurnModel,
    policy: ValuePolicy = DEFAULT_POLICY,
) -> Valuation:
    """The customer valued from their whole history."""
    ordered = by_time(lost)
    at_risk = []
    for n, moment in enumerate(ordered):
        earlier = ordered[:n]
        before = churn_risk(model, earlier, moment.occurred_at)
        after = churn_risk(model, [*earlier, moment], moment.occurred_at)
        bought = [p for p in purchases if p.occurred_at <= moment.occurred_at]
        value = value_with(bought, before, model, policy)
        worth = value.lifetime_value_minor if value else 0
        at_risk.append(
            AtRisk(
                moment.moment_id,
                moment.occurred_at,
                value.currency if value else "",
                worth,
                before,
                after,
                value_at_risk(worth, before, after),
                moment.recovered,
            )
        )
    times = [p.occurred_at for p in purchases] + [m.occurred_at for m in ordered]
    risk = churn_risk(model, ordered, max(times)) if times else model.base_risk
    return Valuation(value_with(purchases, risk, model, policy), risk, tuple(at_risk))
