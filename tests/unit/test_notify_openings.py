"""Which lost moment opens a case: the earliest of its visit's, heard in any order, until people
act on the case (notify/openings.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tests.builders import T0
from touchstone.notify.domain import LostMoment, opening_for
from touchstone.notify.openings import (
    HeldCase,
    earliest_openings,
    lay_out_openings,
    moves_opening,
    replanned,
)
from touchstone.notify.playbooks import PlannedStep


def lost(n: int, minutes: int) -> LostMoment:
    at = T0 + timedelta(minutes=minutes)
    return LostMoment(f"m{n}", "c1", "v1", "s1", "enter_store", f"reason {n}", at)


def test_the_earliest_moment_of_each_case_opens_it_whatever_the_order_heard() -> None:
    heard = [opening_for(lost(3, 30)), opening_for(lost(1, 10)), opening_for(lost(2, 10))]
    (first,) = earliest_openings(heard)
    assert first.opening_moment_id == "m1"  # same time: the smaller id
    assert earliest_openings(reversed(heard)) == [first]


APOLOGY = PlannedStep(1, "apologise", "staff", "in_person", T0 + timedelta(minutes=35))
HELD = HeldCase("case", T0 + timedelta(minutes=30), "m3", resolved=False, steps=(APOLOGY,))


def test_an_earlier_moment_moves_the_opening_only_while_nobody_acted_on_the_case() -> None:
    earlier = opening_for(lost(1, 10))
    assert moves_opening(HELD, earlier)
    assert not moves_opening(HELD, opening_for(lost(4, 40)))
    assert not moves_opening(replace(HELD, resolved=True), earlier)  # staff confirmed it
    taken = replace(APOLOGY, status="acknowledged")
    assert not moves_opening(replace(HELD, steps=(taken,)), earlier)  # staff took a step
    assert not moves_opening(replace(HELD, delivery_statuses=("sending",)), earlier)
    assert not moves_opening(replace(HELD, delivery_statuses=("sent",)), earlier)
    assert moves_opening(replace(HELD, delivery_statuses=("pending", "failed")), earlier)


def test_a_plan_opens_new_cases_moves_unacted_ones_and_sends_their_messages() -> None:
    email = PlannedStep(1, "apologise", "system", "email", T0 + timedelta(minutes=11))
    new = opening_for(replace(lost(5, 50), visit_id="v2"), steps=(email,))
    earlier = opening_for(lost(1, 10), steps=(email,))
    plan = lay_out_openings([new, earlier, opening_for(lost(2, 20))], {earlier.case_id: HELD})

    assert [o.case_id for o in plan.opened] == [new.case_id]
    assert [o.opening_moment_id for o in plan.moved] == ["m1"]  # the earliest of the visit's
    assert plan.plans[earlier.case_id] == (email,)
    assert plan.taken_off[earlier.case_id] == ()  # its step 1 is the new plan's step 1
    assert sorted(d.case_id for d in plan.deliveries) == sorted([new.case_id, earlier.case_id])
    acted = replace(HELD, resolved=True)
    assert lay_out_openings([earlier], {earlier.case_id: acted}).moved == ()


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


def test_a_move_takes_off_an_escalated_step_as_escalated_and_lays_its_value_step_anew() -> None:
    late = PlannedStep(2, "fix", "staff", "in_person", T0, escalated=True)  # overdue: escalated
    value = PlannedStep(3, "step_in", "duty_manager", "in_person", T0, escalated=True)
    held = replace(HELD, steps=(APOLOGY, late, value))
    earlier = opening_for(lost(1, 10), steps=(APOLOGY,))

    plan = lay_out_openings([earlier], {earlier.case_id: held})

    # step 2 is told as the new plan's step 2; step 3, gone, is told cancelled, as escalated
    assert [(s.n, s.escalated) for s in plan.taken_off[earlier.case_id]] == [(3, True)]
    assert [(s.n, s.action, s.escalated) for s in plan.plans[earlier.case_id]] == [
        (1, "apologise", False),
        (2, "step_in", False),  # due when the moved case is: not late yet
    ]
