"""Recovery by a win: given a case's lost moments and the customer's wins → then the first win
after the case's last lost moment recovers it, CaseRecovered names every lost moment, whatever
order the moments arrive in."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from notify.domain import case_id_for
from tests.builders import T0, moment, record, recorded
from tests.memory_stores import MemoryNotifyStore
from tests.unit.test_notify_recovery import events, handle, lost
from touchstone.common.customer_links import LinkChange
from touchstone.common.topics import CONTACTS_RECORDED
from touchstone.contacts.v1.touchpoint_pb2 import Touchpoint
from touchstone.journey.v1.events_pb2 import VERDICT_WIN, MomentScored

CASE = case_id_for("cust-1", "visit-1")


def won(moment_id: str, minutes: float, visit: str = "visit-2", customer: str = "cust-1") -> bytes:
    event = MomentScored.FromString(
        moment(VERDICT_WIN, moment_id, visit, T0 + timedelta(minutes=minutes))
    )
    event.customer_id = customer
    return event.SerializeToString()


def told(store: MemoryNotifyStore, *records) -> list:
    """The recoveries handling the records wrote to notify's outbox (they go out from there)."""
    before = len(store.outbox)
    events(handle(store, *records))
    new = events(store.outbox[before:])
    return [e.recovered for e in new if e.WhichOneof("change") == "recovered"]


def test_the_next_win_recovers_the_case_and_names_every_lost_moment() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)), record(lost("m-2", 12), 1))
    (recovered,) = told(store, record(won("w-1", 60 * 24), 2))
    assert (recovered.case_id, recovered.customer_id, recovered.how) == (CASE, "cust-1", "win")
    assert list(recovered.moment_ids) == ["m-1", "m-2"]
    assert recovered.recovered_at.ToDatetime().replace(tzinfo=T0.tzinfo) == T0 + timedelta(days=1)
    case = asyncio.run(store.get_case(CASE))
    assert (case.status, case.recovered_by) == ("recovered", "w-1")
    assert told(store, record(won("w-2", 60 * 25), 3)) == []  # news once


def test_a_win_before_the_last_lost_moment_recovers_nothing() -> None:
    store = MemoryNotifyStore()
    out = told(
        store,
        record(lost("m-1", 0)),
        record(won("w-1", 5, "visit-1"), 1),
        record(lost("m-2", 12), 2),
    )
    assert out == []
    assert asyncio.run(store.get_case(CASE)).status == "open"


def test_a_win_heard_before_the_loss_it_follows_recovers_it_when_the_loss_arrives() -> None:
    store = MemoryNotifyStore()
    assert told(store, record(won("w-1", 60))) == []
    (recovered,) = told(store, record(lost("m-1", 0), 1))
    assert list(recovered.moment_ids) == ["m-1"]


def test_a_later_loss_in_the_visit_reopens_the_case_until_the_next_win() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)), record(won("w-1", 5, "visit-1"), 1))
    assert asyncio.run(store.get_case(CASE)).status == "recovered"
    handle(store, record(lost("m-2", 20), 2))
    assert asyncio.run(store.get_case(CASE)).status == "open"
    (again,) = told(store, record(won("w-2", 90), 3))
    assert list(again.moment_ids) == ["m-1", "m-2"]


def test_a_recovery_is_written_once_with_the_change_that_makes_it() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)))
    (first,) = told(store, record(won("w-1", 60), 1))
    assert first.case_id == CASE
    assert told(store, record(won("w-1", 60), 1)) == []  # redelivered: the change is made


def test_a_lost_moment_joining_a_recovered_case_is_told_recovered_too() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-2", 10)))
    told(store, record(won("w-1", 60), 1))
    (again,) = told(store, record(lost("m-1", 0), 2))  # earlier in time, heard later
    assert list(again.moment_ids) == ["m-1", "m-2"]


def test_a_merge_after_the_win_recovers_the_case_and_says_so() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)))
    assert told(store, record(won("w-1", 60, customer="card-7"), 1)) == []
    before = len(store.outbox)
    asyncio.run(store.fold_links([LinkChange("merge-1", "cust-1", "card-7")]))
    (event,) = events(store.outbox[before:])
    assert event.recovered.case_id == CASE


def test_a_win_under_a_merged_id_recovers_the_customers_case() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)))
    asyncio.run(store.fold_links([LinkChange("merge-1", "cust-1", "card-7")]))
    (recovered,) = told(store, record(won("w-1", 60, customer="card-7"), 1))
    assert recovered.case_id == CASE


def said(rating: int, minutes: float, stage: str = "pay", event: str = "fb-1") -> bytes:
    """contacts' TouchpointRecorded for feedback the customer gave, rated 1..5 (0: none)."""
    tp = Touchpoint(event_id=event, site_id="hcm-01", journey_map="supermarket", stage=stage)
    tp.occurred_at.FromDatetime(T0 + timedelta(minutes=minutes))
    if rating:
        tp.feedback.rating = rating
    return recorded(tp, "cust-1", "visit-2")


def test_positive_feedback_after_the_last_lost_moment_recovers_the_case() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)))
    assert told(store, record(said(3, 30), 1, CONTACTS_RECORDED)) == []  # lukewarm
    (recovered,) = told(store, record(said(5, 40, event="fb-2"), 2, CONTACTS_RECORDED))
    assert (recovered.case_id, recovered.how) == (CASE, "feedback")
    assert recovered.recovered_at.ToDatetime().replace(tzinfo=T0.tzinfo) == T0 + timedelta(
        minutes=40
    )
    assert asyncio.run(store.get_case(CASE)).recovered_by == "rec-fb-2"


def test_complaints_and_visits_are_counted_from_recorded_touchpoints() -> None:
    store = MemoryNotifyStore()
    handle(
        store,
        record(said(1, 5, event="fb-1"), 0, CONTACTS_RECORDED),  # negative feedback
        record(said(0, 6, stage="complaint", event="c-1"), 1, CONTACTS_RECORDED),  # on site
        record(said(4, 7, event="fb-2"), 2, CONTACTS_RECORDED),  # praise: no complaint
    )
    assert {c.kind for c in store.complaints.values()} == {"negative_feedback", "on_site"}
    assert store.visits == {("hcm-01", "visit-2"): T0 + timedelta(minutes=5)}
