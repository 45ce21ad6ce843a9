"""A lagging input partition holds deadlines back instead of letting another partition's time
miss them early (issue: three callbacks 27-41 minutes before their deadline were scored WIN and
their deadline still published as a LOSE whenever contacts worked through a backlog).

Given a customer who leaves a message at 10:00 (callback promised within an hour) and is called
back at 10:30, both on one partition of touchpoints.v1, and other customers of the same journey
lane busy until 13:00 on another partition; when contacts works through that other partition
first (a backlog), then the deadline is kept all the same: the lane's clock waits for the
lagging partition's progress."""

from __future__ import annotations

import random
import zlib
from datetime import UTC, datetime, timedelta

from tests.builders import MESSAGE_TAKEN
from tests.pipeline import PARTITIONS, Pipeline, fed
from touchstone.contacts.domain import normalise_identity, resolve_identity_id
from touchstone.contacts.identity_keys import DEVELOPMENT_KEYS
from touchstone.contacts.v1.touchpoint_pb2 import (
    Channel,
    CustomerRef,
    ExternalIdentity,
    IdentityKind,
    Touchpoint,
)
from touchstone.platform.messaging.topics import CONTACTS_RECORDED, TOUCHPOINTS
from touchstone.tools.ops.publisher import customer_key, touchpoint_record

T10 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Monday 10:00 in Ho Chi Minh City


def partition_of(key: str) -> int:
    return zlib.crc32(key.encode()) % PARTITIONS  # as tests/pipeline.py places records


def caller(phone: str) -> CustomerRef:
    return CustomerRef(
        identity=ExternalIdentity(kind=IdentityKind.IDENTITY_KIND_PHONE, value=phone)
    )


def lane_of(phone: str) -> int:
    """The journey lane (contacts.recorded.v1 partition) of the customer a phone resolves to."""
    return partition_of(
        resolve_identity_id("phone", normalise_identity("phone", phone), DEVELOPMENT_KEYS)
    )


def phones(count: int, source: int, lane: int, skip: tuple[str, ...] = ()) -> list[str]:
    """Phones whose touchpoints go to that touchpoints.v1 partition and whose customers to that
    journey lane."""
    found = []
    for n in range(100_000):
        phone = f"+8490{n:07d}"
        key = customer_key(Touchpoint(customer=caller(phone)))
        if phone not in skip and partition_of(key) == source and lane_of(phone) == lane:
            found.append(phone)
            if len(found) == count:
                return found
    raise AssertionError("no such phones")


def call(phone: str, stage: str, at: datetime, n: int, **fields: object) -> Touchpoint:
    return Touchpoint(
        event_id=f"{phone}-{stage}-{n}",
        source="pbx",
        customer=caller(phone),
        site_id="cc-hcm",
        channel=Channel.CHANNEL_PHONE,
        journey_map="phone",
        stage=stage,
        visit_id=f"call-{phone}-{n}",
        **fields,
    )


def workload() -> tuple[list[tuple[object, int]], str]:
    (waiting,) = phones(1, source=0, lane=2)
    busy = phones(40, source=1, lane=2)
    touchpoints = []
    message = call(waiting, "message_taking", T10, 0, observations=list(MESSAGE_TAKEN))
    message.measurements["callback_promised_hours"] = 1.0
    message.occurred_at.FromDatetime(T10)
    callback = call(waiting, "callback", T10, 1, observations=["need_met", "at_agreed_time"])
    callback.occurred_at.FromDatetime(T10 + timedelta(minutes=30))
    touchpoints += [message, callback]
    for n in range(180):  # others' calls every minute until 13:00
        ring = call(busy[n % len(busy)], "ring", T10, 10 + n)
        ring.measurements["rings"] = 2
        ring.occurred_at.FromDatetime(T10 + timedelta(minutes=n))
        touchpoints.append(ring)
    stamped = [
        (touchpoint_record(tp), int(tp.occurred_at.ToDatetime(UTC).timestamp() * 1000) + 1000)
        for tp in touchpoints
    ]
    return sorted(stamped, key=lambda pair: pair[1]), waiting


def missed_deadlines(backlog_first: bool) -> list[str]:
    records, _ = workload()
    pipeline = fed(Pipeline(), records)  # type: ignore[arg-type]
    rng = random.Random(3)
    if backlog_first:  # contacts takes partition 1 whole before it reads partition 0
        pipeline.drain("contacts", TOUCHPOINTS, 1)
        for service in ("journey", "loyalty", "notify"):
            pipeline.drain_all(service)
    pipeline.run(rng, most=(1, 500))
    assert pipeline.records(CONTACTS_RECORDED)
    return sorted(pipeline.stores["journey"].missed)


def test_the_callback_in_a_lagging_partition_keeps_its_deadline() -> None:
    assert missed_deadlines(backlog_first=True) == missed_deadlines(backlog_first=False) == []
