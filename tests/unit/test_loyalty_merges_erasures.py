"""Loyalty follows contacts' merges and erasures: given purchases of two ids and a merge, then
one customer valued and ranked from both histories (and two again after the unmerge); given an
erasure, then the customer is no longer valued, ranked or explained, while the anonymous
amounts stay in the site's figures; in whatever order the events arrive."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import grpc
import pytest

from tests.builders import T0, handled, payment, record, recorded, value_records, valued
from tests.fakes.loyalty import MemoryLoyaltyStore
from tests.unit.test_contacts_ingest_api import Aborted, call
from tests.unit.test_customer_links import merged_event, unmerged_event
from tests.unit.test_loyalty_at_risk import moment
from touchstone.contacts.v1 import profile_pb2
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE
from touchstone.loyalty.api import LoyaltyApi
from touchstone.loyalty.handlers import ValueCustomers
from touchstone.loyalty.v1 import loyalty_service_pb2 as pb
from touchstone.loyalty.v1.events_pb2 import ValueUpdated
from touchstone.platform.messaging.topics import CONTACTS_PROFILES, LOYALTY_DLQ, Incoming


def paid(n: int, customer: str, minor: int) -> Incoming:
    tp = payment(minor, T0 + timedelta(days=n), f"visit-{customer}-{n}")
    tp.site_id = "hcm-01"
    return record(recorded(tp, customer, f"visit-{customer}-{n}"), n, key=customer.encode())


def profile(value: bytes, offset: int) -> Incoming:
    return record(value, offset, CONTACTS_PROFILES)


def erased(customer: str) -> Incoming:
    event = profile_pb2.CustomerEvent(
        event_id=f"erased-{customer}", erased=profile_pb2.CustomerErased(customer_id=customer)
    )
    return profile(event.SerializeToString(), 900)


def events(out) -> list[ValueUpdated]:
    return [
        ValueUpdated.FromString(o.value)
        for o in value_records(out)
        if o.topic == "loyalty.values.v1"
    ]


def take(store: MemoryLoyaltyStore, *records: Incoming) -> list[ValueUpdated]:
    return events(handled(ValueCustomers(store), list(records)))


def site(store: MemoryLoyaltyStore) -> list[tuple[str, int]]:
    ranked = asyncio.run(store.ranked("hcm-01", 0, 10))
    return [(r.customer_id, r.lifetime_value_minor) for r in ranked]


def test_a_merge_ranks_one_customer_valued_from_both_histories_and_an_unmerge_two() -> None:
    store = MemoryLoyaltyStore()
    first_a, _ = take(store, paid(1, "A", 100_000), paid(2, "B", 300_000))
    apart = site(store)
    assert [c for c, _ in apart] == ["B", "A"]

    (update,) = take(store, profile(merged_event(), 10))
    assert update.value.customer_id == "A" and update.value.visits == 2
    assert update.value.average_spend_minor == 200_000
    assert [c for c, _ in site(store)] == ["A"]
    reply = call(
        LoyaltyApi(store, valued).GetCustomerValue, pb.GetCustomerValueRequest(customer_id="B")
    )
    assert (reply.customer_id, reply.rank, reply.site_customers) == ("A", 1, 1)

    updates = take(store, profile(unmerged_event(), 11))
    assert site(store) == apart
    alone_again = next(u for u in updates if u.value.customer_id == "A")
    assert alone_again.value == first_a.value  # the same value as before the merge ...
    assert alone_again.event_id != first_a.event_id  # ... is news again, not a duplicate


def test_merges_and_payments_in_any_order_rank_the_same() -> None:
    log = [paid(1, "A", 100_000), paid(2, "B", 300_000), paid(3, "C", 50_000)]
    log += [profile(merged_event(), 10), profile(merged_event("m2", "B", "C"), 11)]
    expected = MemoryLoyaltyStore()
    take(expected, *log)
    rng = random.Random(3)
    for _ in range(5):
        store = MemoryLoyaltyStore()
        for r in rng.sample(log, len(log)):
            take(store, r)
        assert site(store) == site(expected)
    (only,) = site(expected)
    assert only[0] == "A"


def test_an_erased_customer_is_no_longer_valued_but_their_amounts_stay_in_the_sites() -> None:
    store = MemoryLoyaltyStore()
    take(store, paid(1, "A", 100_000), paid(1, "Z", 90_000), moment(1, VERDICT_LOSE, 60, "A"))
    week = (T0, T0 + timedelta(days=7))
    before = asyncio.run(store.value_at_risk("hcm-01", *week))

    assert take(store, erased("A")) == []
    assert [c for c, _ in site(store)] == ["Z"]
    assert asyncio.run(store.value_at_risk("hcm-01", *week)) == before
    with pytest.raises(Aborted) as refused:
        call(
            LoyaltyApi(store, valued).GetCustomerValue, pb.GetCustomerValueRequest(customer_id="A")
        )
    assert refused.value.status.code == grpc.StatusCode.NOT_FOUND
    assert "erased" in refused.value.status.details

    assert take(store, paid(5, "A", 70_000)) == []  # late: kept, never valued
    assert [c for c, _ in site(store)] == ["Z"]


def test_an_erasure_before_the_facts_it_erases_ends_the_same() -> None:
    log = [paid(1, "A", 100_000), moment(1, VERDICT_LOSE, 60, "A"), erased("A")]
    forward, backward = MemoryLoyaltyStore(), MemoryLoyaltyStore()
    for r in log:
        take(forward, r)
    for r in reversed(log):
        take(backward, r)
    assert site(forward) == site(backward) == []
    week = (T0, T0 + timedelta(days=7))
    assert asyncio.run(forward.value_at_risk("", *week)) == asyncio.run(
        backward.value_at_risk("", *week)
    )


def test_an_erasure_without_its_customer_is_dead_lettered() -> None:
    (dead,) = handled(ValueCustomers(MemoryLoyaltyStore()), [erased("")])
    assert (
        dead.topic == LOYALTY_DLQ and b"customer_id is required" in dict(dead.headers)["dlq_reason"]
    )
