"""Loyalty's rules: lifetime value = average spend per visit x visits per year x loyal years."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

from tests.builders import T0, handled, payment, record, recorded, touchpoint, value_records, valued
from tests.fakes.loyalty import MemoryLoyaltyStore
from touchstone.loyalty.domain import Purchase, ValuePolicy, lifetime_value
from touchstone.loyalty.handlers import ValueCustomers
from touchstone.loyalty.v1.events_pb2 import ValueUpdated
from touchstone.platform.messaging.topics import LOYALTY_DLQ, LOYALTY_VALUES


def bought(n: int, minor: int, days: float, visit: str | None = None, currency: str = "VND"):
    return Purchase(f"p{n}", "c1", visit or f"v{n}", T0 + timedelta(days=days), currency, minor)


def test_value_is_spend_per_visit_times_visits_per_year_times_loyal_years() -> None:
    # a visit every 60 days: 365 / 60 visits a year, 5 years, 250,000 a visit
    purchases = [bought(n, 250_000, 60 * n) for n in range(4)]
    value = lifetime_value(purchases)
    assert value is not None
    assert value.average_spend_minor == 250_000
    assert value.visits == 4 and value.purchases == 4
    assert value.visits_per_year == Decimal("6.0833")
    assert value.lifetime_value_minor == 7_604_125  # 250,000 x 6.0833 x 5
    assert value.as_of == T0 + timedelta(days=180)


def test_two_payments_in_one_visit_are_one_visit_of_their_sum() -> None:
    value = lifetime_value([bought(1, 100_000, 0, "v"), bought(2, 50_000, 0.01, "v")])
    assert value is not None and (value.visits, value.average_spend_minor) == (1, 150_000)


def test_the_order_purchases_arrive_in_changes_nothing() -> None:
    purchases = [bought(n, 10_000 * (n + 1), 7 * n) for n in range(12)]
    shuffled = purchases[:]
    random.Random(3).shuffle(shuffled)
    assert lifetime_value(shuffled) == lifetime_value(purchases)


def test_a_new_customer_is_not_extrapolated_from_a_single_day() -> None:
    value = lifetime_value([bought(1, 100_000, 0), bought(2, 100_000, 1)])
    assert value is not None
    assert value.visits_per_year == Decimal("8.1111")  # 2 visits over the 90-day minimum


def test_only_the_last_year_counts_toward_visits_per_year() -> None:
    value = lifetime_value(
        [bought(1, 100_000, 0), bought(2, 100_000, 400), bought(3, 100_000, 490)]
    )
    assert value is not None
    assert value.visits == 3  # spend still averages over every visit
    assert value.visits_per_year == Decimal("4.0556")  # in the window, one visit in 90 days


def test_value_is_in_the_currency_of_the_latest_payment() -> None:
    value = lifetime_value([bought(1, 9_999, 0, currency="USD"), bought(2, 200_000, 10)])
    assert value is not None and (value.currency, value.average_spend_minor) == ("VND", 200_000)


def test_the_expected_years_come_from_the_policy() -> None:
    purchases = [bought(1, 100_000, 0)]
    five = lifetime_value(purchases)
    ten = lifetime_value(purchases, ValuePolicy(expected_years=Decimal(10)))
    assert five is not None and ten is not None
    assert ten.lifetime_value_minor == 2 * five.lifetime_value_minor


def test_no_purchases_no_value() -> None:
    assert lifetime_value([]) is None


def handle(store: MemoryLoyaltyStore, *records):
    return value_records(handled(ValueCustomers(store), list(records)))


def test_a_payment_publishes_the_customers_new_value_and_nothing_else_does() -> None:
    store = MemoryLoyaltyStore()
    out = handle(store, record(recorded(touchpoint()), 0), record(recorded(payment(250_000)), 1))
    (update,) = out
    event = ValueUpdated.FromString(update.value)
    assert (update.topic, update.key) == (LOYALTY_VALUES, b"cust-1")
    assert (event.value.average_spend_minor, event.value.currency) == (250_000, "VND")
    assert asyncio.run(store.get_value("cust-1", valued)) is not None


def test_a_redelivered_payment_changes_nothing_and_republishes_the_same_event() -> None:
    store = MemoryLoyaltyStore()
    batch = [record(recorded(payment(250_000)), 0)]
    assert handle(store, *batch) == handle(store, *batch)
    assert len(store.purchases) == 1


def test_garbage_is_dead_lettered() -> None:
    (out,) = handle(MemoryLoyaltyStore(), record(b"\xff\xff", 0))
    assert out.topic == LOYALTY_DLQ


def test_recent_gaps_weigh_more_each_half_life_halving_a_gaps_weight() -> None:
    """Visits per year is 365 over the mean gap between visits in the window, each gap weighing
    2^(-age / half-life) by how long before the latest visit it ended: computed here directly,
    the rule's own (cached growth factors, whose common factor cancels) must agree."""
    rng = random.Random(3)
    days = sorted(rng.uniform(0, 360) for _ in range(25))
    purchases = [bought(n, 100_000, d) for n, d in enumerate(days)]
    policy = ValuePolicy(half_life=timedelta(days=180))
    as_of = max(days)
    gaps = [(later - earlier, as_of - later) for earlier, later in pairwise(days)]
    weights = [Decimal(2) ** (Decimal(-age) / 180) for _, age in gaps]
    expected = (
        Decimal(365)
        * sum(weights)
        / sum(Decimal(g) * w for (g, _), w in zip(gaps, weights, strict=True))
    )
    value = lifetime_value(purchases, policy)
    assert value is not None
    assert abs(value.visits_per_year - expected) < Decimal("0.0001")
