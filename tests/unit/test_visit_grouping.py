"""Visits of contacts whose producer named none: given a customer's contacts on a map at a site,
then those within the map's visit gap of each other are one visit, and farther apart two, the
same however the contacts were batched (docs/domain.md §3; the supermarket's gap is 120 minutes)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.builders import record, recorded, touchpoint
from tests.fakes.journey import MemoryJourneyStore
from touchstone.journey.handlers import ScoreMoments
from touchstone.journey.standards import default_standards
from touchstone.journey.v1.events_pb2 import MomentScored
from touchstone.platform.messaging.topics import Incoming, Outgoing

TEN = datetime(2026, 11, 16, 3, tzinfo=UTC)  # 10:00 in Ho Chi Minh City


def contact(stage: str, minutes: int, n: int, site: str = "hcm-01", visit: str = "") -> Incoming:
    tp = touchpoint(
        stage, TEN + timedelta(minutes=minutes), event_id=f"c{n}", site_id=site, visit_id=visit
    )
    # contacts' fallback visit id for a contact with none: journey groups it by gap instead
    fallback = visit or "contacts-fallback"
    return record(recorded(tp, "lan", fallback, named=False), n, "contacts.recorded.v1")


def visits_of(batches: list[list[Incoming]]) -> dict[str, str]:
    """source event id -> the visit journey put it in."""
    handler = ScoreMoments(MemoryJourneyStore(), default_standards())
    out = [o for batch in batches for o in asyncio.run(handler.handle(batch))]
    return visits_published(out)


def visits_published(out: list[Outgoing]) -> dict[str, str]:
    """source event id -> visit, of the moments published."""
    moments = [MomentScored.FromString(o.value) for o in out if o.topic == "journey.moments.v1"]
    return {m.source_event_id: m.visit_id for m in moments}


DAY = [
    contact("drive_in", 0, 1),
    contact("enter_store", 5, 2),
    contact("pay", 90, 3),  # 85 minutes after the last: the same visit
    contact("drive_in", 300, 4),  # 210 minutes after: a new visit
    contact("enter_store", 30, 5, site="hcm-02"),  # another site: another visit
    contact("pay", 100, 6, visit="receipt-77"),  # named by its producer: kept
]


def test_contacts_within_the_gap_are_one_visit_and_farther_apart_two() -> None:
    visits = visits_of([DAY])
    assert visits["c1"] == visits["c2"] == visits["c3"]
    assert len({visits["c1"], visits["c4"], visits["c5"], visits["c6"]}) == 4
    assert visits["c6"] == "receipt-77"
    assert "contacts-fallback" not in visits.values()


def test_the_grouping_is_the_same_however_the_contacts_were_batched() -> None:
    assert visits_of([[c] for c in DAY]) == visits_of([DAY]) == visits_of([DAY[:2], DAY[2:]])


def test_a_contact_after_its_visit_completed_starts_another() -> None:
    early = contact("drive_in", 0, 1)
    tick = record(
        recorded(touchpoint("drive_in", TEN + timedelta(hours=3), event_id="t"), "lan", "tick"),
        2,
        "contacts.recorded.v1",
    )  # the customer's lane's clock passes the first visit's gap: it completes
    late = contact("pay", 100, 3)  # 100 minutes after the first, but its visit is over
    visits = visits_of([[early], [tick], [late]])
    assert visits["c1"] != visits["c3"]
