"""A calendars file with mistakes: every one reported at once, each with the file, its line, the
field and what is allowed there; never a bare Python error."""

from __future__ import annotations

from datetime import date

import pytest

from touchstone.shared_kernel.calendar_file import (
    CalendarError,
    default_calendars_file,
    parse_calendars,
)

GOOD = """\
calendars:
  - id: office
    time_zone: Asia/Ho_Chi_Minh
    working_days: [mon, tue, wed, thu, fri]
    opens: "08:00"
    closes: "17:30"
    holidays:
      - 2026-01-01
      - 2026-09-02
sites:
  "*": office
"""


def problems(text: str) -> list[str]:
    with pytest.raises(CalendarError) as refused:
        parse_calendars(text, "cal.yaml")
    return [str(p) for p in refused.value.problems]


def test_a_good_file_reads_with_its_dates_as_dates() -> None:
    office = parse_calendars(GOOD, "cal.yaml").for_site("any")
    assert office.time_zone == "Asia/Ho_Chi_Minh"
    assert office.holidays == {date(2026, 1, 1), date(2026, 9, 2)}
    assert parse_calendars(default_calendars_file().read_text(), "default").by_id


def test_a_misspelt_time_zone_names_its_line_and_the_zones_it_may_have_meant() -> None:
    (problem,) = problems(GOOD.replace("Asia/Ho_Chi_Minh", "Asia/Saigonn"))
    assert problem.startswith("cal.yaml:3: calendars[0] (office).time_zone: 'Asia/Saigonn' is")
    assert "not a time zone of the tz database; did you mean Asia/Saigon" in problem


def test_a_weekday_not_in_the_list_says_which_are_allowed() -> None:
    (problem,) = problems(GOOD.replace("tue,", "tues,"))
    assert problem == (
        "cal.yaml:4: calendars[0] (office).working_days[1]: 'tues' is not a day; "
        "use mon, tue, wed, thu, fri, sat, sun"
    )


def test_a_date_that_does_not_exist_is_named_with_its_own_line() -> None:
    (problem,) = problems(GOOD.replace("2026-09-02", "2026-02-30"))
    assert problem == (
        "cal.yaml:9: calendars[0] (office).holidays[1]: '2026-02-30' is not a date that "
        "exists, written YYYY-MM-DD"
    )


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = (
        GOOD.replace("Asia/Ho_Chi_Minh", "Nowhere/Town")
        .replace('"08:00"', '"25:00"')
        .replace("2026-01-01", "soon")
        .replace('  "*": office', '  "*": office\n  s1: shop')
        .replace("    holidays:", "    colour: blue\n    holidays:")
    )
    found = problems(text)
    assert [p.split(":")[1] for p in found] == ["3", "5", "7", "9", "13"]
    assert "'Nowhere/Town' is not a time zone of the tz database" in found[0]
    assert found[1].endswith("""opens: '25:00' is not a local time of day "HH:MM\"""")
    assert "colour: unknown key; known: id, time_zone" in found[2]
    assert "holidays[0]: 'soon' is not a date" in found[3]
    assert found[4] == "cal.yaml:13: sites.s1: names unknown calendar 'shop'; known: office"


def test_missing_fields_and_a_file_that_is_not_yaml_are_problems_too() -> None:
    assert problems("calendars: [{id: c}]\nsites: {'*': c}\n") == [
        f"cal.yaml:1: calendars[0].{key}: is required"
        for key in ("time_zone", "working_days", "opens", "closes")
    ]
    (not_yaml,) = problems("calendars: [\n")
    assert not_yaml.startswith("cal.yaml:2: file: not YAML")
    assert problems("sites: {}\n") == [
        "cal.yaml:1: calendars: expected a list of calendars, each with id, time_zone, "
        "working_days, opens, closes, country, subdivision, holidays, worked_holidays"
    ]


def test_a_country_and_subdivision_the_holidays_package_does_not_know_say_what_it_does() -> None:
    country = GOOD.replace("    holidays:", "    country: VNN\n    holidays:")
    (problem,) = problems(country)
    assert problem == (
        "cal.yaml:7: calendars[0] (office).country: 'VNN' is not a country the holidays "
        "package knows: an ISO 3166 code such as VN, GB or US"
    )
    state = GOOD.replace("    holidays:", "    country: US\n    subdivision: XX\n    holidays:")
    (problem,) = problems(state)
    assert problem.startswith(
        "cal.yaml:8: calendars[0] (office).subdivision: 'XX' is not a subdivision of US; "
        "known: AK, AL,"
    )
    (problem,) = problems(GOOD.replace("    holidays:", "    subdivision: CA\n    holidays:"))
    assert problem == "cal.yaml:7: calendars[0] (office).subdivision: needs a country"


def test_a_country_with_its_subdivision_reads_and_its_holidays_follow_the_subdivision() -> None:
    text = GOOD.replace("Asia/Ho_Chi_Minh", "America/Los_Angeles").replace(
        "    holidays:", "    country: US\n    subdivision: CA\n    holidays:"
    )
    office = parse_calendars(text, "cal.yaml").for_site("any")
    assert office.holiday(date(2026, 3, 31)) == "Cesar Chavez Day"  # California's own
    assert not office.is_working_day(date(2027, 11, 25))  # Thanksgiving, a year not listed


def test_yaml_booleans_and_times_with_an_offset_are_refused_not_misread() -> None:
    norway = GOOD.replace("    holidays:", "    country: NO\n    holidays:")
    assert problems(norway) == [
        'cal.yaml:7: calendars[0] (office).country: must be quoted text ("NO", "ON")'
    ]
    (offset,) = problems(GOOD.replace('"08:00"', '"08:00+07:00"'))
    assert offset == (
        "cal.yaml:5: calendars[0] (office).opens: '08:00+07:00' is not a local time of day"
        ' "HH:MM"'
    )


def test_worked_holidays_are_public_holidays_the_site_works_read_from_the_file() -> None:
    worked = "    country: VN\n    worked_holidays: [2026-09-01]\n    holidays:"
    text = GOOD.replace("    holidays:", worked)
    office = parse_calendars(text, "cal.yaml").for_site("any")
    assert office.is_working_day(date(2026, 9, 1)) and not office.is_working_day(date(2026, 9, 2))
    (not_public,) = problems(text.replace("[2026-09-01]", "[2026-09-03]"))
    assert not_public == (
        "cal.yaml:8: calendars[0] (office).worked_holidays: 2026-09-03 is not a public holiday"
        " of VN: nothing to work"
    )
    without = GOOD.replace("    holidays:", "    worked_holidays: [2026-09-01]\n    holidays:")
    (no_country,) = problems(without)
    assert no_country == "cal.yaml:7: calendars[0] (office).worked_holidays: needs a country"
