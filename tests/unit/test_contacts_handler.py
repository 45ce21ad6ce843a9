"""RecordTouchpoints: every record is either recorded (and published) or dead-lettered."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from google.protobuf import json_format

from tests.builders import T0, record, touchpoint
from tests.fakes.contacts import MemoryContactsStore
from touchstone.contacts.api import ContactsApi
from touchstone.contacts.handlers import RecordTouchpoints
from touchstone.contacts.v1.contacts_service_pb2 import INGEST_STATUS_REJECTED
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.contacts.v1.touchpoint_pb2 import IdentityKind, Touchpoint
from touchstone.platform.messaging.topics import CONTACTS_RECORDED, TOUCHPOINTS_DLQ
from touchstone.platform.runtime.ids import derived_id

GARBAGE = b"\xff\xfe garbage"


def handle(store: MemoryContactsStore, *records):
    return asyncio.run(RecordTouchpoints(store).handle(list(records)))


def test_garbage_is_dead_lettered_untouched_and_the_valid_one_recorded() -> None:
    store = MemoryContactsStore()
    valid = touchpoint(measurements={"greeting_seconds": 45})
    out = handle(
        store,
        record(GARBAGE, 0, headers={"ce_source": b"door-3"}),
        record(valid.SerializeToString(), 1),
    )

    dead, published = out
    assert (dead.topic, dead.key, dead.value) == (TOUCHPOINTS_DLQ, b"cust-1", GARBAGE)
    headers = dict(dead.headers)
    assert headers["dlq_field"] == b"value"
    assert headers["dlq_reason"].startswith(b"value: not a application/protobuf Touchpoint")
    assert (headers["dlq_offset"], headers["ce_source"], headers["dlq_source"]) == (
        b"0",
        b"door-3",
        b"door-3",
    )
    event = TouchpointRecorded.FromString(published.value)
    assert (published.topic, published.key) == (CONTACTS_RECORDED, b"cust-1")
    assert event.event_id == derived_id("recorded", valid.event_id)
    assert event.touchpoint == valid and event.customer_id == "cust-1"
    assert list(store.touchpoints) == [valid.event_id]
    assert [d.reason for d in store.dead.values()] == [headers["dlq_reason"].decode()]


def test_an_invalid_touchpoint_is_dead_lettered_naming_the_field() -> None:
    store = MemoryContactsStore()
    (dead,) = handle(store, record(touchpoint(event_id="").SerializeToString()))
    assert dead.topic == TOUCHPOINTS_DLQ
    assert dict(dead.headers)["dlq_field"] == b"event_id"
    assert store.touchpoints == {}


def test_a_touchpoint_from_the_future_of_its_arrival_is_dead_lettered() -> None:
    future = touchpoint(at=T0 + timedelta(hours=1))
    (dead,) = handle(MemoryContactsStore(), record(future.SerializeToString(), received=T0))
    assert dict(dead.headers)["dlq_field"] == b"occurred_at"


def test_json_touchpoints_are_accepted() -> None:
    tp = touchpoint()
    value = json_format.MessageToJson(tp).encode()
    (out,) = handle(
        MemoryContactsStore(), record(value, headers={"content-type": b"application/json"})
    )
    assert out.topic == CONTACTS_RECORDED
    assert TouchpointRecorded.FromString(out.value).touchpoint == tp


def test_a_redelivered_batch_records_once_and_republishes_the_same_bytes() -> None:
    store = MemoryContactsStore()
    batch = [record(touchpoint(stage=s).SerializeToString(), n) for n, s in enumerate("abc")]
    first, again = handle(store, *batch), handle(store, *batch)
    assert first == again
    assert asyncio.run(store.stats()) == (3, 0)


def test_the_same_event_id_with_other_content_is_dead_lettered_as_a_conflict() -> None:
    store = MemoryContactsStore()
    original = touchpoint(measurements={"greeting_seconds": 12})
    changed = touchpoint(measurements={"greeting_seconds": 99})
    handle(store, record(original.SerializeToString(), 0))
    (dead,) = handle(store, record(changed.SerializeToString(), 1))
    assert dead.topic == TOUCHPOINTS_DLQ and dead.value == changed.SerializeToString()
    assert dict(dead.headers)["dlq_field"] == b"event_id"
    assert b"already recorded with different content" in dict(dead.headers)["dlq_reason"]
    assert store.touchpoints[original.event_id].payload == original.SerializeToString(
        deterministic=True
    )
    assert list(store.conflicts) == [
        (changed.event_id, changed.SerializeToString(deterministic=True))
    ]


def test_a_touchpoint_arriving_a_day_after_it_happened_is_recorded_and_marked_late() -> None:
    tp = touchpoint()
    (on_time,) = handle(MemoryContactsStore(), record(tp.SerializeToString(), received=T0))
    (late,) = handle(
        MemoryContactsStore(), record(tp.SerializeToString(), received=T0 + timedelta(hours=25))
    )
    assert not TouchpointRecorded.FromString(on_time.value).late
    assert TouchpointRecorded.FromString(late.value).late


def test_a_touchpoint_over_the_size_limit_is_dead_lettered_whole_before_it_is_decoded() -> None:
    store = MemoryContactsStore()
    huge = touchpoint(observations=["x" * 70_000]).SerializeToString()
    (dead,) = handle(store, record(huge))
    reason = dict(dead.headers)["dlq_reason"].decode()
    assert reason == f"value: is {len(huge):,} bytes; a touchpoint may be at most 65,536"
    assert [d.arrival.value for d in store.dead.values()] == [huge]  # kept whole
    assert store.touchpoints == {}


def test_a_touchpoint_over_the_size_limit_is_refused_over_grpc_too() -> None:
    huge = touchpoint(observations=["x" * 70_000])
    (result,) = asyncio.run(ContactsApi(MemoryContactsStore()).ingest([huge]))
    assert result.status == INGEST_STATUS_REJECTED
    assert [v.field for v in result.violations] == ["value"]


def test_the_recorded_event_names_the_customer_by_id_and_carries_no_personal_data() -> None:
    store = MemoryContactsStore()
    tp = touchpoint(measurements={"greeting_seconds": 45})
    tp.customer.identity.kind = IdentityKind.IDENTITY_KIND_PHONE
    tp.customer.identity.value = "+84901234567"
    tp.feedback.rating, tp.feedback.comment = 2, "the cashier, Lan, was rude to me"
    (published,) = handle(store, record(tp.SerializeToString(), 0))

    event = TouchpointRecorded.FromString(published.value)
    assert event.customer_id and event.customer_id == store.touchpoints[tp.event_id].customer_id
    assert b"+84901234567" not in published.value and b"rude" not in published.value
    assert (event.touchpoint.customer.identity.kind, event.touchpoint.feedback.rating) == (
        IdentityKind.IDENTITY_KIND_PHONE,  # what kind of identity, and how it went, stay
        2,
    )
    stored = Touchpoint.FromString(store.touchpoints[tp.event_id].payload)
    assert stored.customer.identity.value == "+84901234567"  # contacts keeps the whole
