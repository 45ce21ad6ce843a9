"""Business calendars as data (calendars/default.yaml, or TOUCHSTONE_CALENDARS_FILE).

Every problem in a file is reported at once, each with the file, its line, the field and what is
allowed there (CalendarError), rather than the first one as a bare Python error."""

from __future__ import annotations

import difflib
from datetime import date, time
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import holidays

from touchstone.platform.runtime.config_files import (
    Lined,
    LinedList,
    Problem,
    ProblemsError,
    load_lined,
    shipped,
)
from touchstone.shared_kernel.calendar import (
    ANY_SITE,
    WEEKDAYS,
    BusinessCalendar,
    Calendars,
    public_holidays,
)

REQUIRED_KEYS = ("id", "time_zone", "working_days", "opens", "closes")
CALENDAR_KEYS = (*REQUIRED_KEYS, "country", "subdivision", "holidays", "worked_holidays")
SHOWN_SUBDIVISIONS = 30  # a country's subdivisions named in a problem, at most


class CalendarError(ProblemsError):
    """A calendars file that cannot be used; every problem names its file, line and field."""


def default_calendars_file() -> Path:
    """The calendars that ship with Touchstone."""
    return shipped("touchstone.shared_kernel", "calendars", "default.yaml")


def load_calendars(path: Path | None = None) -> Calendars:
    """The calendars in the file (the shipped ones if None)."""
    source = path or default_calendars_file()
    return parse_calendars(source.read_text(encoding="utf-8"), str(source))


def parse_calendars(text: str, origin: str) -> Calendars:
    """Calendars from YAML text; CalendarError listing every problem found."""
    doc, problems = load_lined(text, origin)
    if problems:
        raise CalendarError(problems)
    reader = _Reader(origin)
    if not isinstance(doc, Lined) or not isinstance(doc.get("calendars"), list):
        line = doc.line_of("calendars") if isinstance(doc, Lined) else 1
        reader.at(line, "calendars", f"expected a list of calendars, each with {_keys()}")
        raise CalendarError(reader.problems)
    by_id = {}
    for n, raw in enumerate(doc["calendars"]):
        calendar = reader.calendar(raw, f"calendars[{n}]", doc["calendars"].line_of(n))
        if calendar is not None:
            by_id[calendar.calendar_id] = calendar
    sites = reader.sites(doc, set(by_id) | reader.named)
    if reader.problems:
        raise CalendarError(sorted(reader.problems, key=lambda p: p.line))
    return Calendars(by_id, sites)


