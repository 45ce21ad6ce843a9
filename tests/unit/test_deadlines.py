"""Deadlines: given a message left → then the callback keeps it, comes late, or never comes.

The site works Monday to Friday, 08:00-17:30 in Ho Chi Minh City (UTC+7), with public
holidays (services/platform/touchstone/shared_kernel/calendars/default.yaml). Time is event time:
the lose for
a missed deadline comes with the first event 30 minutes past it (a callback up to 15 minutes'
lateness after it keeps it, and may arrive up to 15 minutes behind the clock), at the deadline's
own time.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from tests.builders import MESSAGE_TAKEN, record, recorded, touchpoint
from tests.fakes.journey import MemoryJourneyStore
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.journey.handlers import ScoreMoments
from touchstone.journey.standards import default_standards
from touchstone.journey.v1.events_pb2 import (
    VERDICT_LOSE,
    VERDICT_WIN,
    MomentScored,
    VisitCompleted,
)
from touchstone.platform.messaging.topics import JOURNEY_MOMENTS, JOURNEY_VISITS, Outgoing
from touchstone.shared_kernel.calendar import BusinessCalendar
from touchstone.shared_kernel.calendar_file import CalendarError, load_calendars, parse_calendars

HCM = timezone(timedelta(hours=7))
OFFICE = load_calendars().for_site("hcm-01")
NEXT_DAY = "phone.message_taking.reply_by_end_of_next_working_day"
PROMISED = "phone.message_taking.callback_within_promised_time"


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=HCM)


FRIDAY = date(2026, 11, 20)
MONDAY, TUESDAY = date(2026, 11, 23), date(2026, 11, 24)


def message(at: datetime, customer: str = "cust-1", **measured: float) -> bytes:
    tp = touchpoint(
        "message_taking",
        at,
        "phone",
        measurements=measured,
        observations=MESSAGE_TAKEN,
        event_id=f"msg-{at}",
    )
    return recorded(tp, customer, visit_id=f"call-{at}")


def callback(at: datetime, customer: str = "cust-1") -> bytes:
    tp = touchpoint(
        "callback", at, "phone", observations=["need_met", "at_agreed_time"], event_id=f"cb-{at}"
    )
    return recorded(tp, customer, visit_id=f"callback-{at}")


def anything(at: datetime) -> bytes:
    """Someone else's contact: it only moves the event clock."""
    return recorded(touchpoint("drive_in", at, event_id=f"other-{at}"), "someone-else")


class Journey:
    """The journey handler over an in-memory store, fed one batch at a time."""

    def __init__(self) -> None:
        self.store = MemoryJourneyStore()
        self.handler = ScoreMoments(self.store, default_standards())
        self.offset = 0

    def feed(self, *values: bytes) -> list[MomentScored]:
        batch = []
        for value in values:
            batch.append(record(value, self.offset, "contacts.recorded.v1"))
            self.offset += 1
        out: list[Outgoing] = asyncio.run(self.handler.handle(batch))
        return [MomentScored.FromString(o.value) for o in out]

    def lost(self) -> list[MomentScored]:
        """The lost moments of missed deadlines, as published through the outbox."""
        outbox = self.store.outbox
        return [MomentScored.FromString(o.value) for o in outbox if o.topic == JOURNEY_MOMENTS]


def results(moment: MomentScored) -> dict[str, bool]:
    return {r.standard_id: r.met for r in moment.results}


def test_every_default_deadline_standard_is_kept_and_missed_here() -> None:
    deadlines = sorted(s.standard_id for s in default_standards() if s.is_deadline)
    assert deadlines == sorted((NEXT_DAY, PROMISED))


def test_the_end_of_the_next_working_day_skips_the_weekend() -> None:
    due = OFFICE.end_of_next_working_day(local(FRIDAY, 15))
    assert due == local(MONDAY, 17, 30)


def test_the_end_of_the_next_working_day_skips_holidays_and_the_weekend_after_them() -> None:
    wednesday = date(2026, 4, 29)  # Thursday 30 April and Friday 1 May are public holidays
    assert OFFICE.end_of_next_working_day(local(wednesday, 10)) == local(date(2026, 5, 4), 17, 30)


