"""Only the cases news could move are decided again: given a case's kept outcome and new wins of
its customer, then may_move says whether deciding it again could give anything else, and never
misses a case whose outcome would change."""

from __future__ import annotations

import random
from datetime import timedelta

from tests.builders import T0
from touchstone.notify.domain import Win
from touchstone.notify.outcome_rows import outcome_columns
from touchstone.notify.outcome_settlement import outcome_key
from touchstone.notify.recovery import (
    CaseFacts,
    KeptOutcome,
    decide_outcome,
    kept_as,
    may_move,
    moves_until,
)


def case(apologised_hours: float | None = None, lost_hours: float | None = None) -> CaseFacts:
    """Lost at T0; apologised some hours later; closed as lost with that deadline."""
    apologised = T0 + timedelta(hours=apologised_hours) if apologised_hours is not None else None
    lost_at = T0 + timedelta(hours=lost_hours) if lost_hours is not None else None
    was = "lost" if lost_at else "open"
    return CaseFacts("case-1", "c1", "s1", "visit-1", was, ("m1",), T0, lost_at, apologised)


def win(n: int, hours: float, how: str = "win", site: str = "s1", visit: str = "") -> Win:
    at = T0 + timedelta(hours=hours)
    return Win(f"w{n}", "c1", at, how, site, visit or f"visit-w{n}")


def kept(facts: CaseFacts, *known: Win) -> KeptOutcome:
    """The outcome as the store keeps it after deciding the case with these."""
    return kept_as(facts, decide_outcome(facts, known))


def test_a_win_before_the_last_lost_moment_or_in_the_same_visit_moves_nothing() -> None:
    assert not may_move(kept(case()), [win(1, -1)])
    assert not may_move(kept(case()), [win(2, 3, visit="visit-1")])


def test_the_first_later_win_from_another_visit_moves_it_and_a_later_one_does_not() -> None:
    assert may_move(kept(case()), [win(1, 5)])
    returned = kept(case(), win(1, 5))
    assert not may_move(returned, [win(2, 6)])
    assert may_move(returned, [win(3, 4)])  # heard late, but earlier: the return is this one


def test_a_sign_after_the_apology_moves_it_until_an_earlier_sign_recovered_it() -> None:
    apologised = case(apologised_hours=1)
    returned = kept(apologised, win(1, 2), win(9, 1.5, how="visit", site="elsewhere"))
    assert returned.recovered_by is None
    recovered = kept(apologised, win(1, 2), win(2, 3, how="feedback"))
    assert recovered.recovered_by is not None
    assert not may_move(recovered, [win(3, 4, how="visit")])
    assert may_move(recovered, [win(4, 2.5, how="visit")])


def test_a_case_apologised_and_not_recovered_is_decided_again_on_any_news() -> None:
    assert may_move(kept(case(apologised_hours=1), win(1, 2)), [])
    assert not may_move(kept(case(), win(1, 2)), [])


def random_win(rng: random.Random, n: int) -> Win:
    return win(
        n,
        rng.uniform(-3, 10),
        how=rng.choice(["win", "feedback", "visit"]),
        site=rng.choice(["s1", "s2"]),
        visit=rng.choice(["visit-1", f"visit-w{n}"]),
    )


def test_a_case_may_move_never_passes_over_keeps_the_outcome_deciding_it_again_gives() -> None:
    """Random cases and wins, kept as decided from some, then more heard in random order: when
    may_move says no, deciding again with every win gives the outcome kept."""
    passed_over = 0
    for seed in range(400):
        rng = random.Random(seed)
        facts = case(apologised_hours=rng.choice([None, rng.uniform(-2, 6)]))

        known = [random_win(rng, n) for n in range(rng.randint(0, 5))]
        news = [random_win(rng, n) for n in range(10, 10 + rng.randint(0, 3))]
        before = decide_outcome(facts, known)
        after = decide_outcome(facts, known + news)
        if not may_move(kept(facts, *known), news):
            passed_over += 1
            assert outcome_key(after) == outcome_key(before), seed
            assert after.returned_by == before.returned_by, seed
    assert passed_over > 100  # the rule spares many cases: the property was exercised


def test_the_store_keeps_the_outcome_as_kept_as_says_and_until_when_it_may_move() -> None:
    facts = case(apologised_hours=1)
    outcome = decide_outcome(facts, [win(1, 2), win(2, 3, how="feedback")])
    row = {k: v for k, (v,) in outcome_columns([(outcome, kept_as(facts, outcome))]).items()}
    assert (row["returned_by"], row["returned_at"]) == ("w1", T0 + timedelta(hours=2))
    assert (row["recovered_by"], row["recovered_at"]) == ("w2", T0 + timedelta(hours=3))
    assert row["moves_until"] == T0 + timedelta(hours=3)
    assert row["status"] == "recovered"


def test_a_case_may_move_at_any_time_until_it_returned_or_while_apologised_and_not_recovered():
    assert moves_until(kept(case())) is None  # waits for its first return
    assert moves_until(kept(case(), win(1, 2))) == T0 + timedelta(hours=2)  # only earlier ones
    assert moves_until(kept(case(apologised_hours=1), win(1, 2))) is None  # waits for a sign
    closed = case(apologised_hours=1, lost_hours=5)
    assert moves_until(kept(closed, win(1, 2))) == T0 + timedelta(hours=5)  # until its deadline


def test_a_win_after_moves_until_never_changes_the_outcome_kept() -> None:
    """Random cases (open or closed as lost, apologised or not) and wins, kept as decided from
    some; more heard, all later than moves_until: deciding again keeps the outcome as it was."""
    reached = spared = 0
    for seed in range(600):
        rng = random.Random(seed)
        facts = case(
            apologised_hours=rng.choice([None, rng.uniform(-2, 6)]),
            lost_hours=rng.choice([None, rng.uniform(1, 8)]),
        )
        known = [random_win(rng, n) for n in range(rng.randint(0, 5))]
        before = kept(facts, *known)
        until = moves_until(before)
        news = [random_win(rng, n) for n in range(10, 10 + rng.randint(1, 3))]
        if until is None or any(w.occurred_at <= until for w in news):
            reached += 1
            continue
        spared += 1
        assert kept(facts, *known, *news) == before, seed
    assert spared > 50 and reached > 100  # both sides of the bound were exercised
