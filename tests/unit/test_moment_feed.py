"""The live feed's watchers: filtered, bounded, and honest about what a slow one missed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from touchstone.journey.api import watch_filter
from touchstone.journey.v1 import journey_service_pb2 as pb
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE, VERDICT_WIN, MomentScored
from touchstone.platform.messaging.topic_feed import Watcher
from touchstone.platform.serving.rpc import InvalidArgument

AT = datetime(2026, 11, 23, tzinfo=UTC)


def moment(n: int, verdict: int = VERDICT_LOSE, customer: str = "c1") -> MomentScored:
    return MomentScored(moment_id=f"m{n}", customer_id=customer, verdict=verdict, stage="ring")


def test_a_watcher_gets_only_what_it_asked_for() -> None:
    wanted = watch_filter(pb.WatchMomentsRequest(customer_id="c1", verdict=VERDICT_LOSE))
    watcher = Watcher(wanted)
    for m in (moment(1), moment(2, VERDICT_WIN), moment(3, customer="c2"), moment(4)):
        watcher.offer(m, AT)
    got = [asyncio.run(watcher.next()).message.moment_id for _ in range(watcher.queue.qsize())]
    assert got == ["m1", "m4"]


def test_a_slow_watcher_loses_its_oldest_moments_and_is_told_how_many() -> None:
    watcher = Watcher(lambda m: True, size=3)
    for n in range(5):
        watcher.offer(moment(n), AT)  # never blocks, however far behind the watcher is
    first = asyncio.run(watcher.next())
    assert (first.message.moment_id, first.missed) == ("m2", 2)
    assert asyncio.run(watcher.next()).missed == 0


def test_an_unknown_verdict_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        watch_filter(pb.WatchMomentsRequest(verdict=99))  # type: ignore[arg-type]
