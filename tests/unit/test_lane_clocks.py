"""A lane's clock is the least of its sources once it has heard from all of them; a lagging
source holds it back, records alone do not move it, and it never goes back."""

from __future__ import annotations

import random
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from tests.builders import T0
from touchstone.journey.lane_clocks import LaneState, Progress
from touchstone.platform.messaging.progress import GRPC_SOURCE


def told(source: int, minutes: int, partitions: int = 2) -> Progress:
    return Progress(
        lane=0, source=source, partitions=partitions, at=T0 + timedelta(minutes=minutes)
    )


def test_before_any_progress_the_lanes_own_records_move_its_clock() -> None:
    lane = LaneState().saw(T0).saw(T0 + timedelta(minutes=5)).saw(T0 + timedelta(minutes=1))
    assert lane.clock == T0 + timedelta(minutes=5) and not lane.complete


def test_a_lagging_source_holds_the_clock_back_once_every_source_has_spoken() -> None:
    lane = LaneState().heard(told(0, 60)).heard(told(1, 10))
    assert not lane.complete  # the gRPC ingest has not spoken yet
    assert lane.saw(T0 + timedelta(hours=3)).clock is None  # so the lane waits for it
    lane = lane.heard(told(GRPC_SOURCE, 55))
    assert lane.complete and lane.clock == T0 + timedelta(minutes=10)
    assert lane.saw(T0 + timedelta(hours=3)).clock == lane.clock  # records no longer move it
    lane = lane.heard(told(1, 58))
    assert lane.clock == T0 + timedelta(minutes=55)  # the least of 60, 58, 55


def test_the_clock_never_goes_back() -> None:
    lane = LaneState().saw(T0 + timedelta(hours=1))  # an old log moved it on its own
    lane = lane.heard(told(0, 5)).heard(told(1, 5)).heard(told(GRPC_SOURCE, 5))
    assert lane.clock == T0 + timedelta(hours=1)
    assert lane.heard(told(0, 1)).sources[0] == T0 + timedelta(minutes=5)  # nor does a source


PROGRESS = st.lists(
    st.tuples(st.sampled_from([0, 1, GRPC_SOURCE]), st.integers(0, 120)), max_size=12
)


@given(PROGRESS, st.randoms())
def test_the_clock_is_the_same_whatever_order_the_lane_hears_the_same_progress(
    said: list[tuple[int, int]], rng: random.Random
) -> None:
    def final(order: list[tuple[int, int]]) -> LaneState:
        lane = LaneState()
        for source, minutes in order:
            lane = lane.heard(told(source, minutes))
        return lane

    shuffled = list(said)
    rng.shuffle(shuffled)
    assert final(said).sources == final(shuffled).sources
    if final(said).complete:
        assert final(said).clock == min(final(said).sources.values()) == final(shuffled).clock
