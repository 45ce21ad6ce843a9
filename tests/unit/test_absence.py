"""Absence: a standard broken by something that did not happen (docs/domain.md §4).

Given a visit in which nobody greeted the customer before they left the entrance → then the
entrance is lost once, "did not happen", whatever order and batches its touchpoints arrive in.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import timedelta

from tests.builders import T0, record, recorded, touchpoint
from tests.fakes.journey import MemoryJourneyStore
from touchstone.journey.handlers import ScoreMoments
from touchstone.journey.standards import default_standards
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE, MomentScored
from touchstone.platform.messaging.topics import JOURNEY_MOMENTS

GREETED = "supermarket.enter_store.greeted_within_30s"


def visit() -> list[bytes]:
    """Park, walk in (nobody comes to greet), take a basket, queue: the door sensor reports the
    entrance with no greeting measured."""
    stages = [
        ("find_parking", {"search_seconds": 40}, []),
        ("enter_store", {}, []),
        ("take_basket", {}, ["basket_available"]),
        ("wait_in_queue", {"wait_seconds": 90}, []),
    ]
    return [
        recorded(
            touchpoint(
                stage,
                T0 + timedelta(minutes=3 * n),
                measurements=measured,
                observations=seen,
                event_id=f"tp-{stage}",
            ),
            "lan",
            "visit-1",
        )
        for n, (stage, measured, seen) in enumerate(stages)
    ]


def lost_entrances(batches: list[list[bytes]]) -> list[MomentScored]:
    """The lost entrance moments journey publishes for the batches, redeliveries included."""
    handler = ScoreMoments(MemoryJourneyStore(), default_standards())
    published: dict[str, MomentScored] = {}
    offset = itertools.count()
    for batch in batches:
        out = asyncio.run(
            handler.handle([record(v, next(offset), "contacts.recorded.v1") for v in batch])
        )
        for o in out:
            if o.topic == JOURNEY_MOMENTS:
                moment = MomentScored.FromString(o.value)
                published[moment.moment_id] = moment
    return [m for m in published.values() if m.stage == "enter_store" and m.verdict == VERDICT_LOSE]


def test_a_customer_never_greeted_loses_the_entrance_once_as_did_not_happen() -> None:
    (entrance,) = lost_entrances([visit()])
    (result,) = entrance.results
    assert (result.standard_id, result.met, result.absent) == (GREETED, False, True)
    assert entrance.reason == "greeted within 30 s: did not happen"


def test_the_same_loss_once_in_any_arrival_order_batching_and_redelivery() -> None:
    (expected,) = lost_entrances([visit()])
    rng = random.Random(7)
    for _ in range(12):
        touchpoints = visit()
        rng.shuffle(touchpoints)
        cut = rng.randrange(1, len(touchpoints))
        batches = [touchpoints[:cut], touchpoints[cut:], rng.sample(touchpoints, 2)]  # + again
        assert lost_entrances(batches) == [expected]
