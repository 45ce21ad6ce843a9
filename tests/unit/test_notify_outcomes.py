"""Recovery means recovery (services/notify/touchstone/notify/recovery.py, docs/domain.md §7, §9).

Given a case's lost moments, its apology and what the customer did later → then only positive
feedback or a visit with no lost moment at the case's site, after the apology, recovers it; a
win with no recovery work is the customer returning, never a recovery; CaseRecovered names
every lost moment, whatever order the moments arrive in.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from tests.builders import T0, moment, record, recorded, valued
from tests.fakes.loyalty import MemoryLoyaltyStore
from tests.fakes.notify import MemoryNotifyStore
from tests.unit.test_loyalty_at_risk import paid
from tests.unit.test_notify_recovery import events, handle, lost
from touchstone.contacts.v1.touchpoint_pb2 import Touchpoint
from touchstone.journey.v1.events_pb2 import VERDICT_WIN, MomentScored, VisitCompleted
from touchstone.loyalty.handlers import ValueCustomers
from touchstone.notify.codec import step_taken
from touchstone.notify.domain import case_id_for
from touchstone.notify.rows import StepCommand
from touchstone.notify.staff_commands import taking
from touchstone.platform.messaging.customer_links import LinkChange
from touchstone.platform.messaging.topics import (
    CONTACTS_RECORDED,
    JOURNEY_MOMENTS,
    JOURNEY_VISITS,
    NOTIFY_CASES,
)

CASE = case_id_for("cust-1", "visit-1")
APOLOGISE = 1  # on_site's first step: the staff's apology in person


def won(moment_id: str, minutes: float, visit: str = "visit-2", customer: str = "cust-1") -> bytes:
    event = MomentScored.FromString(
        moment(VERDICT_WIN, moment_id, visit, T0 + timedelta(minutes=minutes))
    )
    event.customer_id = customer
    return event.SerializeToString()


def visited(
    visit: str,
    minutes: float,
    losses: int = 0,
    site: str = "hcm-01",
    customer: str = "cust-1",
) -> bytes:
    """journey's VisitCompleted for a visit that began `minutes` after T0."""
    event = VisitCompleted(
        event_id=f"done-{visit}",
        visit_id=visit,
        customer_id=customer,
        site_id=site,
        journey_map="supermarket",
        wins=3,
        losses=losses,
    )
    event.first_at.FromDatetime(T0 + timedelta(minutes=minutes))
    return event.SerializeToString()


def apologised(store: MemoryNotifyStore, minutes: float, case: str = CASE) -> None:
    """Staff did the case's apology, `minutes` after T0."""
    command = StepCommand(case, APOLOGISE, "lan@hcm-01", "", completed=True)
    taken = taking(command, T0 + timedelta(minutes=minutes), step_taken)
    asyncio.run(store.take_step(command.case_id, taken))


def told(store: MemoryNotifyStore, *records) -> list:
    """The recoveries handling the records wrote to notify's outbox (they go out from there)."""
    before = len(store.outbox)
    events(handle(store, *records))
    new = events(store.outbox[before:])
    return [e.recovered for e in new if e.WhichOneof("change") == "recovered"]


def test_a_clean_visit_to_the_site_after_the_apology_recovers_and_names_every_lost_moment() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)), record(lost("m-2", 12), 1))
    apologised(store, 15)
    (recovered,) = told(store, record(visited("visit-2", 60 * 24), 2, JOURNEY_VISITS))
    assert (recovered.case_id, recovered.customer_id, recovered.how) == (CASE, "cust-1", "visit")
    assert list(recovered.moment_ids) == ["m-1", "m-2"]
    assert recovered.recovered_at.ToDatetime().replace(tzinfo=T0.tzinfo) == T0 + timedelta(days=1)
    case = asyncio.run(store.get_case(CASE))
    assert (case.status, case.recovered_by) == ("recovered", "done-visit-2")
    assert told(store, record(visited("visit-3", 60 * 25), 3, JOURNEY_VISITS)) == []  # once


def test_a_win_at_another_site_with_no_recovery_work_does_not_recover_the_case() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)))  # at hcm-01; nobody apologised
    elsewhere = visited("visit-9", 60 * 72, site="hn-01")
    out = told(
        store, record(won("w-9", 60 * 72 + 5, "visit-9"), 1), record(elsewhere, 2, JOURNEY_VISITS)
    )
    assert out == []
    case = asyncio.run(store.get_case(CASE))
    assert (case.status, case.recovered_by) == ("open", "")
    assert (case.returned_by, case.returned_at) == ("done-visit-9", T0 + timedelta(hours=72))


