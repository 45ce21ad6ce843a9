"""Silence after a lose, live: given a regular customer who lost a moment and has not been back,
then when event time on their lane passes twice their usual interval they are revalued as
silent (the churn model's silence.departs on top), and back to normal when they return."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

from tests.builders import T0, handled, payment, record, recorded, touchpoint, value_records, valued
from tests.fakes.loyalty import MemoryLoyaltyStore
from tests.unit.test_contacts_ingest_api import call
from tests.unit.test_loyalty_at_risk import moment
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE
from touchstone.loyalty.api import LoyaltyApi
from touchstone.loyalty.handlers import ValueCustomers
from touchstone.loyalty.v1.events_pb2 import ValueUpdated
from touchstone.loyalty.v1.loyalty_service_pb2 import GetCustomerValueRequest
from touchstone.platform.messaging.topics import Incoming

EVERY = timedelta(days=365) / 40  # 40 visits a year: silent 18.25 days after an unanswered lose
LAST_VISIT = T0 + EVERY * 39


def contact(customer: str, at: datetime, n: int, lane: int = 0) -> Incoming:
    tp = touchpoint("enter_store", at, visit_id=f"visit-{customer}-{n}", event_id=f"{customer}-{n}")
    arrived = record(recorded(tp, customer, f"visit-{customer}-{n}"), 1000 + n)
    return replace(arrived, partition=lane, key=customer.encode())


def values(out) -> list[ValueUpdated]:
    return [ValueUpdated.FromString(o.value) for o in value_records(out)]


def a_regular_who_lost_a_moment() -> tuple[MemoryLoyaltyStore, ValueCustomers]:
    store = MemoryLoyaltyStore()
    handler = ValueCustomers(store)
    year = [
        record(recorded(payment(500_000, T0 + EVERY * n, f"visit-{n}"), "cust-1", f"visit-{n}"), n)
        for n in range(40)
    ]
    handled(handler, year)
    lost_at_minutes = int((LAST_VISIT - T0).total_seconds() // 60) + 5
    handled(handler, [moment(1, VERDICT_LOSE, lost_at_minutes)])
    return store, handler


def test_a_customer_silent_since_a_lose_is_revalued_when_their_lanes_clock_says_so() -> None:
    store, handler = a_regular_who_lost_a_moment()
    lost_at = LAST_VISIT + timedelta(minutes=5)
    assert values(handled(handler, [contact("other", lost_at + timedelta(days=10), 1)])) == []

    (silent,) = values(handled(handler, [contact("other", lost_at + timedelta(days=19), 2)]))
    assert silent.value.customer_id == "cust-1" and silent.value.silent
    assert silent.value.churn_risk == 0.72  # 1 - 0.8 x 0.7 x (1 - 0.5)
    again = handled(handler, [contact("other", lost_at + timedelta(days=30), 3)])
    assert values(again) == []  # silence is news once

    asked = call(
        LoyaltyApi(store, valued).GetCustomerValue, GetCustomerValueRequest(customer_id="cust-1")
    )
    assert asked.silent and asked.churn_risk == 0.72  # the query says what was published

    (back,) = values(handled(handler, [contact("cust-1", lost_at + timedelta(days=31), 4)]))
    assert not back.value.silent and back.value.churn_risk == 0.44


def test_another_lanes_clock_does_not_silence_anyone() -> None:
    store, handler = a_regular_who_lost_a_moment()
    far = LAST_VISIT + timedelta(days=60)
    assert values(handled(handler, [contact("other", far, 1, lane=3)])) == []
    assert not asyncio.run(store.get_value("cust-1", ValueCustomers(store).value)).value.silent
    handled(handler, [contact("other", far, 2, lane=0)])  # their own lane's clock
    assert asyncio.run(store.get_value("cust-1", ValueCustomers(store).value)).value.silent
