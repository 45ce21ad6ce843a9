"""Journey's rules: every moment judged against the standards for its map and stage."""

from __future__ import annotations

from dataclasses import replace

import pytest

from touchstone.journey.domain import Moment, Standard, Verdict, score, standards_version
from touchstone.journey.standards import default_standards

GREETING = frozenset({"polite_greeting", "named_self", "named_company", "named_department"})
GREETED_IN_30S = next(
    s for s in default_standards() if s.standard_id == "supermarket.enter_store.greeted_within_30s"
)


def verdict_of(stage: str, journey_map: str = "supermarket", **measured: float) -> Verdict:
    return score(Moment(journey_map, stage, measured), default_standards()).verdict


def test_a_greeting_after_45s_is_lost_with_the_standard_and_both_figures() -> None:
    scored = score(
        Moment("supermarket", "enter_store", {"greeting_seconds": 45}), default_standards()
    )
    assert scored.verdict is Verdict.LOSE
    assert scored.reason == "greeted within 30 s: 45 (<= 30)"
    (judgement,) = scored.judgements
    assert (judgement.met, judgement.measured, judgement.threshold) == (False, 45, 30)


@pytest.mark.parametrize(
    ("seconds", "verdict"), [(20, Verdict.WIN), (30, Verdict.WIN), (30.5, Verdict.LOSE)]
)
def test_greeted_within_30s_includes_30s_itself(seconds: float, verdict: Verdict) -> None:
    assert verdict_of("enter_store", greeting_seconds=seconds) is verdict


@pytest.mark.parametrize(
    ("rings", "verdict"), [(1, Verdict.WIN), (3, Verdict.WIN), (4, Verdict.LOSE)]
)
def test_the_phone_is_answered_within_three_rings(rings: int, verdict: Verdict) -> None:
    assert verdict_of("ring", "phone", rings=rings) is verdict


@pytest.mark.parametrize(("wait", "verdict"), [(300, Verdict.WIN), (301, Verdict.LOSE)])
def test_the_queue_is_served_within_five_minutes(wait: float, verdict: Verdict) -> None:
    assert verdict_of("wait_in_queue", wait_seconds=wait) is verdict


def test_a_phone_greeting_wins_only_with_all_four_courtesies() -> None:
    full = score(Moment("phone", "greeting", {}, GREETING), default_standards())
    short = score(
        Moment("phone", "greeting", {}, GREETING - {"named_department"}), default_standards()
    )
    assert full.verdict is Verdict.WIN
    assert short.verdict is Verdict.LOSE
    assert short.judgements[0].measured == 3 and short.judgements[0].threshold == 4


def test_a_stage_no_standard_covers_is_unscored_not_guessed() -> None:
    scored = score(Moment("supermarket", "browse", {"browse_seconds": 600}), [GREETED_IN_30S])
    assert scored == score(Moment("supermarket", "browse"), [GREETED_IN_30S])
    assert scored.verdict is Verdict.UNSCORED and scored.judgements == ()


def test_a_moment_without_the_measurement_a_standard_needs_is_unscored() -> None:
    queue = replace(GREETED_IN_30S, measurement="wait_seconds", absent_loses=False)
    assert score(Moment("supermarket", "enter_store", {"items": 3}), [queue]).judgements == ()


def test_a_moment_without_a_measurement_that_must_happen_loses_as_not_happened() -> None:
    scored = score(Moment("supermarket", "enter_store", {"items": 3}), [GREETED_IN_30S])
    assert scored.verdict is Verdict.LOSE
    assert scored.reason == "greeted within 30 s: did not happen"


def test_only_a_measured_standard_can_lose_by_absence() -> None:
    observed = replace(
        GREETED_IN_30S,
        measurement="",
        must_observe=("greeted",),
        surprise_margin=0,
        absent_loses=False,
    )
    with pytest.raises(ValueError, match="absence"):
        replace(observed, absent_loses=True)


def test_the_same_stage_name_in_another_map_is_not_judged_by_this_map() -> None:
    assert verdict_of("enter_store", "web", greeting_seconds=90) is Verdict.UNSCORED


def test_one_broken_standard_loses_the_moment_even_if_others_are_met() -> None:
    standards = (
        *default_standards(),
        replace(
            GREETED_IN_30S,
            standard_id="greeted-by-name",
            measurement="name_seconds",
            description="named within 60 s",
            threshold=60,
        ),
    )
    moment = Moment("supermarket", "enter_store", {"greeting_seconds": 10, "name_seconds": 90})
    scored = score(moment, standards)
    assert scored.verdict is Verdict.LOSE
    assert scored.reason == "named within 60 s: 90 (<= 60)"


def test_every_default_standard_is_about_a_distinct_thing() -> None:
    ids = [s.standard_id for s in default_standards()]
    assert len(ids) == len(set(ids)) >= 4


@pytest.mark.parametrize(
    "change",
    [
        {"comparator": "=="},
        {"must_observe": ("x",)},
        {"area": "speed"},
        {"dimension": "vibes"},
        {"side": "both"},
    ],
)
def test_a_malformed_standard_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=GREETED_IN_30S.standard_id):
        replace(GREETED_IN_30S, **change)


def test_the_standards_version_follows_their_content() -> None:
    same = standards_version(tuple(reversed(default_standards())))
    stricter = standards_version(
        (
            replace(GREETED_IN_30S, threshold=20),
            *(s for s in default_standards() if s != GREETED_IN_30S),
        )
    )
    assert standards_version(default_standards()) == same != stricter


def test_standard_accepts_every_comparator() -> None:
    for comparator, met in (("<", False), ("<=", True), (">", False), (">=", True)):
        s = replace(GREETED_IN_30S, comparator=comparator)
        assert score(
            Moment("supermarket", "enter_store", {"greeting_seconds": 30}), [s]
        ).verdict is (Verdict.WIN if met else Verdict.LOSE)


def test_standards_need_exactly_one_kind_of_measure() -> None:
    with pytest.raises(
        ValueError, match="exactly one of a measurement, observations or a deadline"
    ):
        Standard("s", "m", "st", "d", "timeliness", "responsiveness", "procedural")