class _Reader:
    """Reads calendars one by one, collecting problems rather than stopping at the first."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.problems: list[Problem] = []
        self.named: set[str] = set()  # ids of calendars with problems: sites may name them

    def at(self, line: int, field: str, message: str) -> None:
        self.problems.append(Problem(self.origin, line, field, message))

    def calendar(self, raw: Any, where: str, line: int) -> BusinessCalendar | None:
        if not isinstance(raw, Lined):
            self.at(line, where, f"expected a mapping with {_keys()}")
            return None
        before = len(self.problems)
        for key in sorted(set(raw) - set(CALENDAR_KEYS)):
            self.at(raw.line_of(key), f"{where}.{key}", f"unknown key; known: {_keys()}")
        for key in REQUIRED_KEYS:
            if key not in raw:
                self.at(raw.line, f"{where}.{key}", "is required")
        calendar_id = str(raw.get("id", ""))
        self.named.add(calendar_id)
        where = f"{where} ({calendar_id})" if calendar_id else where
        time_zone = self.time_zone(raw, where)
        working_days = self.working_days(raw, where)
        opens = self.clock_time(raw, where, "opens")
        closes = self.clock_time(raw, where, "closes")
        holidays = self.dates(raw, where, "holidays")
        country, subdivision = self.country(raw, where)
        worked = self.dates(raw, where, "worked_holidays")
        self.public_ones(raw, where, worked, country, subdivision)
        if len(self.problems) > before:
            return None
        try:
            return BusinessCalendar(
                calendar_id,
                time_zone,
                working_days,
                opens,
                closes,
                holidays,
                country,
                subdivision,
                worked,
            )
        except ValueError as error:  # the domain's own checks: opens before closes
            self.at(raw.line, where, str(error).removeprefix(f"{calendar_id}: "))
            return None

    def time_zone(self, raw: Lined, where: str) -> str:
        zone = raw.get("time_zone")
        if "time_zone" in raw and not _is_zone(zone):
            near = difflib.get_close_matches(str(zone), _zones(), n=3)
            hint = f"; did you mean {' or '.join(near)}?" if near else " (e.g. Asia/Ho_Chi_Minh)"
            self.at(
                raw.line_of("time_zone"),
                f"{where}.time_zone",
                f"{zone!r} is not a time zone of the tz database{hint}",
            )
        return str(zone)

    def working_days(self, raw: Lined, where: str) -> frozenset[int]:
        days = raw.get("working_days")
        if "working_days" not in raw:
            return frozenset()
        field, allowed = f"{where}.working_days", ", ".join(WEEKDAYS)
        if not isinstance(days, LinedList) or not days:
            self.at(raw.line_of("working_days"), field, f"expected a list of some of {allowed}")
            return frozenset()
        for n, day in enumerate(days):
            if day not in WEEKDAYS:
                self.at(days.line_of(n), f"{field}[{n}]", f"{day!r} is not a day; use {allowed}")
        return frozenset(WEEKDAYS.index(d) for d in days if d in WEEKDAYS)

    def clock_time(self, raw: Lined, where: str, key: str) -> time:
        value, field = raw.get(key), f"{where}.{key}"
        if key not in raw:
            return time(0)
        # YAML reads an unquoted 17:30 as the number 1050 (base 60): refuse it, not misread it
        if not isinstance(value, str):
            self.at(raw.line_of(key), field, f'must be a quoted "HH:MM", not {value!r}')
            return time(0)
        try:
            told = time.fromisoformat(value)
        except ValueError:
            told = None
        if told is None or told.tzinfo is not None:  # the calendar's time zone gives the offset
            self.at(raw.line_of(key), field, f'{value!r} is not a local time of day "HH:MM"')
            return time(0)
        return told

    def country(self, raw: Lined, where: str) -> tuple[str, str]:
        for key in ("country", "subdivision"):
            if key in raw and not isinstance(raw[key], str):  # YAML reads NO as false, ON as true
                self.at(raw.line_of(key), f"{where}.{key}", 'must be quoted text ("NO", "ON")')
                return "", ""
        country, subdivision = raw.get("country") or "", raw.get("subdivision") or ""
        supported = holidays.list_supported_countries()
        if country and country not in supported:
            self.at(
                raw.line_of("country"),
                f"{where}.country",
                f"{country!r} is not a country the holidays package knows: an ISO 3166 code "
                "such as VN, GB or US",
            )
        elif subdivision and not country:
            self.at(raw.line_of("subdivision"), f"{where}.subdivision", "needs a country")
        elif subdivision and subdivision not in supported[country]:
            known = supported[country]
            shown = ", ".join(known[:SHOWN_SUBDIVISIONS]) + (
                ", ..." if len(known) > SHOWN_SUBDIVISIONS else ""
            )
            self.at(
                raw.line_of("subdivision"),
                f"{where}.subdivision",
                f"{subdivision!r} is not a subdivision of {country}; known: {shown or 'none'}",
            )
        return country, subdivision

    def public_ones(
        self, raw: Lined, where: str, worked: frozenset[date], country: str, subdivision: str
    ) -> None:
        """Every worked holiday is a public holiday of the calendar's country."""
        field = f"{where}.worked_holidays"
        if worked and not country:
            self.at(raw.line_of("worked_holidays"), field, "needs a country")
        elif country and not any(p.field.startswith(f"{where}.") for p in self.problems):
            for day in sorted(worked):
                if day not in public_holidays(country, subdivision, day.year):
                    self.at(
                        raw.line_of("worked_holidays"),
                        field,
                        f"{day} is not a public holiday of {country}: nothing to work",
                    )

    def dates(self, raw: Lined, where: str, key: str) -> frozenset[date]:
        days, field = raw.get(key) or LinedList(), f"{where}.{key}"
        if not isinstance(days, LinedList):
            self.at(raw.line_of(key), field, "expected a list of dates (YYYY-MM-DD)")
            return frozenset()
        found = set()
        for n, day in enumerate(days):
            try:
                found.add(date.fromisoformat(str(day)))
            except ValueError:
                self.at(
                    days.line_of(n),
                    f"{field}[{n}]",
                    f"{day!r} is not a date that exists, written YYYY-MM-DD",
                )
        return frozenset(found)

    def sites(self, doc: Lined, known: set[str]) -> dict[str, str]:
        sites = doc.get("sites")
        if not isinstance(sites, Lined) or ANY_SITE not in sites:
            self.at(
                doc.line_of("sites"),
                "sites",
                'expected a mapping of site ids, and "*" for any other site, to calendar ids',
            )
            return {}
        for site, calendar_id in sites.items():
            if calendar_id not in known:
                self.at(
                    sites.line_of(site),
                    f"sites.{site}",
                    f"names unknown calendar {calendar_id!r}; known: {', '.join(sorted(known))}",
                )
        return {str(k): str(v) for k, v in sites.items()}


def _keys() -> str:
    return ", ".join(CALENDAR_KEYS)


def _is_zone(zone: Any) -> bool:
    if not isinstance(zone, str) or not zone:
        return False
    try:
        ZoneInfo(zone)
    except (ValueError, KeyError):  # malformed, or not in the tz database (a KeyError)
        return False
    return True


@cache
def _zones() -> list[str]:
    return sorted(available_timezones())
