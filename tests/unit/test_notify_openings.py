"""Which lost moment opens a case: the earliest of its visit's, heard in any order, until people
act on the case (notify/openings.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tests.builders import T0
from touchstone.notify.domain import LostMoment, opening_for
from touchstone.notify.openings import OpenedCase, earliest_openings, moves_opening, replanned
from touchstone.notify.playbooks import PlannedStep


def lost(n: int, minutes: int) -> LostMoment:
    at = T0 + timedelta(minutes=minutes)
    return LostMoment(f"m{n}", "c1", "v1", "s1", "enter_store", f"reason {n}", at)


def test_the_earliest_moment_of_each_case_opens_it_whatever_the_order_heard() -> None:
    heard = [opening_for(lost(3, 30)), opening_for(lost(1, 10)), opening_for(lost(2, 10))]
    (first,) = earliest_openings(heard)
    assert first.opening_moment_id == "m1"  # same time: the smaller id
    assert earliest_openings(reversed(heard)) == [first]


def test_an_earlier_moment_moves_the_opening_only_while_nobody_acted_on_the_case() -> None:
    case = OpenedCase("case", T0 + timedelta(minutes=30), "m3", acted_on=False)
    assert moves_opening(case, opening_for(lost(1, 10)))
    assert not moves_opening(case, opening_for(lost(4, 40)))
    assert not moves_opening(replace(case, acted_on=True), opening_for(lost(1, 10)))


def test_a_moved_case_takes_the_new_steps_and_keeps_the_duty_managers_after_them() -> None:
    steps = tuple(
        PlannedStep(n, action, "staff", "in_person", T0 + timedelta(minutes=n))
        for n, action in ((1, "apologise"), (2, "fix"))
    )
    opening = opening_for(lost(1, 10), steps=steps)
    was = (
        PlannedStep(1, "fix", "staff", "in_person", T0),
        PlannedStep(2, "step_in", "duty_manager", "in_person", T0),
    )
    assert replanned(opening, was) == (
        *steps,
        PlannedStep(3, "step_in", "duty_manager", "in_person", opening.due_at),
    )
    assert replanned(opening, was[:1]) == steps
