"""Customer links: given merges and unmerges (in any order) → who counts as the customer."""

from __future__ import annotations

import asyncio

import pytest

from tests.builders import record, recorded, touchpoint
from tests.fakes.journey import MemoryJourneyStore
from touchstone.contacts.v1 import profile_pb2 as pb
from touchstone.journey.handlers import ScoreMoments
from touchstone.journey.ports import MomentFilter
from touchstone.journey.standards import default_standards
from touchstone.platform.messaging.customer_links import (
    LinkChange,
    group_of,
    link_change_of,
    root_of,
)
from touchstone.platform.messaging.customer_links_store import FollowCustomerLinks
from touchstone.platform.messaging.decoding import UnusableRecord
from touchstone.platform.messaging.topics import CONTACTS_PROFILES, CONTACTS_RECORDED, JOURNEY_DLQ

MERGE_AB = LinkChange("m1", survivor_id="A", absorbed_id="B")
MERGE_BC = LinkChange("m2", survivor_id="B", absorbed_id="C")


def unmerged(link: LinkChange) -> LinkChange:
    return LinkChange(link.merge_id, link.survivor_id, link.absorbed_id, unmerged=True)


def merged_event(merge_id: str = "m1", survivor: str = "A", absorbed: str = "B") -> bytes:
    merged = pb.CustomersMerged(merge_id=merge_id, survivor_id=survivor, absorbed_id=absorbed)
    return pb.CustomerEvent(event_id=f"e-{merge_id}", merged=merged).SerializeToString()


def unmerged_event(merge_id: str = "m1", survivor: str = "A", absorbed: str = "B") -> bytes:
    undone = pb.CustomersUnmerged(merge_id=merge_id, survivor_id=survivor, absorbed_id=absorbed)
    return pb.CustomerEvent(event_id=f"u-{merge_id}", unmerged=undone).SerializeToString()


def test_a_customer_nobody_merged_is_a_group_of_one() -> None:
    assert group_of([], "A") == ("A",)
    assert root_of([MERGE_AB], "Z") == "Z"


def test_a_merged_customer_counts_as_the_survivor_and_the_survivor_includes_them() -> None:
    assert root_of([MERGE_AB], "B") == "A"
    assert group_of([MERGE_AB], "A") == group_of([MERGE_AB], "B") == ("A", "B")


def test_merges_chain_to_the_last_survivor() -> None:
    assert root_of([MERGE_AB, MERGE_BC], "C") == "A"
    assert group_of([MERGE_BC, MERGE_AB], "C") == ("A", "B", "C")


def test_an_unmerge_separates_exactly_what_its_merge_joined() -> None:
    links = [MERGE_AB, MERGE_BC, unmerged(MERGE_AB)]
    assert group_of(links, "A") == ("A",)
    assert group_of(links, "C") == ("B", "C")


def test_an_unmerge_folded_before_its_merge_still_wins() -> None:
    assert group_of([unmerged(MERGE_AB), MERGE_AB], "A") == ("A",)


def test_a_cycle_folded_for_a_moment_ends_without_hanging() -> None:
    cycle = [MERGE_AB, LinkChange("m3", survivor_id="B", absorbed_id="A")]
    assert root_of(cycle, "A") == "A"  # 32 steps round a cycle of two end where they began
    assert group_of(cycle, "A") == ("A", "B")


def test_merge_and_unmerge_events_are_link_changes_and_other_profile_events_are_not() -> None:
    assert link_change_of(pb.CustomerEvent.FromString(merged_event())) == MERGE_AB
    assert link_change_of(pb.CustomerEvent.FromString(unmerged_event())) == unmerged(MERGE_AB)
    erased = pb.CustomerEvent(event_id="e", erased=pb.CustomerErased(customer_id="A"))
    assert link_change_of(erased) is None


def test_a_merge_that_does_not_say_who_is_unusable() -> None:
    with pytest.raises(UnusableRecord, match="absorbed_id"):
        link_change_of(pb.CustomerEvent.FromString(merged_event(absorbed="")))


def follow(store: MemoryJourneyStore, *records):
    handler = FollowCustomerLinks(store, ScoreMoments(store, default_standards()), JOURNEY_DLQ)
    return asyncio.run(handler.handle(list(records)))


def moments_of(store: MemoryJourneyStore, customer_id: str) -> list[str]:
    rows = asyncio.run(store.list_moments(MomentFilter(customer_id=customer_id), None, 100))
    return sorted(m.customer_id for m in rows)


def test_given_two_customers_merged_then_unmerged_journey_answers_for_both_then_each() -> None:
    store = MemoryJourneyStore()
    scored = follow(
        store,
        record(recorded(touchpoint(event_id="t1"), "A"), 0, CONTACTS_RECORDED),
        record(recorded(touchpoint(event_id="t2"), "B"), 1, CONTACTS_RECORDED),
        record(merged_event(), 0, CONTACTS_PROFILES, key=b"B"),
    )
    assert len(scored) == 2  # the merge publishes nothing: it is folded, not re-scored
    assert moments_of(store, "A") == moments_of(store, "B") == ["A", "B"]
    follow(store, record(unmerged_event(), 1, CONTACTS_PROFILES, key=b"B"))
    assert (moments_of(store, "A"), moments_of(store, "B")) == (["A"], ["B"])


def test_an_undecodable_profile_record_is_dead_lettered_and_the_rest_handled() -> None:
    store = MemoryJourneyStore()
    out = follow(
        store,
        record(b"\xff\xff", 0, CONTACTS_PROFILES),
        record(merged_event(), 1, CONTACTS_PROFILES, key=b"B"),
    )
    assert [o.topic for o in out] == [JOURNEY_DLQ]
    assert store.links == [MERGE_AB]
