"""Source progress: how far, in event time, contacts has read each source of journey's lanes,
told to every lane after the records it covers (journey/lane_clocks.py reads it).

A source is a partition of touchpoints.v1, or contacts' gRPC ingest (relayed from its outbox).
What a source may claim: the latest event time handled from it, while records wait on it or keep
coming; once nothing waits and nothing has come for IDLE_AFTER (a quiet partition), the wall
clock too, since whatever comes on it later arrives after now (a record that then claims an
earlier time is late, as any producer's late record is). A partition that keeps up with a
producer is not quiet: it claims the event time its records carry, so a producer sending last
month's touchpoints as fast as contacts takes them is judged by their time, as a backlog is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from touchstone.contacts.v1.events_pb2 import SourceProgress
from touchstone.platform.messaging.topics import (
    CONTACTS_RECORDED,
    TOUCHPOINTS,
    Outgoing,
    cloudevent_headers,
)
from touchstone.platform.runtime.ids import derived_id
from touchstone.platform.runtime.prototime import to_timestamp

PROGRESS_TYPE = "touchstone.contacts.v1.SourceProgress"
SOURCE = "touchstone/contacts"
GRPC_SOURCE = -1  # contacts' gRPC ingest, relayed from its outbox: a source beside the partitions
REPORT_EVERY_S = 5.0  # progress is told at most this often (deadlines wait minutes anyway)
IDLE_AFTER = timedelta(seconds=10)  # a caught-up partition this long without a record is quiet


@dataclass
class SourceClocks:
    """The latest event time handled from each partition of the input, and when (wall clock)."""

    clocks: dict[int, datetime] = field(default_factory=dict)
    heard: dict[int, datetime] = field(default_factory=dict)

    def saw(self, partition: int, at: datetime, handled_at: datetime) -> None:
        """A record of the partition's, of event time `at`, handled at `handled_at`."""
        was = self.clocks.get(partition)
        if was is None or at > was:
            self.clocks[partition] = at
        self.heard[partition] = max(handled_at, self.heard.get(partition, handled_at))

    def claims(self, held: Mapping[int, bool], now: datetime) -> dict[int, datetime]:
        """What each held partition (True: caught up) may claim (module docstring)."""
        out: dict[int, datetime] = {}
        for partition, caught_up in held.items():
            own = self.clocks.get(partition)
            heard = self.heard.get(partition)
            quiet = caught_up and (heard is None or now - heard >= IDLE_AFTER)
            claim = max(own, now) if quiet and own else (now if quiet else own)
            if claim is not None:
                out[partition] = claim
        return out


def progress_records(
    claims: Mapping[int, datetime], partitions_in: int, partitions_out: int
) -> list[Outgoing]:
    """Each claim, told to every partition of contacts.recorded.v1."""
    records = []
    for source, at in sorted(claims.items()):
        progress = SourceProgress(
            topic=TOUCHPOINTS,
            partition=source,
            partitions=partitions_in,
            event_time=to_timestamp(at),
        )
        value = progress.SerializeToString()
        for lane in range(partitions_out):
            event_id = derived_id("progress", str(source), at.isoformat(), str(lane))
            headers = cloudevent_headers(
                event_id=event_id, source=SOURCE, type_=PROGRESS_TYPE, time=at
            )
            records.append(Outgoing(CONTACTS_RECORDED, b"", value, headers, partition=lane))
    return records


def is_progress(headers: Mapping[str, bytes]) -> bool:
    """Whether a contacts.recorded.v1 record is source progress, not a recorded touchpoint."""
    return headers.get("ce_type") == PROGRESS_TYPE.encode()


SOURCE_CLOCKS = SourceClocks()  # this process's: contacts' handler writes, its consumer tells
