"""One vocabulary: a word a stage does not declare is recorded, counted per producer and reported.

Given touchpoints speaking words their stage does not know (or values outside its plausible
range) → then they are recorded all the same, and GetIngestStats and the metric say so.
"""

from __future__ import annotations

import asyncio

from tests.builders import record, touchpoint
from tests.fakes.contacts import MemoryContactsStore
from touchstone.contacts.api import ContactsApi
from touchstone.contacts.codec import facts_of
from touchstone.contacts.domain import (
    OUT_OF_RANGE,
    UNKNOWN_MEASUREMENT,
    UNKNOWN_OBSERVATION,
    VocabularyGap,
    vocabulary_gaps,
)
from touchstone.contacts.handlers import RecordTouchpoints
from touchstone.contacts.service import ingest_policy
from touchstone.contacts.v1 import contacts_service_pb2 as pb
from touchstone.platform.runtime.metrics import VOCABULARY_GAPS
from touchstone.platform.runtime.settings import Settings

POLICY = ingest_policy(Settings())
CLOSE = ["repeated_actions", "asked_anything_else", "thanked", "caller_hung_up_first"]


def call_close(n: int, observations: list[str], source: str = "speech-analytics") -> bytes:
    tp = touchpoint(
        "close", journey_map="phone", observations=observations, source=source, event_id=f"c{n}"
    )
    return tp.SerializeToString()


def stats(store: MemoryContactsStore) -> pb.IngestStats:
    api = ContactsApi(store, POLICY)
    return asyncio.run(api.GetIngestStats(pb.GetIngestStatsRequest(), None))  # type: ignore[arg-type]


def test_an_unknown_observation_is_a_gap_and_a_known_one_is_not() -> None:
    facts = facts_of(touchpoint("close", journey_map="phone", observations=CLOSE))
    assert vocabulary_gaps(facts, POLICY) == (
        VocabularyGap(UNKNOWN_OBSERVATION, "repeated_actions"),
    )


def test_an_unknown_measurement_and_an_implausible_value_are_gaps() -> None:
    tp = touchpoint(measurements={"greeting_secs": 12, "greeting_seconds": 5000})
    assert vocabulary_gaps(facts_of(tp), POLICY) == (
        VocabularyGap(OUT_OF_RANGE, "greeting_seconds"),
        VocabularyGap(UNKNOWN_MEASUREMENT, "greeting_secs"),
    )


def test_an_unknown_observation_is_recorded_counted_per_producer_and_reported() -> None:
    store = MemoryContactsStore()
    before = VOCABULARY_GAPS.labels("phone", "close", UNKNOWN_OBSERVATION)._value.get()
    handler = RecordTouchpoints(store, POLICY)
    asyncio.run(handler.handle([record(call_close(n, CLOSE), n) for n in range(3)]))
    asyncio.run(handler.handle([record(call_close(0, CLOSE), 3)]))  # redelivered: not again
    asyncio.run(handler.handle([record(call_close(9, CLOSE, source="pbx"), 4)]))

    assert len(store.touchpoints) == 4  # nothing lost
    assert [(g.source, g.kind, g.name, g.touchpoints) for g in stats(store).vocabulary_gaps] == [
        ("speech-analytics", UNKNOWN_OBSERVATION, "repeated_actions", 3),
        ("pbx", UNKNOWN_OBSERVATION, "repeated_actions", 1),
    ]
    after = VOCABULARY_GAPS.labels("phone", "close", UNKNOWN_OBSERVATION)._value.get()
    assert after - before == 4


def test_a_touchpoint_in_the_vocabulary_reports_nothing() -> None:
    store = MemoryContactsStore()
    words = ["repeated_agreed_actions", "asked_anything_else", "thanked"]
    asyncio.run(RecordTouchpoints(store, POLICY).handle([record(call_close(1, words))]))
    assert list(stats(store).vocabulary_gaps) == []


def test_a_touchpoint_ingested_over_grpc_is_counted_too() -> None:
    store = MemoryContactsStore()
    api = ContactsApi(store, POLICY)
    tp = touchpoint("close", journey_map="phone", observations=CLOSE, event_id="g1")
    asyncio.run(api.ingest([tp]))
    (gap,) = stats(store).vocabulary_gaps
    assert (gap.journey_map, gap.stage, gap.name, gap.touchpoints) == (
        "phone",
        "close",
        "repeated_actions",
        1,
    )
