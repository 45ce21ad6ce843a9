"""A visit completes at its last contact plus its map's visit gap, in event time: when that
contact arrived (how far the lane's clock had come) decides only when journey may complete it,
never the completion it publishes."""

from __future__ import annotations

from datetime import timedelta

from tests.builders import recorded, touchpoint
from tests.unit.test_deadlines import MONDAY, Journey, anything, local
from touchstone.journey.v1.events_pb2 import VisitCompleted
from touchstone.platform.messaging.topics import JOURNEY_VISITS
from touchstone.platform.runtime.prototime import to_datetime

START = local(MONDAY, 10)
ENTERED = recorded(touchpoint("enter_store", START, event_id="v1-enter"), "cust-1", "v-1")
PAID = recorded(
    touchpoint("checkout", START + timedelta(minutes=5), event_id="v1-pay"), "cust-1", "v-1"
)


def completions(journey: Journey) -> dict[str, VisitCompleted]:
    found = [o for o in journey.store.outbox if o.topic == JOURNEY_VISITS]
    events = [VisitCompleted.FromString(o.value) for o in found]
    return {e.visit_id: e for e in events}


def test_a_visit_whose_last_contact_came_late_completes_as_if_it_had_come_in_time() -> None:
    in_time, late = Journey(), Journey()
    for journey, log in (
        (in_time, [ENTERED, PAID, anything(START + timedelta(minutes=12))]),
        (late, [ENTERED, anything(START + timedelta(minutes=12)), PAID]),  # 7 minutes behind
    ):
        for entry in log:
            journey.feed(entry)
        journey.feed(anything(START + timedelta(days=1)))  # long past the visit's gap
    (done,) = completions(in_time).values()
    assert completions(late) == {"v-1": done}
    gap = timedelta(minutes=120)  # the supermarket map's visit_gap_minutes
    assert to_datetime(done.completed_at) == START + timedelta(minutes=5) + gap
