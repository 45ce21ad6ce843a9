"""Settling outcomes without a store: given the cases held and the customer's later wins, then
which outcomes move, what is told and which tasks change (outcome_settlement.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from tests.builders import T0
from touchstone.notify.domain import CaseOutcome, Win
from touchstone.notify.outcome_settlement import HeldOutcome, apologised_at, settling
from touchstone.notify.playbooks import PlannedStep
from touchstone.notify.rows import CaseRow
from touchstone.notify.v1.events_pb2 import TaskEvent
from touchstone.platform.messaging.topics import NOTIFY_TASKS, Outgoing

APOLOGY_DONE = PlannedStep(
    1, "apologise", "staff", "in_person", T0, status="done", taken_at=T0 + timedelta(minutes=5)
)
CASE = CaseRow(
    "k1",
    "c1",
    "v1",
    "s1",
    "open",
    "m1",
    T0,
    T0 + timedelta(hours=4),
    ("m1",),
    steps=(APOLOGY_DONE,),
)


def told(outcome: CaseOutcome) -> Outgoing:
    return Outgoing("notify.cases.v1", outcome.case_id.encode(), outcome.status.encode())


settle = settling(told)


def sign(minutes: int, how: str = "feedback", site: str = "s1", visit: str = "v2") -> Win:
    return Win(f"w{minutes}", "c1", T0 + timedelta(minutes=minutes), how, site, visit)


def held(case: CaseRow = CASE, *signs: Win) -> HeldOutcome:
    return HeldOutcome(case, T0, None, signs)


def test_feedback_after_the_apology_recovers_the_case_and_tells_it_with_its_tasks() -> None:
    settled = settle([held(CASE, sign(9))], [])

    ((outcome, kept),) = settled.decided
    assert outcome.status == "recovered" and kept.recovered_by == (sign(9).occurred_at, "w9")
    assert settled.moved == {"k1"}
    recovered, *tasks = settled.records
    assert recovered.value == b"recovered"
    assert tasks and all(r.topic == NOTIFY_TASKS for r in tasks)
    assert TaskEvent.FromString(tasks[0].value).task.case_id == "k1"


def test_nothing_moves_nothing_is_told() -> None:
    settled = settle([held(CASE, sign(9, how="win"))], [])  # a win elsewhere: a return only
    assert settled.moved == frozenset() and settled.records == ()
    ((outcome, kept),) = settled.decided
    assert outcome.status == "open" and kept.returned_by == (sign(9).occurred_at, "w9")


def test_a_recovered_case_a_lost_moment_just_joined_is_told_again() -> None:
    recovered = replace(CASE, status="recovered", recovered_by="w9", moment_ids=("m1", "m2"))
    settled = settle([held(recovered, sign(9))], ["m2"])
    assert settled.moved == frozenset()
    assert [r.value for r in settled.records] == [b"recovered"]


def test_a_case_staff_confirmed_is_final() -> None:
    assert settle([held(replace(CASE, resolved_by="duty"), sign(9))], []).decided == ()


def test_the_apology_is_the_first_apologise_step_done() -> None:
    later = replace(APOLOGY_DONE, n=2, taken_at=T0 + timedelta(minutes=50))
    pending = replace(APOLOGY_DONE, n=3, status="acknowledged", taken_at=T0)
    fix = replace(APOLOGY_DONE, n=4, action="fix", taken_at=T0)
    first: datetime | None = APOLOGY_DONE.taken_at
    assert apologised_at([later, APOLOGY_DONE, pending, fix]) == first
    assert apologised_at([pending, fix]) is None
