"""Business calendars as data (calendars/default.yaml, or TOUCHSTONE_CALENDARS_FILE)."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Any

import yaml

from touchstone.common.calendar import ANY_SITE, WEEKDAYS, BusinessCalendar, Calendars
from touchstone.common.config_files import shipped


class CalendarError(ValueError):
    """A calendars file that cannot be used; the message names the file and the problem."""


def default_calendars_file() -> Path:
    """The calendars that ship with Touchstone."""
    return shipped("touchstone.common", "calendars", "default.yaml")


def load_calendars(path: Path | None = None) -> Calendars:
    """The calendars in the file (the shipped ones if None)."""
    source = path or default_calendars_file()
    return parse_calendars(source.read_text(encoding="utf-8"), str(source))


def parse_calendars(text: str, origin: str) -> Calendars:
    """Calendars from YAML text; CalendarError naming the origin and what is wrong."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CalendarError(f"{origin}: not YAML: {error}") from error
    if not isinstance(doc, dict) or not isinstance(doc.get("calendars"), list):
        raise CalendarError(f"{origin}: expected calendars (a list) and sites (a mapping)")
    by_id = {}
    for n, raw in enumerate(doc["calendars"]):
        calendar = _calendar(raw, f"{origin}: calendars[{n}]")
        by_id[calendar.calendar_id] = calendar
    sites = doc.get("sites") or {}
    if not isinstance(sites, dict) or ANY_SITE not in sites:
        raise CalendarError(
            f'{origin}: sites must map site ids, and "*" for any other, to calendars'
        )
    for site, calendar_id in sites.items():
        if calendar_id not in by_id:
            raise CalendarError(f"{origin}: site {site!r} names unknown calendar {calendar_id!r}")
    return Calendars(by_id, {str(k): str(v) for k, v in sites.items()})


def _calendar(raw: Any, where: str) -> BusinessCalendar:
    if not isinstance(raw, dict):
        raise CalendarError(f"{where}: expected id, time_zone, working_days, opens, closes")
    try:
        return BusinessCalendar(
            calendar_id=str(raw["id"]),
            time_zone=str(raw["time_zone"]),
            working_days=frozenset(WEEKDAYS.index(d) for d in raw["working_days"]),
            opens=_clock_time(raw["opens"], "opens"),
            closes=_clock_time(raw["closes"], "closes"),
            holidays=frozenset(_day(d) for d in raw.get("holidays") or ()),
        )
    except KeyError as error:
        raise CalendarError(f"{where}: {error.args[0]} is required") from error
    except (ValueError, TypeError) as error:  # unknown zone or weekday, bad time or date
        raise CalendarError(f"{where}: {error}") from error


def _clock_time(value: Any, name: str) -> time:
    # YAML reads an unquoted 17:30 as the number 1050 (base 60): refuse it rather than misread it
    if not isinstance(value, str):
        raise ValueError(f'{name} must be a quoted "HH:MM", not {value!r}')
    return time.fromisoformat(value)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
