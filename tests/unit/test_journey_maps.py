"""Journey maps as data: the shipped maps load, and a broken file says what is wrong and where."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from tests.builders import T0, touchpoint
from touchstone.contacts.codec import facts_of
from touchstone.contacts.domain import IngestPolicy, validate
from touchstone.contacts.service import ingest_policy
from touchstone.platform.runtime.settings import Settings
from touchstone.shared_kernel.journey_maps import MapError, load_maps, parse_map


def test_the_shipped_maps_are_the_supermarket_and_phone_journeys_in_order() -> None:
    maps = load_maps()
    assert [s.id for s in maps["supermarket"].stages][:4] == [
        "drive_in",
        "find_parking",
        "store_bag",
        "enter_store",
    ]
    route = [s.id for s in maps["supermarket"].stages if s.on_route]
    assert route[-1] == "drive_away" and maps["supermarket"].stage("complaint") is not None
    assert [s.id for s in maps["phone"].stages][:2] == ["ring", "greeting"]
    assert maps["phone"].stage("ring").measurements == {"rings": "count"}  # type: ignore[union-attr]
    assert maps["phone"].visit_gap == timedelta(days=2)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("id: [unclosed", "not YAML"),
        ("just text", "expected a mapping"),
        ("id: Bad Id\nstages: [{id: a, side: personal}]", "id must be snake_case"),
        ("id: m\nstages: []", "non-empty list of stages"),
        (
            "id: m\nstages: [{id: a, side: both}]",
            "stage 1 (a): side must be procedural or personal",
        ),
        ("id: m\nstages: [{id: a, side: personal}, {id: a, side: personal}]", "repeats a stage"),
        (
            "id: m\nstages: [{id: a, side: personal, measurements: {x: parsecs}}]",
            "measurement x: unit must be one of",
        ),
        (
            "id: m\nstages: [{id: a, side: personal,"
            " measurements: {x: {unit: count, range: [5, 1]}}}]",
            "measurement x: range must be [low, high]",
        ),
        ("id: m\nstages: [{id: a, side: personal, observations: [Bad]}]", "observation must be"),
        ("id: m\nvisit_gap_minutes: -1\nstages: [{id: a, side: personal}]", "visit_gap_minutes"),
    ],
)
def test_a_broken_map_says_what_and_where(text: str, says: str) -> None:
    with pytest.raises(MapError, match=r"web\.yaml") as raised:
        parse_map(text, "web.yaml")
    assert says in str(raised.value)


def test_a_broken_map_names_the_line_of_what_is_wrong() -> None:
    text = "id: m\nname: M\nstages:\n  - {id: a, side: personal}\n  - {id: b, side: both}\n"
    with pytest.raises(MapError) as raised:
        parse_map(text, "web.yaml")
    assert str(raised.value).startswith("web.yaml:5: map m, stage 2 (b): side must be")
    with pytest.raises(MapError, match=r"^web\.yaml:3: visit_gap_minutes must be a positive"):
        parse_map("id: m\nstages: [{id: a, side: personal}]\nvisit_gap_minutes: 0\n", "web.yaml")
    with pytest.raises(MapError, match=r"^web\.yaml:3: file: not YAML"):  # at the end
        parse_map("id: m\nstages: [\n", "web.yaml")


def test_a_stage_declares_its_vocabulary_with_units_ranges_and_observations() -> None:
    stage = load_maps()["supermarket"].stage("wait_in_queue")
    assert stage is not None
    assert stage.measurements == {"wait_seconds": "seconds", "queue_length": "count"}
    assert stage.ranges["wait_seconds"] == (0.0, 7200.0)
    assert stage.knows("observation", "left_unserved")
    assert not stage.knows("observation", "wait_seconds")
    assert stage.knows("measurement", "queue_length")


def test_a_deployment_adds_its_own_map_from_a_folder(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text("id: web\nstages: [{id: search, side: procedural}]\n")
    policy = ingest_policy(Settings(maps_dir=tmp_path))
    assert policy.stages == {"web": {"search": {}}}


def test_an_empty_maps_folder_is_an_error_not_a_silent_accept_all(tmp_path: Path) -> None:
    with pytest.raises(MapError, match="no journey maps"):
        load_maps(tmp_path)


POLICY = ingest_policy(Settings())


def fields_violated(**fields: object) -> list[str]:
    facts = replace(facts_of(touchpoint()), **fields)
    return [v.field for v in validate(facts, T0, POLICY)]


def test_touchpoints_must_name_a_known_map_and_one_of_its_stages() -> None:
    assert fields_violated() == []
    assert fields_violated(journey_map="bank") == ["journey_map"]
    assert fields_violated(stage="checkin") == ["stage"]
    assert fields_violated(journey_map="phone", stage="ring") == []


def test_counted_measurements_are_whole_and_names_are_snake_case() -> None:
    assert fields_violated(journey_map="phone", stage="ring", measurements={"rings": 2.5}) == [
        "measurements[rings]"
    ]
    assert fields_violated(measurements={"Greeting Seconds": 3}) == [
        "measurements[Greeting Seconds]"
    ]


def test_without_maps_any_map_and_stage_pass() -> None:
    facts = replace(facts_of(touchpoint()), journey_map="anything", stage="at-all")
    assert validate(facts, T0, IngestPolicy()) == []
