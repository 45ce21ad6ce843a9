"""Standards files: the defaults are sound, and every problem in a bad file names its line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from touchstone.journey.domain import standards_version
from touchstone.journey.service import standards_in_force
from touchstone.journey.standards import (
    StandardsError,
    default_standards,
    default_standards_file,
    load_standards,
    parse_standards,
)
from touchstone.platform.runtime.settings import Settings
from touchstone.shared_kernel.journey_maps import load_maps
from touchstone.tools.cli import main

BAD = """\
standards:
  - id: a
    map: supermarket
    stage: enter_store
    description: greeted
    area: speed
    dimension: responsiveness
    side: procedural
    measure: {measurement: greeting_secs, comparator: "==", threshold: "30"}
  - id: a
    map: shop
    stage: x
    area: timeliness
    dimension: courtesy
    side: personal
    observe: {must: [Greeted]}
    colour: blue
  - id: b
    map: phone
    stage: ring
    description: answered
    area: timeliness
    dimension: responsiveness
    side: procedural
    weight: 0
    measure: {measurement: rings, threshold: 3, surprise_margin: -1}
    observe: {must: [answered]}
"""


def problems_of(text: str) -> list[tuple[int, str]]:
    _, problems = parse_standards(text, "test.yaml", load_maps())
    return [(p.line, p.field) for p in problems]


def test_the_default_standards_are_sound_and_versioned_by_content() -> None:
    loaded = load_standards(default_standards_file(), load_maps())
    assert loaded.standards == default_standards()
    assert loaded.version == standards_version(default_standards())


def test_every_problem_in_a_file_is_reported_with_its_line_and_field() -> None:
    assert problems_of(BAD) == [
        (6, "standards[0] (a).area"),
        (9, "standards[0] (a).measure.measurement"),
        (9, "standards[0] (a).measure.comparator"),
        (9, "standards[0] (a).measure.threshold"),
        (10, "standards[1].id"),  # defined twice
        (10, "standards[1] (a).description"),
        (11, "standards[1] (a).map"),
        (16, "standards[1] (a).observe.must"),
        (16, "standards[1] (a).observe"),
        (17, "standards[1].colour"),
        (18, "standards[2] (b)"),  # measure and observe both given
        (25, "standards[2] (b).weight"),
    ]


def test_a_date_where_a_number_belongs_is_a_problem_with_its_line_even_an_impossible_one() -> None:
    for written in ("2026-02-28", "2026-02-30"):  # YAML would make the first a date, the
        # second a bare ValueError with no line: both are text here, reported as not a number
        text = BAD.replace('threshold: "30"', f"threshold: {written}")
        _, problems = parse_standards(text, "test.yaml", load_maps())
        (threshold,) = [p for p in problems if p.field == "standards[0] (a).measure.threshold"]
        assert (threshold.line, threshold.message) == (9, "must be a number")


def test_an_unknown_stage_and_a_measurement_the_map_does_not_declare_are_named() -> None:
    text = BAD.replace("map: shop", "map: phone")
    _, problems = parse_standards(text, "f.yaml", load_maps())
    messages = "\n".join(str(p) for p in problems)
    assert "f.yaml:12: standards[1] (a).stage: 'x' is not a stage of phone" in messages
    assert "'greeting_secs' is not measured at enter_store; the map declares: greeting_seconds" in (
        messages
    )


WORDS_NO_MAP_KNOWS = """\
standards:
  - id: close
    map: phone
    stage: close
    description: repeats the actions
    area: communication
    dimension: courtesy
    side: personal
    observe: {must: [repeated_actions, thanked], applies_when: [angry]}
  - id: greeting
    map: supermarket
    stage: enter_store
    description: greeted
    area: timeliness
    dimension: courtesy
    side: personal
    measure: {measurement: greeting_seconds, threshold: 30, when_absent: shrug}
"""


def test_a_standard_speaking_words_the_map_does_not_declare_is_refused() -> None:
    _, problems = parse_standards(WORDS_NO_MAP_KNOWS, "f.yaml", load_maps())
    messages = [str(p) for p in problems]
    assert messages[0] == (
        "f.yaml:9: standards[0] (close).observe.must: repeated_actions: not observed at close; "
        "known: asked_anything_else, caller_hung_up_first, repeated_agreed_actions, thanked"
    )
    assert messages[1].startswith("f.yaml:9: standards[0] (close).observe.applies_when: angry:")
    assert (
        messages[2]
        == "f.yaml:17: standards[1] (greeting).measure.when_absent: must be one of ignore, lose"
    )
    assert len(messages) == 3


def test_the_validate_command_refuses_an_unknown_word(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    words = tmp_path / "words.yaml"
    words.write_text(WORDS_NO_MAP_KNOWS)
    assert main(["standards", "validate", str(words)]) == 1
    assert "repeated_actions: not observed at close" in capsys.readouterr().out


def test_text_that_is_not_yaml_or_lists_no_standards_says_so() -> None:
    assert problems_of("standards: [\n  - id: a\n") == [(2, "file")]
    assert problems_of("standards: []\n") == [(1, "standards")]
    assert problems_of("- just a list\n") == [(1, "standards")]


def test_loading_a_bad_file_raises_with_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    with pytest.raises(StandardsError) as refused:
        load_standards(bad, load_maps())
    assert len(refused.value.problems) == len(problems_of(BAD)) >= 10
    assert str(refused.value).startswith(f"{bad}:6: standards[0] (a).area: must be one of")


def test_a_deployment_scores_by_its_own_standards_file(tmp_path: Path) -> None:
    tighter = default_standards_file().read_text().replace("threshold: 30,", "threshold: 20,")
    own = tmp_path / "standards.yaml"
    own.write_text(tighter)
    in_force = standards_in_force(replace(Settings(), standards_file=own))
    greeting = next(s for s in in_force.standards if s.stage == "enter_store")
    assert greeting.threshold == 20
    assert in_force.version != standards_version(default_standards())


def test_the_validate_command_prints_each_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    assert main(["standards", "validate", str(bad)]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"{bad}:6: standards[0] (a).area")
    assert (
        printed[-1] == f"{bad}: {len(problems_of(BAD))} problem(s); fix them before using this file"
    )
    assert main(["standards", "validate", str(default_standards_file())]) == 0
    assert "40 standards over 3 maps" in capsys.readouterr().out


def test_a_weight_has_at_most_three_decimals_so_its_sums_are_exact() -> None:
    text = BAD.replace("weight: 0\n", "weight: 0.1234\n")
    _, problems = parse_standards(text, "w.yaml", load_maps())
    (weight,) = [p for p in problems if p.field.endswith(".weight")]
    assert (weight.line, weight.message) == (25, "has at most 3 decimals")
    assert not [
        p
        for p in parse_standards(text.replace("0.1234", "0.125"), "w", load_maps())[1]
        if p.field.endswith(".weight")
    ]
