"""A customer's value over time: each purchase, lost moment and recovery, and how it moved their
lifetime value and churn risk.

Derived from the same history the valuation is, in event time: the state before a change is
everything that happened before it, the state after adds the change, both taken at its time, so
the difference is the change's own effect. A recovery is a change at the time notify reported
it (the valuation itself counts a recovered moment as recovered from the start).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from touchstone.loyalty.churn import ChurnModel, LostMoment, churn_risk
from touchstone.loyalty.domain import DEFAULT_POLICY, CustomerValue, Purchase, ValuePolicy
from touchstone.loyalty.valuation import value_with

PURCHASE, LOST_MOMENT, RECOVERY = "purchase", "lost_moment", "recovery"
CAUSES = (PURCHASE, LOST_MOMENT, RECOVERY)  # the order of simultaneous changes


@dataclass(frozen=True)
class ValueChange:
    """One change in a customer's value, and its cause."""

    at: datetime
    cause: str  # purchase, lost_moment or recovery
    cause_id: str  # the purchase's touchpoint id, or the lost moment's id
    site_id: str
    amount_minor: int  # what the purchase paid; 0 for the other causes
    currency: str  # of the lifetime value after the change ("" while nothing is bought)
    lifetime_value_before_minor: int
    lifetime_value_after_minor: int
    churn_risk_before: Decimal
    churn_risk_after: Decimal


@dataclass(frozen=True)
class _Happening:
    at: datetime
    cause: str
    cause_id: str
    purchase: Purchase | None = None
    moment: LostMoment | None = None

    @property
    def order(self) -> tuple[datetime, int, str]:
        return self.at, CAUSES.index(self.cause), self.cause_id


def happenings_of(purchases: Sequence[Purchase], lost: Sequence[LostMoment]) -> list[_Happening]:
    """Everything that changed the customer's value, in event time."""
    happened = [_Happening(p.occurred_at, PURCHASE, p.event_id, purchase=p) for p in purchases]
    for m in lost:
        happened.append(_Happening(m.occurred_at, LOST_MOMENT, m.moment_id, moment=m))
        if m.recovered and m.recovered_at is not None:
            happened.append(_Happening(m.recovered_at, RECOVERY, m.moment_id, moment=m))
    return sorted(happened, key=lambda h: h.order)


def value_history(
    purchases: Sequence[Purchase],
    lost: Sequence[LostMoment],
    model: ChurnModel,
    limit: int,
    policy: ValuePolicy = DEFAULT_POLICY,
) -> list[ValueChange]:
    """The customer's latest changes, at most limit of them, newest first."""
    happened = happenings_of(purchases, lost)
    recovered_by = {h.cause_id: n for n, h in enumerate(happened) if h.cause == RECOVERY}
    as_seen = {  # each lost moment as it stands before and after its recovery
        m.moment_id: (replace(m, recovered=False), replace(m, recovered=True)) for m in lost
    }
    values: dict[tuple[int, Decimal], CustomerValue | None] = {}  # by (purchases seen, risk)

    def state(before: int, at: datetime) -> tuple[str, int, Decimal]:
        """The value and risk at `at` of the first `before` happenings (valuation.standing's,
        each lifetime value worked out once for the purchases seen and the risk)."""
        seen = happened[:before]
        bought = [h.purchase for h in seen if h.purchase is not None]
        moments = [
            as_seen[h.cause_id][recovered_by.get(h.cause_id, before) < before]
            for h in seen
            if h.cause == LOST_MOMENT
        ]
        risk = churn_risk(model, moments, at)
        key = (len(bought), risk)
        if key not in values:
            values[key] = value_with(bought, risk, model, policy)
        value = values[key]
        return (value.currency, value.lifetime_value_minor, risk) if value else ("", 0, risk)

    changes = []
    for n in range(len(happened) - 1, max(-1, len(happened) - 1 - limit), -1):
        h = happened[n]
        _, value_before, risk_before = state(n, h.at)
        currency, value_after, risk_after = state(n + 1, h.at)
        site = h.purchase.site_id if h.purchase else h.moment.site_id if h.moment else ""
        changes.append(
            ValueChange(
                at=h.at,
                cause=h.cause,
                cause_id=h.cause_id,
                site_id=site,
                amount_minor=h.purchase.minor_units if h.purchase else 0,
                currency=currency,
                lifetime_value_before_minor=value_before,
                lifetime_value_after_minor=value_after,
                churn_risk_before=risk_before,
                churn_risk_after=risk_after,
            )
        )
    return changes
