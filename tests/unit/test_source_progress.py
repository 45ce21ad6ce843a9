"""What contacts tells journey's lanes: each input partition's progress in event time, its own
while records wait on it, the wall clock too once caught up; told to every lane."""

from __future__ import annotations

from datetime import timedelta

from tests.builders import T0
from touchstone.contacts.v1.events_pb2 import SourceProgress
from touchstone.platform.messaging.progress import (
    IDLE_AFTER,
    SourceClocks,
    is_progress,
    progress_records,
)
from touchstone.platform.messaging.topics import CONTACTS_RECORDED, header_map

NOW = T0 + timedelta(hours=2)


LONG_AGO = NOW - IDLE_AFTER - timedelta(seconds=1)


def test_a_partition_claims_its_own_progress_while_records_wait_on_it() -> None:
    clocks = SourceClocks()
    clocks.saw(0, T0 + timedelta(minutes=5), LONG_AGO)
    clocks.saw(0, T0, LONG_AGO)  # an older one does not take it back
    clocks.saw(1, T0 + timedelta(minutes=9), LONG_AGO)
    held = {0: False, 1: True, 2: True, 3: False}  # 2: nothing ever came; 3: nothing seen yet
    assert clocks.claims(held, NOW) == {0: T0 + timedelta(minutes=5), 1: NOW, 2: NOW}


def test_a_caught_up_partition_still_receiving_claims_its_records_time_not_the_wall_clock() -> None:
    """A producer sending old touchpoints as fast as contacts takes them: their own time counts
    (the fault suite's overload found deadlines judged by the wall clock in mid-stream)."""
    clocks = SourceClocks()
    clocks.saw(0, T0, NOW - timedelta(seconds=1))
    assert clocks.claims({0: True}, NOW) == {0: T0}
    assert clocks.claims({0: True}, NOW + IDLE_AFTER) == {0: NOW + IDLE_AFTER}  # quiet since


def test_each_claim_goes_to_every_lane_as_source_progress() -> None:
    records = progress_records({0: T0, 3: NOW}, partitions_in=4, partitions_out=2)
    assert [(r.topic, r.partition, r.key) for r in records] == [
        (CONTACTS_RECORDED, 0, b""),
        (CONTACTS_RECORDED, 1, b""),
        (CONTACTS_RECORDED, 0, b""),
        (CONTACTS_RECORDED, 1, b""),
    ]
    assert all(is_progress(header_map(r.headers)) for r in records)
    told = SourceProgress.FromString(records[-1].value)
    assert (told.topic, told.partition, told.partitions) == ("touchpoints.v1", 3, 4)
    assert told.event_time.ToDatetime().replace(tzinfo=NOW.tzinfo) == NOW
