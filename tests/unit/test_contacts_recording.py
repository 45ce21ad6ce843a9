"""RecordTouchpoints, given records → when handled → then events, dead letters and rows."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from google.protobuf import json_format

from tests.builders import T0, record, touchpoint
from tests.fakes.contacts import MemoryContactsStore
from touchstone.contacts.domain import resolve_identity_id
from touchstone.contacts.handlers import RecordTouchpoints
from touchstone.contacts.identity_keys import DEVELOPMENT_KEYS
from touchstone.contacts.ports import RecordedTouchpoint
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.contacts.v1.touchpoint_pb2 import CustomerRef, ExternalIdentity, IdentityKind
from touchstone.platform.messaging.topics import CONTACTS_RECORDED, TOUCHPOINTS_DLQ, Outgoing
from touchstone.platform.runtime.ids import derived_id

EMAIL = IdentityKind.IDENTITY_KIND_EMAIL


def handle(store: MemoryContactsStore, *records) -> list[Outgoing]:
    return asyncio.run(RecordTouchpoints(store).handle(list(records)))


def by_email(address: str, event_id: str):
    ref = CustomerRef(identity=ExternalIdentity(kind=EMAIL, value=address))
    return touchpoint(customer=ref, event_id=event_id)


def test_the_store_gets_exactly_the_valid_row_resolved_and_serialised_deterministically() -> None:
    store = MemoryContactsStore()
    tp = touchpoint(measurements={"greeting_seconds": 45, "items": 3})
    handle(store, record(b"\xff garbage", 0), record(tp.SerializeToString(), 1))
    assert store.touchpoints == {
        tp.event_id: RecordedTouchpoint(
            event_id=tp.event_id,
            customer_id="cust-1",
            visit_id=derived_id("visit", "cust-1", "supermarket", "hcm-01", "2026-11-20"),
            occurred_at=T0,
            source="door-sensor",
            journey_map="supermarket",
            stage="enter_store",
            site_id="hcm-01",
            payload=tp.SerializeToString(deterministic=True),
            identity=None,
            late=False,
        )
    }


def test_a_touchpoint_known_by_email_is_published_under_its_derived_customer() -> None:
    store = MemoryContactsStore()
    (out,) = handle(store, record(by_email(" Lan@Example.com", "e1").SerializeToString()))
    customer = resolve_identity_id("email", "lan@example.com", DEVELOPMENT_KEYS)
    event = TouchpointRecorded.FromString(out.value)
    assert (out.key, event.customer_id) == (customer.encode(), customer)
    assert store.touchpoints["e1"].identity == ("email", "lan@example.com")


def test_two_spellings_of_one_email_in_a_batch_count_for_one_customer() -> None:
    store = MemoryContactsStore()
    out = handle(
        store,
        record(by_email("A@B.com ", "e1").SerializeToString(), 0),
        record(by_email("a@b.com", "e2").SerializeToString(), 1),
    )
    assert out[0].key == out[1].key
    customer = asyncio.run(store.get_customer(out[0].key.decode()))
    assert customer is not None and customer.touchpoint_count == 2
    assert customer.identities == (("email", "a@b.com"),)


def test_the_recorded_event_carries_cloudevents_headers_naming_it() -> None:
    tp = touchpoint()
    (out,) = handle(MemoryContactsStore(), record(tp.SerializeToString()))
    assert dict(out.headers) == {
        "ce_specversion": b"1.0",
        "ce_id": derived_id("recorded", tp.event_id).encode(),
        "ce_source": b"touchstone/contacts",
        "ce_type": b"touchstone.contacts.v1.TouchpointRecorded",
        "content-type": b"application/protobuf",
        "ce_time": T0.isoformat().encode(),
    }


def test_a_dead_letter_keeps_the_original_key_value_and_headers_byte_for_byte() -> None:
    tp = touchpoint(event_id="")
    value = b"  " + json_format.MessageToJson(tp).encode()  # not how we would re-serialise it
    headers = {"content-type": b"application/json", "ce_id": b"till-7/42"}
    (dead,) = handle(MemoryContactsStore(), record(value, 5, headers=headers, key=b"till-key"))
    assert (dead.topic, dead.key, dead.value) == (TOUCHPOINTS_DLQ, b"till-key", value)
    assert dead.headers[:2] == tuple(headers.items())
    assert dict(dead.headers)["dlq_reason"] == b"event_id: is required"
    assert dict(dead.headers)["dlq_field"] == b"event_id"


def test_every_violation_is_in_the_reason_and_the_first_one_is_the_field() -> None:
    tp = touchpoint(stage="", site_id="")
    (dead,) = handle(MemoryContactsStore(), record(tp.SerializeToString()))
    headers = dict(dead.headers)
    assert headers["dlq_reason"] == b"stage: is required; site_id: is required"
    assert headers["dlq_field"] == b"stage"


def test_the_future_is_judged_against_the_brokers_timestamp_of_the_record() -> None:
    ahead = touchpoint(at=T0 + timedelta(minutes=6)).SerializeToString()
    (early,) = handle(MemoryContactsStore(), record(ahead, received=T0))
    (fine,) = handle(MemoryContactsStore(), record(ahead, received=T0 + timedelta(minutes=2)))
    assert early.topic == TOUCHPOINTS_DLQ
    assert dict(early.headers)["dlq_field"] == b"occurred_at"
    assert b"360s in the future" in dict(early.headers)["dlq_reason"]
    assert fine.topic == CONTACTS_RECORDED


def test_a_tombstone_is_dead_lettered_as_an_empty_value() -> None:
    (dead,) = handle(MemoryContactsStore(), record(None))
    assert (dead.topic, dead.value) == (TOUCHPOINTS_DLQ, b"")
    assert dict(dead.headers)["dlq_reason"] == b"value: empty value"


def test_an_unsupported_content_type_is_dead_lettered_saying_so() -> None:
    value = touchpoint().SerializeToString()
    (dead,) = handle(MemoryContactsStore(), record(value, headers={"content-type": b"text/csv"}))
    assert dict(dead.headers)["dlq_reason"] == b"value: unsupported content-type 'text/csv'"


def test_a_batch_handled_twice_gives_the_same_records_byte_for_byte_and_stores_once() -> None:
    store = MemoryContactsStore()
    batch = [
        record(b"\x00\x01 not a touchpoint", 0),
        record(touchpoint(event_id="").SerializeToString(), 1),
        record(touchpoint().SerializeToString(), 2),
    ]
    first, again = handle(store, *batch), handle(store, *batch)
    assert [(o.topic, o.key, o.value, o.headers) for o in first] == [
        (o.topic, o.key, o.value, o.headers) for o in again
    ]
    assert [o.topic for o in first] == [TOUCHPOINTS_DLQ, TOUCHPOINTS_DLQ, CONTACTS_RECORDED]
    assert asyncio.run(store.stats()) == (1, 2)


def test_a_fresh_store_derives_the_same_event_for_the_same_touchpoint() -> None:
    value = touchpoint().SerializeToString()
    assert handle(MemoryContactsStore(), record(value)) == handle(
        MemoryContactsStore(), record(value, offset=9)
    )


def test_the_same_touchpoint_twice_in_a_batch_is_stored_once_and_announced_twice() -> None:
    store = MemoryContactsStore()
    value = touchpoint().SerializeToString()
    first, second = handle(store, record(value, 0), record(value, 1))
    assert first == second and first.topic == CONTACTS_RECORDED
    assert asyncio.run(store.stats()) == (1, 0)


def test_a_late_arrival_is_stored_marked_late() -> None:
    store = MemoryContactsStore()
    tp = touchpoint()
    handle(store, record(tp.SerializeToString(), received=T0 + timedelta(days=2)))
    assert store.touchpoints[tp.event_id].late
