"""Loyalty's rules: lifetime value = average spend x visits per year x loyal years (§8)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

DAYS_PER_YEAR = Decimal(365)


@dataclass(frozen=True)
class Purchase:
    """A payment at a touchpoint: integer minor units of one currency, never floats."""

    event_id: str
    customer_id: str
    visit_id: str
    occurred_at: datetime
    currency: str
    minor_units: int
    site_id: str = ""  # where it was paid


@dataclass(frozen=True)
class ValuePolicy:
    """The tunable assumptions behind lifetime value (none of these figures is in DOMAIN.md)."""

    expected_years: Decimal = Decimal(5)  # until churn risk (issue 5) derives it per customer
    window: timedelta = timedelta(days=365)  # visits per year are counted over the last year
    min_observed: timedelta = timedelta(days=90)  # a new customer's rate is not extrapolated wildly


DEFAULT_POLICY = ValuePolicy()


@dataclass(frozen=True)
class CustomerValue:
    """A customer's lifetime value with every component visible."""

    customer_id: str
    currency: str
    average_spend_minor: int
    purchases: int
    visits: int
    visits_per_year: Decimal
    expected_years: Decimal
    lifetime_value_minor: int
    as_of: datetime
    churn_risk: Decimal | None = None  # the yearly risk the expected years follow from
    site_id: str = ""  # their home site: where they paid most often (the latest on a tie)


def lifetime_value(
    purchases: Sequence[Purchase], policy: ValuePolicy = DEFAULT_POLICY
) -> CustomerValue | None:
    """The value of one customer's purchases, in the currency of their latest one; order-free."""
    if not purchases:
        return None
    latest = max(purchases, key=lambda p: (p.occurred_at, p.event_id))
    same_currency = [p for p in purchases if p.currency == latest.currency]
    visits = len({p.visit_id for p in same_currency})
    average = Decimal(sum(p.minor_units for p in same_currency)) / visits
    per_year = visits_per_year(same_currency, latest.occurred_at, policy)
    value = average * per_year * policy.expected_years
    return CustomerValue(
        customer_id=latest.customer_id,
        currency=latest.currency,
        average_spend_minor=_minor(average),
        purchases=len(same_currency),
        visits=visits,
        visits_per_year=per_year,
        expected_years=policy.expected_years,
        lifetime_value_minor=_minor(value),
        as_of=latest.occurred_at,
        site_id=home_site(same_currency),
    )


def home_site(purchases: Sequence[Purchase]) -> str:
    """Where the customer paid most often; of those sites, the one paid at last."""
    counts: dict[str, int] = {}
    for p in purchases:
        counts[p.site_id] = counts.get(p.site_id, 0) + 1
    latest = {
        p.site_id: (p.occurred_at, p.event_id)
        for p in sorted(purchases, key=lambda p: (p.occurred_at, p.event_id))
    }
    return max(counts, key=lambda site: (counts[site], latest[site]))


def visits_per_year(purchases: Sequence[Purchase], as_of: datetime, policy: ValuePolicy) -> Decimal:
    """Distinct visits in the window before as_of, scaled to a year over the time observed."""
    recent = [p for p in purchases if p.occurred_at > as_of - policy.window]
    first = min(p.occurred_at for p in recent)
    observed = min(max(as_of - first, policy.min_observed), policy.window)
    days = Decimal(observed.total_seconds()) / Decimal(86400)
    rate = Decimal(len({p.visit_id for p in recent})) * DAYS_PER_YEAR / days
    return rate.quantize(Decimal("0.0001"), ROUND_HALF_EVEN)


def _minor(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), ROUND_HALF_EVEN))