def test_a_message_left_after_closing_counts_from_its_own_local_day() -> None:
    monday, tuesday = date(2026, 11, 30), date(2026, 12, 1)
    late_evening = local(monday, 23, 30)  # 16:30 UTC, still Monday in Ho Chi Minh City
    assert OFFICE.end_of_next_working_day(late_evening) == local(tuesday, 17, 30)


def test_the_countrys_public_holidays_are_days_off_every_year_each_named() -> None:
    # Tuesday 24 November 2026 is Vietnam Cultural Day, listed by the `holidays` package
    assert OFFICE.end_of_next_working_day(local(MONDAY, 10)) == local(date(2026, 11, 25), 17, 30)
    assert OFFICE.holiday(TUESDAY) == "Vietnam Cultural Day"
    assert OFFICE.holiday(MONDAY) is None
    # nothing to list year by year: Tet 2027 (5-10 February) is off too
    assert OFFICE.next_working_day(date(2027, 2, 4)) == date(2027, 2, 11)


def test_a_calendars_own_days_off_add_to_the_countrys_and_worked_holidays_come_off_them() -> None:
    worked = replace(OFFICE, holidays=frozenset({MONDAY}), worked_holidays=frozenset({TUESDAY}))
    assert worked.holiday(MONDAY) == "a day off in calendar vietnam-office"
    assert worked.holiday(TUESDAY) is None
    assert worked.next_working_day(FRIDAY) == TUESDAY


def test_a_callback_before_the_deadline_keeps_it_and_wins() -> None:
    journey = Journey()
    journey.feed(message(local(FRIDAY, 15)))
    (answer,) = journey.feed(callback(local(MONDAY, 10)))
    assert answer.verdict == VERDICT_WIN and results(answer)[NEXT_DAY] is True
    journey.feed(anything(local(TUESDAY, 9)))
    assert journey.lost() == []


def test_no_callback_by_the_end_of_the_next_working_day_is_lost_when_the_deadline_passes() -> None:
    journey = Journey()
    journey.feed(message(local(FRIDAY, 15)))
    journey.feed(anything(local(date(2026, 11, 21), 12)))  # Saturday: the deadline is Monday
    journey.feed(anything(local(MONDAY, 17, 55)))  # a callback up to 17:45 may still come
    assert journey.lost() == []
    journey.feed(anything(local(MONDAY, 18, 5)))
    (lost,) = journey.lost()
    assert lost.verdict == VERDICT_LOSE and lost.stage == "message_taking"
    assert lost.occurred_at.ToDatetime(UTC) == local(MONDAY, 17, 30)  # the deadline's own time
    assert lost.customer_id == "cust-1" and lost.visit_id == f"call-{local(FRIDAY, 15)}"
    assert lost.reason == (
        "reply before the end of the next working day: no callback by 2026-11-23 10:30 UTC"
    )
    assert results(lost) == {NEXT_DAY: False}


def test_a_holiday_deadline_is_not_lost_on_the_holiday() -> None:
    journey = Journey()
    journey.feed(message(local(date(2026, 4, 29), 10)))
    journey.feed(anything(local(date(2026, 5, 1), 18)))  # Labour Day, and the evening after
    assert journey.lost() == []
    journey.feed(anything(local(date(2026, 5, 4), 18, 5)))
    assert [m.occurred_at.ToDatetime(UTC) for m in journey.lost()] == [
        local(date(2026, 5, 4), 17, 30)
    ]


def test_a_callback_within_the_lateness_keeps_the_deadline_late_and_loses_itself() -> None:
    journey = Journey()
    journey.feed(message(local(FRIDAY, 15)))
    (late,) = journey.feed(callback(local(MONDAY, 17, 40)))  # due 17:30, 15 minutes allowed
    assert late.verdict == VERDICT_LOSE and results(late)[NEXT_DAY] is False
    assert "due within 74.5 h" in late.reason
    journey.feed(anything(local(TUESDAY, 18)))
    assert journey.lost() == []  # one lose for one broken standard, not two


def test_a_late_callback_arriving_after_a_later_record_still_keeps_the_deadline_late() -> None:
    """Within the lateness, order does not matter: a record of 17:55 came first (another
    source ran ahead), then the callback of 17:40; heard in event-time order it kept the
    deadline late, and so it does now."""
    in_order, reordered = Journey(), Journey()
    for journey, log in (
        (in_order, [callback(local(MONDAY, 17, 40)), anything(local(MONDAY, 17, 55))]),
        (reordered, [anything(local(MONDAY, 17, 55)), callback(local(MONDAY, 17, 40))]),
    ):
        journey.feed(message(local(FRIDAY, 15)))
        for entry in log:
            journey.feed(entry)
        journey.feed(anything(local(TUESDAY, 18)))
        assert journey.lost() == []
    assert in_order.store.kept == reordered.store.kept


