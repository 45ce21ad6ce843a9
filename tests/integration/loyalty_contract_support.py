"""What the LoyaltyStore contract tests share: purchases, lost moments and facts to fold, and
the readings they make of a store."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.builders import T0
from touchstone.loyalty.churn import LostMoment
from touchstone.loyalty.domain import Purchase
from touchstone.loyalty.valuation import Loss


def bought(n: int, customer: str = "c1", minor: int = 100_000) -> Purchase:
    return Purchase(f"p{n}", customer, f"v{n}", T0 + timedelta(days=n), "VND", minor)


def loss(n: int, customer: str = "c1", days: float = 0) -> Loss:
    at = T0 + timedelta(days=days)
    return Loss(customer, LostMoment(f"m{n}", at, "personal", Decimal(1), site_id="hcm-01"))


def tiers_of(changes) -> list[tuple[str, str, str, int]]:
    return [(t.customer_id, t.previous_tier, t.tier, t.rank) for t in changes]
