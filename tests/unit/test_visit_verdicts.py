"""A visit's verdict (docs/domain.md §2, §5, §6): given its moments' judgements → level,
satisfaction, quadrant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from touchstone.journey.visits import (
    AS_EXPECTED,
    BASIC,
    DESIRED,
    DISAPPOINTING,
    FIRST_EXPECTATION,
    SURPRISING,
    TALLY_FIELDS,
    UNFORGETTABLE,
    Result,
    Tally,
    VisitState,
    expectation_from,
    expectation_since,
    level_of,
    perception_of,
    quadrant_of,
    verdict_of_visit,
)

MET = Result(True, 1.0, "procedural")
KIND = Result(True, 1.0, "personal")
WOW = Result(True, 1.0, "procedural", surprised=True)
BROKEN = Result(False, 1.0, "procedural")
RUDE = Result(False, 1.0, "personal")
SEVERE = Result(False, 3.0, "personal")  # the duty manager did not handle the complaint


@pytest.mark.parametrize(
    ("results", "level"),
    [
        ((MET, BROKEN, BROKEN), DISAPPOINTING),  # more broken than met
        ((MET, MET, MET, SEVERE), DISAPPOINTING),  # one severe breach is enough
        ((MET, MET, BROKEN), BASIC),
        ((), AS_EXPECTED),
        ((MET, KIND), DESIRED),
        ((MET, MET, MET, WOW), SURPRISING),
        ((MET, WOW, WOW), UNFORGETTABLE),
        ((WOW, BROKEN, MET), BASIC),  # a surprise does not buy back a loss
    ],
)
def test_losses_pull_a_visit_down_and_surprises_push_it_past_4(results, level) -> None:
    assert level_of(results) == level


def test_perception_weighs_each_standard_and_rewards_a_surprise() -> None:
    assert perception_of([MET, KIND]) == 1.0
    assert perception_of([MET, BROKEN]) == 0.0
    assert perception_of([WOW]) == 1.5
    assert perception_of([MET, SEVERE]) == -0.5  # (1 - 3) / 4
    assert perception_of([]) == 0.0


def test_expectation_is_learnt_from_the_customers_latest_visits() -> None:
    assert expectation_from([]) == FIRST_EXPECTATION
    assert expectation_from([1.5, 1.5, 0.5]) == round(3.5 / 3, 4)
    assert expectation_from([1.0] * 5 + [-1.0] * 10) == 1.0  # only the latest five count


def test_a_regular_used_to_surprises_is_less_satisfied_by_a_plain_good_visit() -> None:
    newcomer = verdict_of_visit([MET, KIND], past_perceptions=[])
    regular = verdict_of_visit([MET, KIND], past_perceptions=[1.5, 1.5])
    assert (newcomer.satisfaction, regular.satisfaction) == (0.0, -0.5)


@pytest.mark.parametrize(
    ("procedural", "personal", "quadrant"),
    [(0.5, 0.5, "A"), (1.0, 0.5, "B"), (0.5, 1.0, "C"), (0.8, 0.9, "D"), (None, 1.0, "")],
)
def test_the_two_faces_of_service_place_a_visit_in_a_quadrant(
    procedural, personal, quadrant
) -> None:
    assert quadrant_of(procedural, personal) == quadrant


def test_a_visit_strong_on_procedure_and_weak_on_courtesy_is_a_production_line() -> None:
    verdict = verdict_of_visit([MET, WOW, KIND, RUDE], past_perceptions=[])
    assert (verdict.procedural, verdict.personal, verdict.quadrant) == (1.0, 0.5, "B")
    assert verdict.surprises == 1 and verdict.level == BASIC


def test_a_sum_of_tallies_sums_every_field() -> None:
    a = Tally(*range(1, len(TALLY_FIELDS) + 1))
    b = Tally(*(10 * n + 0.125 for n in range(1, len(TALLY_FIELDS) + 1)))
    assert (a + b).values() == tuple(x + y for x, y in zip(a.values(), b.values(), strict=True))


def test_weights_sum_to_the_same_float_in_any_order_and_grouping() -> None:
    tallies = [Tally.of_one(Result(True, w, "personal")) for w in (0.1, 0.2, 0.3, 0.7, 0.001)]
    left = ((tallies[0] + tallies[1]) + tallies[2]) + (tallies[3] + tallies[4])
    right = tallies[4] + (tallies[3] + (tallies[2] + (tallies[1] + tallies[0])))
    assert left == right and left.personal_met == 1.301


def test_a_customers_past_matters_from_the_earliest_visit_the_batch_may_complete() -> None:
    day = datetime(2026, 11, 20, 2, tzinfo=UTC)
    visits = [
        VisitState("v1", "lan", "hcm-01", "supermarket", day - timedelta(days=1), day),
        VisitState("v2", "mai", "hcm-01", "supermarket", day + timedelta(hours=2), day),
    ]
    earliest = {"lan": day, "mai": day, "tuan": day + timedelta(hours=5)}
    assert expectation_since(earliest, visits) == {
        "lan": day - timedelta(days=1),  # an open visit began before the batch's contact
        "mai": day,  # the batch's contact came before the visit it reads
        "tuan": day + timedelta(hours=5),
    }
    assert expectation_since({}, visits[:1]) == {"lan": day - timedelta(days=1)}