def test_a_callback_later_than_that_keeps_nothing_the_deadline_is_missed_whenever_it_came() -> None:
    """Whether the clock had passed the deadline when the callback arrived is timing (progress
    told every few seconds); event time alone decides: too late to keep it, it is missed."""
    journey = Journey()
    journey.feed(message(local(FRIDAY, 15)))
    (late,) = journey.feed(callback(local(TUESDAY, 9)))
    assert NEXT_DAY not in results(late)
    (lost,) = journey.lost()
    assert results(lost) == {NEXT_DAY: False} and "no callback by" in lost.reason


def test_a_promised_callback_time_is_kept_or_missed() -> None:
    journey = Journey()
    journey.feed(message(local(MONDAY, 10), callback_promised_hours=2))
    (in_time,) = journey.feed(callback(local(MONDAY, 11, 30)))
    assert results(in_time)[PROMISED] is True
    journey.feed(message(local(TUESDAY, 10), "cust-2", callback_promised_hours=2))
    journey.feed(anything(local(TUESDAY, 12, 35)))
    (missed,) = [m for m in journey.lost() if m.customer_id == "cust-2"]
    assert results(missed) == {PROMISED: False}
    assert missed.occurred_at.ToDatetime(UTC) == local(TUESDAY, 12)


def test_a_redelivered_batch_opens_nothing_twice_and_republishes_the_same_moments() -> None:
    journey = Journey()
    batch = [message(local(FRIDAY, 15)), callback(local(MONDAY, 10))]
    first = journey.feed(*batch)
    journey.offset = 0
    assert journey.feed(*batch) == first
    assert len(journey.store.deadlines) == 1 and journey.store.kept


def test_the_same_log_in_other_batches_loses_the_same_moments_at_the_same_times() -> None:
    log = [
        message(local(FRIDAY, 15)),
        message(local(FRIDAY, 16), "cust-2"),
        callback(local(MONDAY, 9), "cust-2"),
        anything(local(MONDAY, 18)),
        anything(local(TUESDAY, 9)),
    ]
    one_by_one, all_at_once = Journey(), Journey()
    for value in log:
        one_by_one.feed(value)
    all_at_once.feed(*log)

    def lost(journey: Journey) -> list[tuple[str, datetime]]:
        return [(m.moment_id, m.occurred_at.ToDatetime(UTC)) for m in journey.lost()]

    assert lost(one_by_one) == lost(all_at_once) and len(lost(all_at_once)) == 1


def test_a_late_event_does_not_move_the_clock() -> None:
    journey = Journey()
    journey.feed(message(local(FRIDAY, 15)))
    late = TouchpointRecorded.FromString(anything(local(TUESDAY, 9)))
    late.late = True  # contacts marks what arrives more than a day after it happened
    journey.feed(late.SerializeToString())
    assert journey.lost() == []
    journey.feed(anything(local(TUESDAY, 9)))  # the same time, on time: the deadline passed
    assert len(journey.lost()) == 1


def test_a_calendar_file_says_what_is_wrong() -> None:
    with pytest.raises(CalendarError, match="unknown calendar 'shop'"):
        parse_calendars("calendars: []\nsites: {'*': shop}\n", "c.yaml")
    bad_day = "calendars:\n  - {id: c, time_zone: UTC, working_days: [funday], opens: '08:00',"
    with pytest.raises(CalendarError, match=r"c.yaml:2: calendars\[0\] \(c\).working_days"):
        parse_calendars(bad_day + " closes: '17:00'}\nsites: {'*': c}\n", "c.yaml")
    with pytest.raises(ValueError, match="opens must be before closes"):
        BusinessCalendar("c", "UTC", frozenset({0}), OFFICE.closes, OFFICE.opens)


