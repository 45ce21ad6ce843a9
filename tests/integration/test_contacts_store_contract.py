"""ContactsStore contract: each event id once, counts of new rows only, first claim wins."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.builders import T0
from tests.integration.store_contract_support import STORE_KINDS, make_store, run
from touchstone.contacts.domain import Outcome
from touchstone.contacts.ports import Arrival, DeadLetter, RecordedTouchpoint


@pytest.fixture(params=STORE_KINDS)
def contacts_store(request: pytest.FixtureRequest) -> Any:
    return make_store(request, "contacts")


def tp_row(event: str, customer: str = "c1", minutes: float = 0, **fields: Any):
    return RecordedTouchpoint(
        **{
            "event_id": event,
            "customer_id": customer,
            "visit_id": "v1",
            "occurred_at": T0 + timedelta(minutes=minutes),
            "source": "till",
            "journey_map": "supermarket",
            "stage": "pay",
            "site_id": "s1",
            "payload": event.encode(),
            "identity": None,
            **fields,
        }
    )


def arrival(offset: int) -> Arrival:
    return Arrival("touchpoints.v1", 0, offset, T0, b"k", b"raw", (("ce_source", b"till"),))


def test_contacts_knows_nothing_before_anything_is_recorded(contacts_store) -> None:
    async def scenario(store) -> None:
        assert await store.get_customer("c1") is None
        assert await store.list_touchpoints("c1", None, 10) == []
        assert await store.stats() == (0, 0)
        assert await store.record([], [], []) == []

    run(contacts_store, scenario)


def test_contacts_widens_a_customers_span_whatever_order_events_arrive(contacts_store) -> None:
    async def scenario(store) -> None:
        await store.record([tp_row("e5", minutes=5)], [None], [])
        await store.record([tp_row("e9", minutes=9), tp_row("e1", minutes=1)], [None] * 2, [])
        customer = await store.get_customer("c1")
        assert (customer.first_seen, customer.last_seen, customer.touchpoint_count) == (
            T0 + timedelta(minutes=1),
            T0 + timedelta(minutes=9),
            3,
        )

    run(contacts_store, scenario)


def test_contacts_pages_one_customers_touchpoints_by_time_then_event_id(contacts_store) -> None:
    async def scenario(store) -> None:
        rows = [tp_row("b"), tp_row("a"), tp_row("x", "c2"), tp_row("c", minutes=-1)]
        await store.record(rows, [None] * 4, [])
        first = await store.list_touchpoints("c1", None, 2)
        rest = await store.list_touchpoints("c1", (first[-1].occurred_at, first[-1].event_id), 5)
        assert [t.event_id for t in first] == ["c", "a"]
        assert [t.event_id for t in rest] == ["b"]
        assert rest[0].payload == b"b" and rest[0].visit_id == "v1"

    run(contacts_store, scenario)


def test_contacts_lets_the_first_customer_keep_an_identity(contacts_store) -> None:
    async def scenario(store) -> None:
        phone = ("phone", "+84901234567")
        await store.record([tp_row("e1", "c1", identity=phone)], [None], [])
        await store.record([tp_row("e2", "c2", identity=phone)], [None], [])
        assert (await store.get_customer("c1")).identities == (phone,)
        assert (await store.get_customer("c2")).identities == ()

    run(contacts_store, scenario)


def test_contacts_gives_a_shared_identity_to_the_first_row_of_a_batch(
    contacts_store, request
) -> None:
    async def scenario(store) -> None:
        phone = ("phone", "+84901234567")
        rows = [tp_row("e1", "c2", identity=phone), tp_row("e2", "c1", identity=phone)]
        await store.record(rows, [None, None], [])
        assert (await store.get_customer("c2")).identities == (phone,)

    run(contacts_store, scenario)


def test_contacts_quarantines_a_conflict_without_arrival_but_dead_letters_none(
    contacts_store,
) -> None:
    async def scenario(store) -> None:
        await store.record([tp_row("e1")], [None], [])
        assert await store.record([tp_row("e1", payload=b"other")], [None], []) == [
            Outcome.CONFLICT
        ]
        assert await store.stats() == (1, 0)

    run(contacts_store, scenario)


def test_contacts_keeps_one_dead_letter_per_record_position(contacts_store) -> None:
    async def scenario(store) -> None:
        letters = [DeadLetter(arrival(n), "value: bad", "value") for n in (1, 2, 1)]
        await store.record([], [], letters)
        assert await store.stats() == (0, 2)
        assert await store.stats(["s1"]) == (0, 0)  # no site owns a dead letter

    run(contacts_store, scenario)
