"""Staff acting on a case, decided without a store: given a case, when staff take a step or
confirm it recovered, then what changes and what is told."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from tests.builders import T0
from touchstone.notify.domain import CaseClosed, UnknownStep
from touchstone.notify.playbooks import PlannedStep
from touchstone.notify.rows import CaseRow, StepCommand
from touchstone.notify.staff_commands import resolving, taking
from touchstone.notify.v1.events_pb2 import TaskEvent
from touchstone.platform.messaging.topics import NOTIFY_TASKS, Outgoing

AT = T0 + timedelta(minutes=7)
APOLOGY = PlannedStep(1, "apologise", "staff", "in_person", T0 + timedelta(minutes=5))
FIX = PlannedStep(2, "fix", "staff", "in_person", T0 + timedelta(hours=1))
CASE = CaseRow("k1", "c1", "v1", "s1", "open", "m1", T0, T0 + timedelta(hours=4), ("m1",))
OPEN = replace(CASE, steps=(APOLOGY, FIX))


def event(case: CaseRow, step: PlannedStep, command: StepCommand, at: datetime) -> Outgoing:
    return Outgoing("notify.cases.v1", case.case_id.encode(), f"{step.n}:{command.note}".encode())


def resolved_event(case: CaseRow, at: datetime) -> Outgoing:
    return Outgoing("notify.cases.v1", case.case_id.encode(), case.status.encode())


def command(n: int = 1, completed: bool = False, note: str = "sorry") -> StepCommand:
    return StepCommand("k1", n, "lan", note, completed)


def test_a_step_moves_forward_with_who_and_when_and_is_told_with_its_task() -> None:
    taken = taking(command(), AT, event)(OPEN, False)

    assert taken is not None
    assert (taken.step.n, taken.step.status, taken.step.taken_by) == (1, "acknowledged", "lan")
    assert taken.step.taken_at == AT and taken.note == "sorry"
    told, task = taken.records
    assert told.value == b"1:sorry"
    assert task.topic == NOTIFY_TASKS
    assert TaskEvent.FromString(task.value).task.n == 1


def test_a_step_never_moves_back_or_sideways() -> None:
    done = replace(OPEN, steps=(replace(APOLOGY, status="done"), FIX))
    acknowledged = replace(OPEN, steps=(replace(APOLOGY, status="acknowledged"), FIX))

    assert taking(command(), AT, event)(done, False) is None
    assert taking(command(), AT, event)(acknowledged, False) is None
    completed = taking(command(completed=True), AT, event)(acknowledged, False)
    assert completed is not None and completed.step.status == "done"


def test_a_lost_case_takes_no_step_and_a_missing_step_is_named() -> None:
    with pytest.raises(CaseClosed):
        taking(command(), AT, event)(replace(OPEN, status="lost"), False)
    with pytest.raises(UnknownStep):
        taking(command(n=3), AT, event)(OPEN, False)


def test_staff_notes_are_not_kept_on_an_erased_customers_case() -> None:
    taken = taking(command(note="called Hoa at home"), AT, event)(OPEN, True)
    assert taken is not None and taken.note == ""
    assert taken.records[0].value == b"1:"


def test_a_confirmation_recovers_the_case_once_keeping_when_a_win_recovered_it() -> None:
    resolution = resolving("duty", "happy again", AT, resolved_event)(OPEN, False)
    assert resolution is not None
    assert (resolution.case.status, resolution.case.resolved_by) == ("recovered", "duty")
    assert resolution.case.recovered_at == AT and resolution.resolved_at == AT
    assert resolution.records[0].value == b"recovered"

    won_at = T0 + timedelta(minutes=3)
    won = replace(OPEN, status="recovered", recovered_at=won_at, recovered_by="w1")
    confirmed = resolving("duty", "", AT, resolved_event)(won, False)
    assert confirmed is not None and confirmed.case.recovered_at == won_at

    assert (
        resolving("other", "", AT, resolved_event)(replace(OPEN, resolved_by="duty"), False) is None
    )
    erased = resolving("duty", "happy again", AT, resolved_event)(OPEN, True)
    assert erased is not None and erased.note == ""
