"""Lifetime value at its edges (Decimal, windows, currencies) and ValueCustomers' events."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from tests.builders import T0, handled, payment, record, recorded, touchpoint, value_records
from tests.fakes.loyalty import MemoryLoyaltyStore
from touchstone.contacts.v1.touchpoint_pb2 import Money
from touchstone.loyalty.churn import default_model_file, parse_model
from touchstone.loyalty.domain import DEFAULT_POLICY, Purchase, ValuePolicy, lifetime_value
from touchstone.loyalty.handlers import ValueCustomers
from touchstone.loyalty.v1.events_pb2 import ValueUpdated
from touchstone.platform.messaging.topics import LOYALTY_DLQ, LOYALTY_VALUES, Outgoing
from touchstone.platform.runtime.ids import content_id


def bought(n: int, minor: int, days: float = 0, visit: str = "", currency: str = "VND"):
    at = T0 + timedelta(days=days)
    return Purchase(f"p{n}", "c1", visit or f"v{n}", at, currency, minor)


def value_of(purchases, policy: ValuePolicy = DEFAULT_POLICY):
    value = lifetime_value(purchases, policy)
    assert value is not None
    return value


def test_one_purchase_is_valued_over_the_90_day_minimum_in_exact_decimals() -> None:
    value = value_of([bought(1, 100_000)])
    assert value.visits_per_year == Decimal("4.0556")  # 365 / 90, to 4 places
    assert value.lifetime_value_minor == 2_027_800  # 100,000 x 4.0556 x 5
    assert isinstance(value.lifetime_value_minor, int)


def test_spend_that_does_not_divide_evenly_is_kept_exact_until_the_final_rounding() -> None:
    value = value_of([bought(n, minor) for n, minor in enumerate((1, 1, 2))])
    exact = Decimal(4) / 3 * Decimal("12.1667") * 5  # 3 visits in 90 days -> 12.1667 a year
    assert value.average_spend_minor == 1
    assert value.lifetime_value_minor == round(exact) == 81


def test_amounts_round_half_to_even() -> None:
    value = value_of([bought(1, 2), bought(2, 3)])  # 2.5 a visit
    assert value.average_spend_minor == 2


def test_a_visit_exactly_a_year_before_the_latest_is_outside_the_window() -> None:
    value = value_of([bought(1, 100_000, 0), bought(2, 100_000, 365)])
    assert value.visits == 2
    assert value.visits_per_year == Decimal("4.0556")  # only the latest visit, over 90 days


def test_history_longer_than_the_minimum_is_not_clamped() -> None:
    value = value_of([bought(1, 100_000, 0), bought(2, 100_000, 146)])
    assert value.visits_per_year == Decimal("2.5000")  # one visit every 146 days


def test_other_currencies_do_not_count_toward_the_latest_ones_value() -> None:
    value = value_of([bought(1, 5, 0, currency="USD"), bought(2, 100_000, 1)])
    assert (value.currency, value.purchases, value.visits) == ("VND", 1, 1)


def test_simultaneous_payments_in_two_currencies_pick_one_whatever_their_order() -> None:
    purchases = [bought(1, 5, currency="USD"), bought(2, 100_000, currency="VND")]
    assert value_of(purchases) == value_of(purchases[::-1])
    assert value_of(purchases).currency == "VND"  # the larger event id breaks the tie


def test_purchases_shuffled_two_to_a_visit_give_the_identical_value() -> None:
    purchases = [bought(n, 7_000 * n + 3, n * 11, visit=f"v{n // 2}") for n in range(20)]
    for seed in range(5):
        shuffled = purchases[:]
        random.Random(seed).shuffle(shuffled)
        assert value_of(shuffled) == value_of(purchases)
    assert value_of(purchases).visits == 10


def test_the_minimum_observed_time_is_a_policy() -> None:
    purchases = [bought(1, 100_000), bought(2, 100_000, 1)]
    tight = value_of(purchases, ValuePolicy(min_observed=timedelta(days=73)))
    assert tight.visits_per_year == Decimal("10.0000")  # 2 x 365 / 73


def handle(store: MemoryLoyaltyStore, *records, model=None) -> list[Outgoing]:
    return value_records(handled(ValueCustomers(store, model), list(records)))


def paid(minor: int, customer: str = "cust-1", days: float = 0, visit: str = "visit-1") -> bytes:
    tp = payment(minor, T0 + timedelta(days=days), visit)
    return recorded(tp, customer_id=customer, visit_id=visit)


def updated(out: Outgoing) -> ValueUpdated:
    assert out.topic == LOYALTY_VALUES
    return ValueUpdated.FromString(out.value)


def test_touchpoints_without_a_purchase_publish_and_store_nothing() -> None:
    store = MemoryLoyaltyStore()
    no_currency = touchpoint("pay", purchase=Money(minor_units=5))
    assert handle(store, record(recorded(touchpoint())), record(recorded(no_currency), 1)) == []
    assert (store.purchases, store.values) == ({}, {})


def test_the_value_event_is_named_after_the_whole_value_it_tells() -> None:
    (out,) = handle(MemoryLoyaltyStore(), record(paid(250_000)))
    event = updated(out)
    unnamed = ValueUpdated(value=event.value)
    assert event.event_id == content_id("value", "cust-1", unnamed)
    assert dict(out.headers)["ce_id"] == event.event_id.encode()
    assert (event.value.lifetime_value_minor, event.value.expected_years) == (5_069_500, 5.0)


def test_a_redelivery_keeps_the_event_id_and_a_new_purchase_changes_it() -> None:
    store = MemoryLoyaltyStore()
    first = updated(handle(store, record(paid(250_000), 0))[0])
    again = updated(handle(store, record(paid(250_000), 0))[0])
    later = updated(handle(store, record(paid(100_000, days=3, visit="visit-2"), 1))[0])
    assert first == again
    assert later.event_id != first.event_id
    assert (later.value.purchases, later.value.visits) == (2, 2)


def test_the_value_is_folded_from_the_full_history_not_just_the_batch() -> None:
    store = MemoryLoyaltyStore()
    handle(store, record(paid(300_000), 0))
    (out,) = handle(store, record(paid(100_000, days=10, visit="visit-2"), 1))
    assert updated(out).value.average_spend_minor == 200_000


def test_each_customer_in_a_batch_gets_one_value_keyed_by_their_id() -> None:
    out = handle(
        MemoryLoyaltyStore(),
        record(paid(100_000, "cust-b"), 0),
        record(paid(200_000, "cust-a", visit="visit-2"), 1),
        record(paid(50_000, "cust-b", days=1, visit="visit-3"), 2),
    )
    assert [(o.key, updated(o).value.purchases) for o in out] == [(b"cust-a", 1), (b"cust-b", 2)]


def test_the_expected_years_come_from_the_handlers_churn_model() -> None:
    text = default_model_file().read_text(encoding="utf-8")
    model = parse_model(text.replace("base_risk: 0.2", "base_risk: 0.1"), "tenth.yaml")
    (out,) = handle(MemoryLoyaltyStore(), record(paid(250_000)), model=model)
    assert updated(out).value.lifetime_value_minor == 2 * 5_069_500  # 10 years, not 5
    assert updated(out).value.churn_risk == 0.1


def test_garbage_is_dead_lettered_keeping_its_bytes() -> None:
    (out,) = handle(MemoryLoyaltyStore(), record(b"\xff\xff", 3))
    assert (out.topic, out.value, dict(out.headers)["dlq_field"]) == (
        LOYALTY_DLQ,
        b"\xff\xff",
        b"value",
    )


def test_a_payment_with_an_impossible_time_is_dead_lettered_and_the_rest_valued() -> None:
    store = MemoryLoyaltyStore()
    tp = payment(100)
    tp.occurred_at.seconds = 2**62
    dead, value = handle(store, record(recorded(tp), 0), record(paid(250_000, "cust-2"), 1))
    assert dead.topic == LOYALTY_DLQ
    assert dict(dead.headers)["dlq_reason"] == b"touchpoint.occurred_at is not a valid timestamp"
    assert value.key == b"cust-2" and list(store.purchases) == [payment(250_000).event_id]


def visits_every(days: list[float]) -> list[Purchase]:
    """A purchase per visit, at these days after T0."""
    return [bought(n, 100_000, day) for n, day in enumerate(days)]


def test_a_regular_customer_comes_as_often_as_their_gaps_say_whatever_the_weighting() -> None:
    weekly = visits_every([7.0 * n for n in range(40)])
    flat = replace(DEFAULT_POLICY, half_life=None)
    assert value_of(weekly).visits_per_year == value_of(weekly, flat).visits_per_year
    assert value_of(weekly).visits_per_year == Decimal("52.1429")  # 365 / 7


def test_recent_visits_weigh_more_than_old_ones() -> None:
    # monthly for nine months, then every ten days for the last three
    days = [30.0 * n for n in range(9)] + [240 + 10.0 * n for n in range(1, 10)]
    flat = value_of(visits_every(days), replace(DEFAULT_POLICY, half_life=None))
    recent = value_of(visits_every(days))
    assert flat.visits_per_year == Decimal("18.8030")  # 365 x 17 gaps / 330 days
    assert recent.visits_per_year > flat.visits_per_year  # the last gaps, ten days, count more
    assert recent.visits_per_year == Decimal("21.8514")
    slowing = visits_every([10.0 * n for n in range(9)] + [80 + 30.0 * n for n in range(1, 10)])
    slowing_flat = value_of(slowing, replace(DEFAULT_POLICY, half_life=None))
    assert value_of(slowing).visits_per_year == Decimal("15.1474") < slowing_flat.visits_per_year


def test_the_half_life_is_a_policy() -> None:
    days = [30.0 * n for n in range(9)] + [240 + 10.0 * n for n in range(1, 10)]
    short = value_of(visits_every(days), replace(DEFAULT_POLICY, half_life=timedelta(days=30)))
    assert short.visits_per_year > value_of(visits_every(days)).visits_per_year
