"""Business calendars: when a site works, so that deadlines mean working time (docs/domain.md §4).

"Reply before the end of the next working day" depends on where: a site's working days, its
closing time in its own time zone, and its holidays: the public holidays of its country (and
subdivision) as the `holidays` package lists them for any year, with the calendar's own days off
added and the public holidays it works taken away. Pure functions over event time only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ANY_SITE = "*"
MAX_DAYS_AHEAD = 366  # a calendar with no working day in a year is a mistake, not a wait


@dataclass(frozen=True)
class BusinessCalendar:
    """A site's working week, opening hours (local time) and holidays."""

    calendar_id: str
    time_zone: str
    working_days: frozenset[int]  # 0 = Monday, as date.weekday()
    opens: time
    closes: time
    holidays: frozenset[date] = frozenset()  # days off besides the country's public holidays
    country: str = ""  # ISO 3166 code whose public holidays are days off ("": none)
    subdivision: str = ""  # the country's subdivision (state, province), if its holidays differ
    worked_holidays: frozenset[date] = frozenset()  # public holidays the site works after all

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # an unknown zone fails here, not at the first deadline
        if not self.working_days or not self.working_days <= set(range(7)):
            raise ValueError(f"{self.calendar_id}: working days must be some of Monday..Sunday")
        if self.opens >= self.closes:
            raise ValueError(f"{self.calendar_id}: opens must be before closes")
        if self.country:
            public_holidays(self.country, self.subdivision, 2000)  # an unknown one fails here

    def holiday(self, day: date) -> str | None:
        """Why the site is closed that day (local date) though it is a working weekday: the
        public holiday's name, or that the calendar lists it; None when it is not closed."""
        if day in self.holidays:
            return f"a day off in calendar {self.calendar_id}"
        if not self.country or day in self.worked_holidays:
            return None
        return public_holidays(self.country, self.subdivision, day.year).get(day)

    def is_working_day(self, day: date) -> bool:
        """Whether the site works that day (local date)."""
        return day.weekday() in self.working_days and self.holiday(day) is None

    def next_working_day(self, day: date) -> date:
        """The first working day after day."""
        for ahead in range(1, MAX_DAYS_AHEAD + 1):
            candidate = day + timedelta(days=ahead)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"{self.calendar_id}: no working day within a year of {day}")

    def days_span(self, first: date, last: date) -> tuple[datetime, datetime]:
        """[the start of first, the start of the day after last) in the site's time zone."""
        zone = ZoneInfo(self.time_zone)
        since = datetime.combine(first, time(0), zone)
        return since, datetime.combine(last + timedelta(days=1), time(0), zone)

    def end_of_next_working_day(self, at: datetime) -> datetime:
        """Closing time, on the first working day after at's local date, as UTC."""
        zone = ZoneInfo(self.time_zone)
        day = self.next_working_day(at.astimezone(zone).date())
        return datetime.combine(day, self.closes, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Calendars:
    """Every site's calendar: its own, or the one for any site ("*")."""

    by_id: Mapping[str, BusinessCalendar]
    sites: Mapping[str, str] = field(default_factory=dict)  # site id or "*" -> calendar id

    def for_site(self, site_id: str) -> BusinessCalendar:
        """The calendar the site works by."""
        return self.by_id[self.sites.get(site_id) or self.sites[ANY_SITE]]

    def today(self, site_id: str, now: datetime) -> date:
        """The site's own date now; for every site (""), the latest date any site is living:
        a day's figures are the site's local day, so "today" must not end at UTC midnight."""
        return max(now.astimezone(ZoneInfo(c.time_zone)).date() for c in self._of(site_id))

    def span(self, site_id: str, first: date, last: date) -> tuple[datetime, datetime]:
        """[the start of first, the start of the day after last) as the site lives those days;
        for every site (""), from the first site to start the day to the last to end it."""
        spans = [c.days_span(first, last) for c in self._of(site_id)]
        return min(since for since, _ in spans), max(until for _, until in spans)

    def _of(self, site_id: str) -> list[BusinessCalendar]:
        return [self.for_site(site_id)] if site_id else list(self.by_id.values())


@cache
def public_holidays(country: str, subdivision: str, year: int) -> Mapping[date, str]:
    """The public holidays the `holidays` package lists for the country (and subdivision) in a
    year, by name; NotImplementedError for a country or subdivision it does not know."""
    listed = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return dict(listed.items())
