"""ScoreMoments: each recorded touchpoint becomes one MomentScored, stored once."""

from __future__ import annotations

import asyncio

from tests.builders import record, recorded, touchpoint
from tests.fakes.journey import MemoryJourneyStore
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.journey.handlers import ScoreMoments
from touchstone.journey.standards import default_standards
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE, VERDICT_WIN, MomentScored
from touchstone.platform.messaging.topics import JOURNEY_DLQ, JOURNEY_MOMENTS
from touchstone.platform.runtime.ids import derived_id


def handle(store: MemoryJourneyStore, *records):
    return asyncio.run(ScoreMoments(store, default_standards()).handle(list(records)))


def test_a_slow_greeting_is_published_as_a_lost_moment_keyed_by_customer() -> None:
    store = MemoryJourneyStore()
    slow = touchpoint(measurements={"greeting_seconds": 45})
    (out,) = handle(store, record(recorded(slow), topic="contacts.recorded.v1"))
    event = MomentScored.FromString(out.value)
    assert (out.topic, out.key) == (JOURNEY_MOMENTS, b"cust-1")
    assert event.moment_id == derived_id("moment", slow.event_id)
    assert event.verdict == VERDICT_LOSE and event.source_event_id == slow.event_id
    assert event.results[0].standard_id == "supermarket.enter_store.greeted_within_30s"
    assert (event.results[0].measured, event.results[0].threshold) == (45, 30)
    assert (event.visit_id, event.site_id, event.stage) == ("visit-1", "hcm-01", "enter_store")
    assert dict(out.headers)["ce_id"] == event.moment_id.encode()
    assert [m.verdict for m in store.moments.values()] == ["lose"]


def test_a_redelivered_touchpoint_is_the_same_moment_stored_once() -> None:
    store = MemoryJourneyStore()
    value = recorded(touchpoint(measurements={"greeting_seconds": 12}))
    first, again = handle(store, record(value, 0)), handle(store, record(value, 0))
    assert first == again
    assert MomentScored.FromString(first[0].value).verdict == VERDICT_WIN
    assert len(store.moments) == 1


def test_garbage_and_incomplete_records_are_dead_lettered_and_the_rest_scored() -> None:
    store = MemoryJourneyStore()
    no_customer = TouchpointRecorded(touchpoint=touchpoint()).SerializeToString()
    out = handle(
        store, record(b"\xff\xff", 0), record(no_customer, 1), record(recorded(touchpoint()), 2)
    )
    assert [o.topic for o in out] == [JOURNEY_DLQ, JOURNEY_DLQ, JOURNEY_MOMENTS]
    assert b"customer id are required" in dict(out[1].headers)["dlq_reason"]
    assert len(store.moments) == 1
