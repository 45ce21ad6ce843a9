"""What the fault suite publishes: the simulator's touchpoints, and the same touchpoints spoilt as
producers spoil them (repeats, conflicting repeats, malformed records, any order). Pure: the same
seed gives the same records.

The touchpoints happen in January 2026, months before any run: every deadline in them falls
inside the workload, so once the whole backlog is handled every verdict is decided and two runs
can be compared down to the last one.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from google.protobuf.message import DecodeError

from touchstone.contacts.domain import DEFAULT_MAX_TOUCHPOINT_BYTES, MAX_EVENT_ID_LENGTH
from touchstone.contacts.v1.touchpoint_pb2 import IdentityKind, Touchpoint
from touchstone.platform.runtime.ids import derived_id
from touchstone.tools.dev.simulator import GARBAGE, generate_visits, in_event_time_order
from touchstone.tools.ops.publisher import Record, customer_key, touchpoint_record

START = datetime(2026, 1, 5, 8, tzinfo=UTC)  # a Monday, long before any run
TWO_MIB = 2 << 20


@dataclass(frozen=True)
class Workload:
    """Records in the order they are published, and what contacts must make of them."""

    name: str
    records: tuple[Record, ...]
    rejects: int = 0  # records contacts must dead-letter (malformed, conflicting repeats)
    conflicts: int = 0  # of those, repeats of a recorded event id with other content


def simulated(seed: int, count: int, start: datetime = START) -> Workload:
    """The first count touchpoints of the simulator's seeded visits, in the order they happen."""
    ordered = itertools.chain.from_iterable(in_event_time_order(generate_visits(seed, start)))
    touchpoints = itertools.islice(ordered, count)
    return Workload("simulated", tuple(touchpoint_record(tp) for tp in touchpoints))


def with_repeats(workload: Workload, seed: int, share: float, conflict_share: float) -> Workload:
    """A share of the records sent again, a conflict_share again with other content, each
    later than the original (on its partition too: same key), as a retrying producer does."""
    rng = random.Random(seed)
    n = len(workload.records)
    placed: list[tuple[float, int, Record]] = []
    conflicts = 0
    for i, record in enumerate(workload.records):
        placed.append((float(i), 0, record))
        if rng.random() < share:
            placed.append((rng.uniform(i, n), 1, record))
        if rng.random() < conflict_share:
            placed.append((rng.uniform(i, n), 2, _conflicting(record)))
            conflicts += 1
    placed.sort(key=lambda p: (p[0], p[1]))
    records = tuple(r for _, _, r in placed)
    name = f"{workload.name} + {share:.0%} repeats + {conflict_share:.0%} conflicts"
    return Workload(name, records, workload.rejects + conflicts, workload.conflicts + conflicts)


def _conflicting(record: Record) -> Record:
    """The record's touchpoint under the same event id with something else said."""
    touchpoint = Touchpoint.FromString(record.value)
    touchpoint.observations.append("said again, differently")
    return record._replace(value=touchpoint.SerializeToString())


Spoil = Callable[[Touchpoint], Touchpoint | bytes]


def _set(**fields: object) -> Spoil:
    def spoil(tp: Touchpoint) -> Touchpoint:
        for name, value in fields.items():
            target, _, leaf = name.rpartition(".")
            holder = tp
            for part in filter(None, target.split(".")):
                holder = getattr(holder, part)
            setattr(holder, leaf, value)
        return tp

    return spoil


def _cleared(field: str) -> Spoil:
    def spoil(tp: Touchpoint) -> Touchpoint:
        tp.ClearField(field)
        return tp

    return spoil


def _occurring(when: Callable[[], datetime]) -> Spoil:
    def spoil(tp: Touchpoint) -> Touchpoint:
        tp.occurred_at.FromDatetime(when())
        return tp

    return spoil


def _measured(name: str, value: float) -> Spoil:
    def spoil(tp: Touchpoint) -> Touchpoint:
        tp.measurements[name] = value
        return tp

    return spoil


def _padded(size: int) -> Spoil:
    def spoil(tp: Touchpoint) -> Touchpoint:
        tp.observations.append("x" * size)
        return tp

    return spoil