def test_loyalty_keeps_the_unrecovered_rate_for_a_case_only_a_win_elsewhere_followed() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)))
    told(store, record(won("w-9", 60 * 72, "visit-9"), 1))
    told(store, record(visited("visit-9", 60 * 72, site="hn-01"), 2, JOURNEY_VISITS))
    as_notify_told = [
        record(o.value, n, o.topic) for n, o in enumerate(store.outbox) if o.topic == NOTIFY_CASES
    ]
    loyalty = MemoryLoyaltyStore()
    fed = [paid(1, 250_000, -60), record(lost("m-1", 0), 100, JOURNEY_MOMENTS), *as_notify_told]
    asyncio.run(ValueCustomers(loyalty).handle(fed))
    (at_risk,) = asyncio.run(loyalty.get_value("cust-1", valued)).at_risk
    assert at_risk.moment_id == "m-1" and not at_risk.recovered
    assert at_risk.risk_after == Decimal("0.44")  # at the unrecovered departure rate
    assert at_risk.remaining_minor == at_risk.value_at_risk_minor  # nothing taken back


def test_a_clean_visit_before_the_apology_is_a_return_not_a_recovery() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)))
    assert told(store, record(visited("visit-2", 30), 1, JOURNEY_VISITS)) == []
    apologised(store, 45)  # too late for that visit to show anything
    assert told(store, record(won("w-3", 50, "visit-2"), 2)) == []
    case = asyncio.run(store.get_case(CASE))
    assert (case.status, case.returned_by) == ("open", "done-visit-2")


def test_a_visit_with_a_lost_moment_or_a_win_alone_recovers_nothing() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)))
    apologised(store, 5)
    assert told(store, record(won("w-1", 30, "visit-2"), 1)) == []  # the visit is not over
    assert told(store, record(visited("visit-2", 20, losses=1), 2, JOURNEY_VISITS)) == []
    assert asyncio.run(store.get_case(CASE)).status == "open"


def test_the_customers_own_visit_going_on_well_is_no_return() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)), record(won("w-1", 5, "visit-1"), 1))
    case = asyncio.run(store.get_case(CASE))
    assert (case.status, case.returned_by) == ("open", "")


def test_a_later_loss_in_the_visit_reopens_the_case_until_the_next_clean_visit() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)))
    apologised(store, 5)
    handle(store, record(visited("visit-2", 60), 1, JOURNEY_VISITS))
    assert asyncio.run(store.get_case(CASE)).status == "recovered"
    handle(store, record(lost("m-2", 90), 2))  # heard late: after the clean visit began
    assert asyncio.run(store.get_case(CASE)).status == "open"
    (again,) = told(store, record(visited("visit-3", 60 * 30), 3, JOURNEY_VISITS))
    assert list(again.moment_ids) == ["m-1", "m-2"]


def test_a_recovery_is_written_once_with_the_change_that_makes_it() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)))
    apologised(store, 5)
    (first,) = told(store, record(visited("visit-2", 60), 1, JOURNEY_VISITS))
    assert first.case_id == CASE
    assert told(store, record(visited("visit-2", 60), 1, JOURNEY_VISITS)) == []  # redelivered


def test_a_lost_moment_joining_a_recovered_case_is_told_recovered_too() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-2", 10)))
    apologised(store, 15)
    told(store, record(visited("visit-2", 60), 1, JOURNEY_VISITS))
    (again,) = told(store, record(lost("m-1", 0), 2))  # earlier in time, heard later
    assert list(again.moment_ids) == ["m-1", "m-2"]


def test_a_merge_after_the_clean_visit_recovers_the_case_and_says_so() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)))
    apologised(store, 5)
    card = visited("visit-2", 60, customer="card-7")
    assert told(store, record(card, 1, JOURNEY_VISITS)) == []
    before = len(store.outbox)
    asyncio.run(store.fold_links([LinkChange("merge-1", "cust-1", "card-7")]))
    (event,) = events(store.outbox[before:])
    assert event.recovered.case_id == CASE


def test_a_clean_visit_under_a_merged_id_recovers_the_customers_case() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)))
    apologised(store, 5)
    asyncio.run(store.fold_links([LinkChange("merge-1", "cust-1", "card-7")]))
    card = visited("visit-2", 60, customer="card-7")
    (recovered,) = told(store, record(card, 1, JOURNEY_VISITS))
    assert recovered.case_id == CASE


def said(rating: int, minutes: float, stage: str = "pay", event: str = "fb-1") -> bytes:
    """contacts' TouchpointRecorded for feedback the customer gave, rated 1..5 (0: none)."""
    tp = Touchpoint(event_id=event, site_id="hcm-01", journey_map="supermarket", stage=stage)
    tp.occurred_at.FromDatetime(T0 + timedelta(minutes=minutes))
    if rating:
        tp.feedback.rating = rating
    return recorded(tp, "cust-1", "visit-2")


def test_positive_feedback_after_the_apology_recovers_the_case() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", 0)))
    assert told(store, record(said(5, 10, event="fb-0"), 1, CONTACTS_RECORDED)) == []  # no sorry
    apologised(store, 20)
    assert told(store, record(said(3, 30), 2, CONTACTS_RECORDED)) == []  # lukewarm
    (recovered,) = told(store, record(said(5, 40, event="fb-2"), 3, CONTACTS_RECORDED))
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
