"""Loyalty's rules: lifetime value = average spend x visits per year x loyal years (§8)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from itertools import pairwise

DAYS_PER_YEAR = Decimal(365)
LN_2 = Decimal(2).ln()
GROWTH_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # where a visit's growth factor is 1
CACHED = 1 << 16  # visits' growth factors and spans in days kept between valuations


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
    """The tunable assumptions behind lifetime value (none of these is in docs/domain.md)."""

    expected_years: Decimal = Decimal(5)  # used where no churn model sets them per customer
    window: timedelta = timedelta(days=365)  # visits per year come from the last year's visits
    min_observed: timedelta = timedelta(days=90)  # a new customer's rate is not extrapolated wildly
    half_life: timedelta | None = timedelta(days=180)  # a gap between visits weighs half as
    # much 180 days later: recent visits weigh more (None: every gap the same)


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
    silent: bool = False  # not in contact since an unrecovered lose for the churn model's time


@dataclass(frozen=True)
class Spending:
    """What a customer's purchases say before loyal years are counted (in the currency of their
    latest one): what they spend a visit and how often they come. Valuing a long history asks
    it of the same purchases again and again, for every loyal-years figure churn gives."""

    customer_id: str
    currency: str
    average: Decimal  # spend a visit, in minor units, unrounded
    purchases: int
    visits: int
    visits_per_year: Decimal
    as_of: datetime
    site_id: str

    def value_for(
        self, expected_years: Decimal, churn_risk: Decimal | None = None, silent: bool = False
    ) -> CustomerValue:
        """The lifetime value of this spending over so many loyal years."""
        value = self.average * self.visits_per_year * expected_years
        return CustomerValue(
            customer_id=self.customer_id,
            currency=self.currency,
            average_spend_minor=_minor(self.average),
            purchases=self.purchases,
            visits=self.visits,
            visits_per_year=self.visits_per_year,
            expected_years=expected_years,
            lifetime_value_minor=_minor(value),
            as_of=self.as_of,
            churn_risk=churn_risk,
            site_id=self.site_id,
            silent=silent,
        )


def spending_of(
    purchases: Sequence[Purchase], policy: ValuePolicy = DEFAULT_POLICY
) -> Spending | None:
    """One customer's spending, in the currency of their latest purchase; order-free."""
    if not purchases:
        return None
    latest = max(purchases, key=lambda p: (p.occurred_at, p.event_id))
    same_currency = [p for p in purchases if p.currency == latest.currency]
    visits = len({p.visit_id for p in same_currency})
    return Spending(
        customer_id=latest.customer_id,
        currency=latest.currency,
        average=Decimal(sum(p.minor_units for p in same_currency)) / visits,
        purchases=len(same_currency),
        visits=visits,
        visits_per_year=visits_per_year(same_currency, latest.occurred_at, policy),
        as_of=latest.occurred_at,
        site_id=home_site(same_currency),
    )


def lifetime_value(
    purchases: Sequence[Purchase], policy: ValuePolicy = DEFAULT_POLICY
) -> CustomerValue | None:
    """The value of one customer's purchases, in the currency of their latest one; order-free."""
    spending = spending_of(purchases, policy)
    return spending.value_for(policy.expected_years) if spending else None


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
    """How often the customer comes: a year over the mean gap between their visits in the window
    before as_of, recent gaps weighing more (half as much each half-life further back). A
    customer seen for less than the policy's minimum time is not extrapolated wildly: never more
    than their visits over that minimum (one visit, or two on consecutive days)."""
    first_seen: dict[str, datetime] = {}
    for p in purchases:
        if p.occurred_at > as_of - policy.window:
            seen = first_seen.get(p.visit_id)
            first_seen[p.visit_id] = p.occurred_at if seen is None else min(seen, p.occurred_at)
    times = sorted(first_seen.values())
    # A gap ending `age` days before as_of weighs 2^(-age / half-life): growth(end) / growth(as_of).
    # The rate is a ratio of weighted sums, so growth(as_of) cancels and each visit's factor is
    # the same in every valuation (cached: a customer's history is valued again and again).
    weighted = [
        (_days(later - earlier), _growth(later, policy.half_life))
        for earlier, later in pairwise(times)
    ]
    spent = sum((gap * weight for gap, weight in weighted), Decimal(0))
    rate = DAYS_PER_YEAR * sum(w for _, w in weighted) / spent if spent > 0 else None
    if rate is None or as_of - times[0] < policy.min_observed:
        at_most = Decimal(len(times)) * DAYS_PER_YEAR / _days(policy.min_observed)
        rate = at_most if rate is None else min(rate, at_most)
    return rate.quantize(Decimal("0.0001"), ROUND_HALF_EVEN)


@lru_cache(maxsize=CACHED)
def _days(span: timedelta) -> Decimal:
    return Decimal(span.total_seconds()) / Decimal(86400)


@lru_cache(maxsize=CACHED)
def _growth(at: datetime, half_life: timedelta | None) -> Decimal:
    """2^((at - GROWTH_EPOCH) / half-life), exact to Decimal's precision on every machine; 1
    when every gap weighs the same."""
    if half_life is None:
        return Decimal(1)
    return (LN_2 * _days(at - GROWTH_EPOCH) / _days(half_life)).exp()


def _minor(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), ROUND_HALF_EVEN))