MALFORMED: dict[str, Spoil] = {  # how producers get it wrong; contacts must refuse each
    "not protobuf": lambda tp: GARBAGE,
    "empty value": lambda tp: b"",
    "no event id": _set(event_id=""),
    "event id too long": _set(event_id="e" * (MAX_EVENT_ID_LENGTH + 1)),
    "no event time": _cleared("occurred_at"),
    "event time a day ahead": _occurring(lambda: datetime.now(UTC) + timedelta(days=1)),
    "event time in 1999": _occurring(lambda: datetime(1999, 12, 31, tzinfo=UTC)),
    "no customer": _cleared("customer"),
    "identity kind unset": _set(
        **{
            "customer.identity.kind": IdentityKind.IDENTITY_KIND_UNSPECIFIED,
            "customer.identity.value": "x",
        }
    ),
    "identity without value": _set(
        **{
            "customer.identity.kind": IdentityKind.IDENTITY_KIND_PHONE,
            "customer.identity.value": "",
        }
    ),
    "no site": _set(site_id=""),
    "control character in source": _set(source="till\x00 7"),
    "measurement not a number": _measured("greeting_seconds", float("nan")),
    "negative payment": _set(**{"purchase.currency": "VND", "purchase.minor_units": -5}),
    "currency not ISO 4217": _set(**{"purchase.currency": "dong", "purchase.minor_units": 5}),
    "rating 9 of 5": _set(**{"feedback.rating": 9}),
    "over the touchpoint limit": _padded(DEFAULT_MAX_TOUCHPOINT_BYTES),
}
HUGE = "2 MiB record"


def with_malformed(workload: Workload, seed: int, share: float) -> Workload:
    """A share of malformed records (each kind in turn, under fresh event ids, keyed as the
    touchpoint they spoil) and one 2 MiB record, at random places among the rest."""
    rng = random.Random(seed)
    kinds = itertools.cycle(MALFORMED.items())
    records = list(workload.records)
    count = max(1, round(len(records) * share))
    spoilt = [_spoilt(rng.choice(workload.records), n, *next(kinds)) for n in range(count - 1)]
    spoilt.append(_spoilt(rng.choice(workload.records), count, HUGE, _padded(TWO_MIB)))
    for record in spoilt:
        records.insert(rng.randrange(len(records) + 1), record)
    share_made = count / len(workload.records)
    name = f"{workload.name} + {share_made:.0%} malformed ({len(MALFORMED) + 1} kinds)"
    return replace(workload, name=name, records=tuple(records), rejects=workload.rejects + count)


def _spoilt(record: Record, n: int, kind: str, spoil: Spoil) -> Record:
    touchpoint = Touchpoint.FromString(record.value)
    key = customer_key(touchpoint).encode()
    touchpoint.event_id = f"malformed-{n}-{derived_id(kind)}"
    spoilt = spoil(touchpoint)
    if isinstance(spoilt, bytes):
        return touchpoint_record(touchpoint, spoilt)._replace(key=key)
    return touchpoint_record(spoilt)._replace(key=key)


def shuffled(workload: Workload, seed: int) -> Workload:
    """The customers' touchpoints interleaved in a random order, each customer's own in the
    order they happened: what producers publishing as things happen give, however their
    clocks, batches and retries interleave them (any partition runs ahead of any other)."""
    rng = random.Random(seed)
    places = sorted(rng.random() for _ in workload.records)
    rng.shuffle(places)
    by_key: dict[bytes, list[float]] = {}
    for record, place in zip(workload.records, places, strict=True):
        by_key.setdefault(record.key, []).append(place)
    slots = {key: iter(sorted(found)) for key, found in by_key.items()}
    placed = sorted((next(slots[r.key]), r) for r in workload.records)
    records = tuple(record for _, record in placed)
    return replace(workload, name=f"{workload.name}, customers interleaved", records=records)


def jittered(workload: Workload, seed: int, up_to: timedelta = timedelta(minutes=10)) -> Workload:
    """Each record sent as if delayed by a random time up to `up_to` after it happened: records
    within that of each other, a customer's own too, come in any order. Within the 15 minutes'
    lateness journey allows this is any order; further apart, a record behind its source's
    progress is late by design (docs/standards.md: event time), so no order-free result is owed."""
    rng = random.Random(seed)
    span = up_to.total_seconds()
    delayed = []
    at = START
    for n, record in enumerate(workload.records):
        at = _event_time(record) or at  # what does not say its time goes where it stood
        delayed.append((at + timedelta(seconds=rng.uniform(0, span)), n, record))
    delayed.sort()
    name = f"{workload.name}, any order within {up_to.total_seconds() / 60:.0f} min"
    return replace(workload, name=name, records=tuple(r for _, _, r in delayed))


def _event_time(record: Record) -> datetime | None:
    try:
        touchpoint = Touchpoint.FromString(record.value)
    except DecodeError:
        return None
    if not touchpoint.HasField("occurred_at"):
        return None
    return touchpoint.occurred_at.ToDatetime(UTC)


def scrambled(workload: Workload, seed: int) -> Workload:
    """Every record in a random order: a customer's too (producers with skewed clocks, a till
    that publishes after the door sensor's retry)."""
    records = list(workload.records)
    random.Random(seed).shuffle(records)
    return replace(
        workload, name=f"{workload.name}, every record in any order", records=tuple(records)
    )


def event_ids(workload: Workload) -> set[str]:
    """The event ids of its records that contacts must record (not the malformed ones)."""
    ids = (dict(record.headers).get("ce_id", b"").decode() for record in workload.records)
    return {i for i in ids if i and not i.startswith("malformed-")}
