"""Journey at its edges: reasons, standards' fingerprints, and ScoreMoments' events and rows."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from tests.builders import T0, record, recorded, touchpoint
from tests.fakes.journey import MemoryJourneyStore
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.journey.domain import Moment, Standard, Verdict, score, standards_version
from touchstone.journey.handlers import ScoreMoments
from touchstone.journey.standards import default_standards
from touchstone.journey.v1.events_pb2 import SIDE_PERSONAL, VERDICT_UNSCORED, MomentScored
from touchstone.platform.messaging.topics import JOURNEY_DLQ, JOURNEY_MOMENTS, Outgoing
from touchstone.platform.runtime.prototime import to_datetime

GREETING = ("polite_greeting", "named_self", "named_company", "named_department")
QUEUE = next(s for s in default_standards() if s.stage == "wait_in_queue")


def scored(stage: str, journey_map: str = "supermarket", seen=(), **measured: float):
    return score(Moment(journey_map, stage, measured, frozenset(seen)), default_standards())


def test_a_greeting_in_20s_wins_with_no_reason() -> None:
    result = scored("enter_store", greeting_seconds=20)
    assert (result.verdict, result.reason) == (Verdict.WIN, "")


def test_a_queue_wait_of_301s_is_lost_naming_the_5_minute_standard() -> None:
    result = scored("wait_in_queue", wait_seconds=301)
    assert result.verdict is Verdict.LOSE
    assert result.reason == "served within 5 min of joining the queue: 301 (<= 300)"


def test_every_broken_standard_is_in_the_reason() -> None:
    patience = replace(QUEUE, standard_id="q2", description="told the wait", threshold=60)
    result = score(Moment("supermarket", "wait_in_queue", {"wait_seconds": 400}), [QUEUE, patience])
    assert result.reason == (
        "served within 5 min of joining the queue: 400 (<= 300); told the wait: 400 (<= 60)"
    )


def test_observations_beyond_the_required_ones_do_not_matter() -> None:
    assert scored("greeting", "phone", seen=(*GREETING, "smiled")).verdict is Verdict.WIN


def test_a_phone_greeting_with_no_observations_at_all_is_lost_not_unscored() -> None:
    result = scored("greeting", "phone")
    assert result.verdict is Verdict.LOSE
    assert (result.judgements[0].measured, result.judgements[0].threshold) == (0, 4)


def test_a_phone_greeting_missing_the_department_says_what_was_missing() -> None:
    result = scored("greeting", "phone", seen=GREETING[:3])
    assert result.verdict is Verdict.LOSE
    assert "named_department" in result.reason and "<=" not in result.reason


def test_a_measurement_for_another_stage_leaves_the_moment_unscored() -> None:
    assert scored("find_parking", greeting_seconds=90).verdict is Verdict.UNSCORED


def test_the_standards_version_is_the_same_for_equal_standards_built_twice() -> None:
    rebuilt = tuple(replace(s) for s in default_standards())
    assert standards_version(rebuilt) == standards_version(default_standards())
    assert len(standards_version(default_standards())) == 12


@pytest.mark.parametrize(
    "change", [{"description": "greeted fast"}, {"comparator": "<"}, {"weight": 2.0}]
)
def test_the_standards_version_changes_with_any_field_of_a_standard(change: dict) -> None:
    changed = (replace(default_standards()[0], **change), *default_standards()[1:])
    assert standards_version(changed) != standards_version(default_standards())


def test_a_standard_with_both_a_measurement_and_observations_is_refused() -> None:
    with pytest.raises(ValueError, match="exactly one of"):
        Standard(
            "s", "m", "st", "d", "timeliness", "responsiveness", "procedural", "x", "<=", 1, ("o",)
        )


def handle(store: MemoryJourneyStore, *records, standards=None) -> list[Outgoing]:
    scorer = ScoreMoments(store, standards or default_standards())
    return asyncio.run(scorer.handle(list(records)))


def scored_event(out: Outgoing) -> MomentScored:
    assert out.topic == JOURNEY_MOMENTS
    return MomentScored.FromString(out.value)


def test_a_stage_with_no_standard_is_published_and_stored_unscored() -> None:
    store = MemoryJourneyStore()
    only_the_greeting = [s for s in default_standards() if s.stage == "enter_store"]
    (out,) = handle(store, record(recorded(touchpoint("browse"))), standards=only_the_greeting)
    event = scored_event(out)
    assert (event.verdict, event.reason, len(event.results)) == (VERDICT_UNSCORED, "", 0)
    assert [m.verdict for m in store.moments.values()] == ["unscored"]


def test_a_moment_carries_the_standards_version_and_the_touchpoints_time() -> None:
    (out,) = handle(MemoryJourneyStore(), record(recorded(touchpoint())))
    event = scored_event(out)
    assert event.standards_version == standards_version(default_standards())
    assert to_datetime(event.occurred_at) == T0
    assert dict(out.headers)["ce_time"] == T0.isoformat().encode()
    assert dict(out.headers)["ce_type"] == b"touchstone.journey.v1.MomentScored"


def test_an_observation_standard_is_published_as_all_of_its_observations() -> None:
    greeting = touchpoint("greeting", journey_map="phone", observations=GREETING[:3])
    (result,) = scored_event(handle(MemoryJourneyStore(), record(recorded(greeting)))[0]).results
    assert (result.measurement, result.met, result.measured, result.threshold) == (
        "observations",
        False,
        3,
        4,
    )
    assert result.comparator == "all of " + ", ".join(GREETING)
    assert (result.side, result.area) == (SIDE_PERSONAL, "communication")


def test_the_stored_row_is_the_published_event() -> None:
    store = MemoryJourneyStore()
    (out,) = handle(store, record(recorded(touchpoint(measurements={"greeting_seconds": 45}))))
    (row,) = store.moments.values()
    assert row.payload == out.value
    assert (row.moment_id, row.verdict, row.occurred_at) == (
        scored_event(out).moment_id,
        "lose",
        T0,
    )


def test_a_visit_rolls_up_each_moment_once_across_redeliveries() -> None:
    store = MemoryJourneyStore()
    slow = recorded(touchpoint(measurements={"greeting_seconds": 45}))
    quick = recorded(touchpoint("wait_in_queue", measurements={"wait_seconds": 60}))
    handle(store, record(slow, 0))
    handle(store, record(slow, 0), record(quick, 1))
    found = asyncio.run(store.get_visit("visit-1"))
    assert found is not None
    visit, moments = found
    assert (visit.wins, visit.losses, len(moments)) == (1, 1, 2)


def test_a_deployments_own_standard_scores_its_own_map() -> None:
    web = Standard(
        "web.search.fast", "web", "search", "results within 2 s", "timeliness", "access",
        "procedural", "result_seconds", "<=", 2,
    )  # fmt: skip
    tp = touchpoint("search", journey_map="web", measurements={"result_seconds": 5})
    event = scored_event(handle(MemoryJourneyStore(), record(recorded(tp)), standards=[web])[0])
    assert event.reason == "results within 2 s: 5 (<= 2)"


def test_a_recorded_touchpoint_without_a_time_is_dead_lettered() -> None:
    tp = touchpoint()
    tp.ClearField("occurred_at")
    value = TouchpointRecorded(touchpoint=tp, customer_id="c", visit_id="v").SerializeToString()
    (out,) = handle(MemoryJourneyStore(), record(value))
    assert out.topic == JOURNEY_DLQ
    assert dict(out.headers)["dlq_reason"] == b"touchpoint occurred_at is required"


def test_a_recorded_touchpoint_with_an_impossible_time_is_dead_lettered() -> None:
    tp = touchpoint()
    tp.occurred_at.seconds = 2**62
    (out,) = handle(MemoryJourneyStore(), record(recorded(tp)))
    assert out.topic == JOURNEY_DLQ
