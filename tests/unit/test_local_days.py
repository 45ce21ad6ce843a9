"""Days are the site's days: a visit does not split at UTC midnight (07:00 in Vietnam).

Given two payments at 06:55 and 07:05 in Ho Chi Minh City (23:55 and 00:05 UTC) at one store,
from a till that names no visit → then contacts gives them one visit id, loyalty counts one
visit and journey groups them into one visit. And "today", the last day a journey map or the control
figures show by default, is the site's own date, not UTC's; the console lists a stage's lost
moments over the same local days the map counts.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta, timezone

from tests.builders import handled, record, touchpoint, value_records
from tests.fakes.contacts import MemoryContactsStore
from tests.fakes.journey import MemoryJourneyStore
from tests.fakes.loyalty import MemoryLoyaltyStore
from touchstone.contacts.handlers import RecordTouchpoints
from touchstone.contacts.service import ingest_policy
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.contacts.v1.touchpoint_pb2 import Money
from touchstone.journey.handlers import ScoreMoments
from touchstone.journey.standards import default_standards
from touchstone.journey.v1.events_pb2 import MomentScored
from touchstone.loyalty.handlers import ValueCustomers
from touchstone.loyalty.v1.events_pb2 import ValueUpdated
from touchstone.platform.messaging.topics import CONTACTS_RECORDED, JOURNEY_MOMENTS, LOYALTY_VALUES
from touchstone.platform.runtime.settings import Settings
from touchstone.shared_kernel.calendar import BusinessCalendar, Calendars
from touchstone.shared_kernel.calendar_file import load_calendars
from touchstone.tools.console.views import period

HCM = timezone(timedelta(hours=7))
BEFORE = datetime(2026, 11, 20, 6, 55, tzinfo=HCM)  # 23:55 UTC on the 19th
AFTER = datetime(2026, 11, 20, 7, 5, tzinfo=HCM)  # 00:05 UTC on the 20th


def payment_at(at: datetime, n: int) -> bytes:
    tp = touchpoint(
        "pay",
        at,
        purchase=Money(currency="VND", minor_units=200_000),
        observations=["thanked"],
        event_id=f"pay-{n}",
    )
    return tp.SerializeToString()


def recorded_by_contacts() -> list[bytes]:
    """What contacts publishes for the two payments, arriving just after they happened."""
    handler = RecordTouchpoints(MemoryContactsStore(), ingest_policy(Settings()))
    arrivals = [
        record(payment_at(at, n), n, received=at + timedelta(seconds=2))
        for n, at in enumerate((BEFORE, AFTER))
    ]
    out = asyncio.run(handler.handle(arrivals))
    return [o.value for o in out if o.topic == CONTACTS_RECORDED]


def test_the_utc_dates_differ_but_the_local_day_is_one() -> None:
    assert BEFORE.astimezone(UTC).date() != AFTER.astimezone(UTC).date()
    assert BEFORE.date() == AFTER.date()


def test_contacts_gives_both_payments_one_visit() -> None:
    visits = {TouchpointRecorded.FromString(v).visit_id for v in recorded_by_contacts()}
    assert len(visits) == 1


def test_loyalty_counts_one_visit_with_the_average_spend_of_both() -> None:
    handler = ValueCustomers(MemoryLoyaltyStore())
    batch = [record(v, n, CONTACTS_RECORDED) for n, v in enumerate(recorded_by_contacts())]
    out = value_records(handled(handler, batch))
    values = [ValueUpdated.FromString(o.value).value for o in out if o.topic == LOYALTY_VALUES]
    assert (values[-1].visits, values[-1].average_spend_minor) == (1, 400_000)


def test_journey_groups_both_payments_into_one_visit() -> None:
    handler = ScoreMoments(MemoryJourneyStore(), default_standards())
    batch = [record(v, n, CONTACTS_RECORDED) for n, v in enumerate(recorded_by_contacts())]
    out = asyncio.run(handler.handle(batch))
    moments = [MomentScored.FromString(o.value) for o in out if o.topic == JOURNEY_MOMENTS]
    assert len(moments) == 2 and len({m.visit_id for m in moments}) == 1


def test_today_is_the_sites_own_date_and_for_every_site_the_latest_one_living() -> None:
    calendars = load_calendars()
    evening_utc = datetime(2026, 12, 4, 17, 30, tzinfo=UTC)  # 00:30 on the 5th in Vietnam
    assert calendars.today("hcm-01", evening_utc) == date(2026, 12, 5)
    assert calendars.today("", evening_utc) == date(2026, 12, 5)
    assert calendars.today("hcm-01", evening_utc - timedelta(hours=1)) == date(2026, 12, 4)


def test_the_lost_moments_the_console_lists_are_of_the_days_the_map_counts() -> None:
    """The map counts each site's local days; the stage's lost moments beside it were listed by
    UTC days, 7 hours off in Vietnam (the first morning missing, the next day's morning shown)."""
    calendars = load_calendars()
    asked = {"site": "hcm-01", "first": "2026-11-30", "last": "2026-12-06"}
    assert period(asked, calendars, datetime(2026, 12, 6, tzinfo=UTC)) == (
        datetime(2026, 11, 30, tzinfo=HCM),
        datetime(2026, 12, 7, tzinfo=HCM),
    )
    evening_utc = datetime(2026, 12, 5, 18, tzinfo=UTC)  # the 6th in Vietnam: the map's today
    since, until = period({"site": "hcm-01"}, calendars, evening_utc)
    assert (since, until) == (datetime(2026, 11, 30, tzinfo=HCM), datetime(2026, 12, 7, tzinfo=HCM))


def test_every_sites_days_run_from_the_first_site_to_start_them_to_the_last_to_end_them() -> None:
    london = BusinessCalendar("uk", "Europe/London", frozenset(range(5)), time(9), time(17))
    vietnam = BusinessCalendar("vn", "Asia/Ho_Chi_Minh", frozenset(range(5)), time(8), time(17))
    calendars = Calendars({"uk": london, "vn": vietnam}, {"ldn-01": "uk", "*": "vn"})
    first, last = date(2026, 12, 1), date(2026, 12, 2)
    assert calendars.span("ldn-01", first, last) == (
        datetime(2026, 12, 1, tzinfo=UTC),  # London keeps UTC in winter
        datetime(2026, 12, 3, tzinfo=UTC),
    )
    assert calendars.span("", first, last) == (
        datetime(2026, 12, 1, tzinfo=HCM),
        datetime(2026, 12, 3, tzinfo=UTC),
    )
