"""Which lost moment opens a case: the earliest of its visit's (event time, then moment id),
whatever order notify hears them in.

Journey tells some lost moments as records come (a slow greeting) and others only when its
lane's clock passes them (a callback never made, a transfer nobody stayed on): how far the clock
had come when each was told decides their order, so the first moment heard is a matter of timing.
A case opened by a later moment therefore moves to an earlier one heard after it, with the
playbook and steps that moment lays out, as long as nobody has acted on the case yet (staff
took no step and confirmed nothing, no message is sent or being sent). Once people have acted,
the case stays as they knew it. A duty manager's step for the case's value stays with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from touchstone.notify.deliveries import PlannedDelivery, planned_deliveries
from touchstone.notify.domain import CaseOpening
from touchstone.notify.playbooks import PlannedStep
from touchstone.notify.rows import CaseRow

VALUE_STEP = "step_in"  # the duty manager's step for a valuable case (not the playbook's)
MESSAGE_UNDER_WAY = ("sending", "sent")  # a delivery in one of these: a message went out


@dataclass(frozen=True)
class HeldCase:
    """A case an opening names, as a store holds it: what decides whether an earlier moment
    may open it instead."""

    case_id: str
    opened_at: datetime
    opening_moment_id: str
    resolved: bool  # staff confirmed it recovered
    steps: tuple[PlannedStep, ...] = ()  # as laid out, each with its status
    delivery_statuses: tuple[str, ...] = ()  # of its messages


@dataclass(frozen=True)
class OpeningPlan:
    """What a batch's openings do: the cases they open and those they move to an earlier moment,
    each one's steps as laid out now, the steps a move took off, and the messages to send."""

    opened: tuple[CaseOpening, ...]  # each new case by its earliest opening
    moved: tuple[CaseOpening, ...]  # cases an earlier moment, heard later, opens instead
    plans: Mapping[str, tuple[PlannedStep, ...]]  # case id -> its steps (opened or moved)
    taken_off: Mapping[str, tuple[PlannedStep, ...]]  # moved case id -> the steps it lost
    deliveries: tuple[PlannedDelivery, ...]


LayOut = Callable[[Sequence[CaseOpening], Mapping[str, HeldCase]], OpeningPlan]


def lay_out_openings(openings: Sequence[CaseOpening], held: Mapping[str, HeldCase]) -> OpeningPlan:
    """The plan for the openings, given the cases already held for their visits."""
    first = earliest_openings(openings)
    opened = tuple(o for o in first if o.case_id not in held)
    moved = tuple(o for o in first if o.case_id in held and moves_opening(held[o.case_id], o))
    plans = {o.case_id: o.steps for o in opened}
    plans |= {o.case_id: replanned(o, held[o.case_id].steps) for o in moved}
    taken_off = {o.case_id: withdrawn(held[o.case_id].steps, plans[o.case_id]) for o in moved}
    deliveries = tuple(
        d
        for o in (*opened, *moved)
        for d in planned_deliveries(o.case_id, o.customer_id, o.site_id, o.opened_at, o.steps)
    )
    return OpeningPlan(opened, moved, plans, taken_off, deliveries)


def acted_on(case: HeldCase) -> bool:
    """Whether people have acted on the case: staff took a step or confirmed it, or a message
    of it is sent or being sent."""
    return (
        case.resolved
        or any(step.status != "pending" for step in case.steps)
        or any(status in MESSAGE_UNDER_WAY for status in case.delivery_statuses)
    )


def earliest_openings(openings: Iterable[CaseOpening]) -> list[CaseOpening]:
    """Each case's opening by its earliest moment, in the order the cases first appear."""
    first: dict[str, CaseOpening] = {}
    for opening in openings:
        kept = first.get(opening.case_id)
        if kept is None or _order(opening) < _order(kept):
            first[opening.case_id] = opening
    return list(first.values())


def moves_opening(case: HeldCase, opening: CaseOpening) -> bool:
    """Whether the opening, from an earlier moment of the case's visit, opens it instead."""
    earlier = _order(opening) < (case.opened_at, case.opening_moment_id)
    return earlier and not acted_on(case)


def replanned(opening: CaseOpening, was: Sequence[PlannedStep]) -> tuple[PlannedStep, ...]:
    """The steps of a case moved to the opening: the opening's own, then the duty manager's
    step for its value (if it had one), after them and due when the case is."""
    last = max((step.n for step in opening.steps), default=0)
    kept = [step for step in was if step.action == VALUE_STEP]
    moved = [  # a new step of the moved case: due when it is, not escalated for being late
        replace(s, n=last + i, due_at=opening.due_at, escalated=False)
        for i, s in enumerate(kept, 1)
    ]
    return (*opening.steps, *moved)


def withdrawn(was: Sequence[PlannedStep], now: Sequence[PlannedStep]) -> tuple[PlannedStep, ...]:
    """The steps a move took off the case: numbers the new plan does not have (their tasks are
    told cancelled; a number it has again is told as its new step)."""
    kept = {step.n for step in now}
    return tuple(step for step in was if step.n not in kept)


def as_laid_out(
    case: CaseRow,
    plans: Mapping[str, tuple[PlannedStep, ...]],
    taken_off: Mapping[str, tuple[PlannedStep, ...]],
) -> CaseRow:
    """The case with the plan just laid out for it (opened or moved now), and the steps a move
    took off it; as it is, when it was neither."""
    if case.case_id not in plans:
        return case
    return replace(case, steps=plans[case.case_id], withdrawn=taken_off.get(case.case_id, ()))


def _order(opening: CaseOpening) -> tuple[datetime, str]:
    return opening.opened_at, opening.opening_moment_id