def test_a_callback_that_comes_after_the_clock_passed_its_deadline_finds_it_already_lost() -> None:
    log = [message(local(FRIDAY, 15)), anything(local(TUESDAY, 9)), callback(local(TUESDAY, 10))]
    for batches in ([log], [[r] for r in log]):
        journey = Journey()
        moments = [m for batch in batches for m in journey.feed(*batch)]
        assert len(journey.lost()) == 1  # missed when the clock passed it, in log order
        assert NEXT_DAY not in results(moments[-1])  # so the callback keeps nothing


def test_every_batching_of_a_day_decides_the_same_losses_and_visit_verdicts() -> None:
    def shop(stage: str, at: datetime, **measured: float) -> bytes:
        seen = ["helped"] if stage == "ask_staff" else []
        tp = touchpoint(
            stage, at, measurements=measured, observations=seen, event_id=f"shop-{stage}"
        )
        return recorded(tp, "shopper", "shop")

    log = [  # in event-time order, as the clock expects (15 minutes' lateness allowed)
        shop("enter_store", local(FRIDAY, 9), greeting_seconds=5),
        shop("wait_in_queue", local(FRIDAY, 9, 40), wait_seconds=500),
        anything(local(FRIDAY, 11, 50)),  # within the 2 h gap of the shop visit (and lateness)
        shop("ask_staff", local(FRIDAY, 11, 55), response_seconds=20),
        anything(local(FRIDAY, 14, 30)),  # the shop visit is over
        message(local(FRIDAY, 15)),
        message(local(MONDAY, 9), "cust-2", callback_promised_hours=1),
        callback(local(MONDAY, 9, 30), "cust-2"),
        anything(local(MONDAY, 18)),  # Friday's message is lost
        anything(local(date(2026, 11, 26), 12)),  # the calls are over
    ]

    def decided(batches: list[list[bytes]]) -> list[tuple[str, bytes]]:
        journey = Journey()
        for batch in batches:
            journey.feed(*batch)
        return sorted((o.topic, o.value) for o in journey.store.outbox)

    one_by_one = decided([[r] for r in log])
    lost = [v for topic, v in one_by_one if topic == JOURNEY_MOMENTS]
    completed = {
        VisitCompleted.FromString(v).visit_id: VisitCompleted.FromString(v)
        for topic, v in one_by_one
        if topic == JOURNEY_VISITS
    }
    assert len(lost) == 1
    assert {"shop", f"call-{local(FRIDAY, 15)}", f"call-{local(MONDAY, 9)}"} <= completed.keys()
    assert completed["shop"].wins == 2 and completed["shop"].losses == 1  # all three moments
    assert decided([log]) == one_by_one
    assert decided([log[:3], log[3:7], log[7:]]) == one_by_one
    assert decided([log[:5], log[5:]]) == one_by_one


def test_an_unquoted_closing_time_is_refused_not_misread() -> None:
    text = (
        "calendars:\n  - {id: c, time_zone: UTC, working_days: [mon],"
        " opens: '08:00', closes: 17:30}\nsites: {'*': c}\n"
    )
    with pytest.raises(CalendarError, match='closes: must be a quoted "HH:MM", not 1050'):
        parse_calendars(text, "c.yaml")


def test_a_visit_waits_for_the_customers_earlier_visit_held_open_by_a_deadline() -> None:
    """Its expectation is learnt from the customer's earlier visits, so it completes only after
    them, whichever end the clock reached first: the same verdicts however progress came."""
    saturday = date(2026, 11, 21)
    shop = recorded(
        touchpoint("enter_store", local(saturday, 9), measurements={"greeting_seconds": 5}),
        "cust-1",
        "shop-saturday",
    )
    journey = Journey()
    journey.feed(message(local(FRIDAY, 15)), shop)  # Friday's call waits on its callback
    journey.feed(anything(local(saturday, 13)))  # the shop visit's gap is over: it waits

    def completed() -> list[VisitCompleted]:
        visits = [o for o in journey.store.outbox if o.topic == JOURNEY_VISITS]
        return [VisitCompleted.FromString(o.value) for o in visits]

    assert completed() == []
    journey.feed(callback(local(MONDAY, 10)), anything(local(MONDAY, 12)))
    done = {v.visit_id: v for v in completed()}
    call, shop_visit = done[f"call-{local(FRIDAY, 15)}"], done["shop-saturday"]
    assert list(done).index(call.visit_id) < list(done).index("shop-saturday")
    assert shop_visit.expectation == call.perception
