"""A service given a configuration file with mistakes will not start, and says each one with
its file, line and field: no traceback for an operator to read through."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from touchstone.journey.service import SPEC
from touchstone.loyalty.service import SPEC as LOYALTY
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.runtime.worker import run_service

pytestmark = pytest.mark.integration

MISTAKES = """\
calendars:
  - id: c
    time_zone: Asia/Saigonn
    working_days: [mon, tues]
    opens: "08:00"
    closes: "17:00"
sites: {"*": c}
"""


def test_a_service_with_a_mistaken_calendars_file_says_every_mistake_and_stops(
    fresh_database: Settings, tmp_path: Path
) -> None:
    calendars = tmp_path / "calendars.yaml"
    calendars.write_text(MISTAKES)
    settings = replace(fresh_database, calendars_file=calendars)

    with pytest.raises(SystemExit) as stopped:
        run_service(SPEC, settings)

    told = str(stopped.value.code).splitlines()
    assert told[0] == "journey will not start:"
    assert told[1].startswith(f"{calendars}:3: calendars[0] (c).time_zone: 'Asia/Saigonn'")
    assert told[2] == (
        f"{calendars}:4: calendars[0] (c).working_days[1]: 'tues' is not a day; "
        "use mon, tue, wed, thu, fri, sat, sun"
    )


def test_loyalty_with_a_mistaken_tiers_file_stops_saying_where(
    fresh_database: Settings, tmp_path: Path
) -> None:
    tiers = tmp_path / "tiers.yaml"
    tiers.write_text("tiers:\n  - {name: gold, share: 0.2}\n  - {name: rest}\n")

    with pytest.raises(SystemExit) as stopped:
        run_service(LOYALTY, replace(fresh_database, tiers_file=tiers))

    assert str(stopped.value.code).splitlines() == [
        "loyalty will not start:",
        f"{tiers}:3: tiers[1]: needs a name and a share (0 to 1)",
    ]
