"""Escalation for value (docs/domain.md §9), decided without a store: given the cases a batch's
values reach, then which go to the duty manager, with what step and what is told."""

from __future__ import annotations

from datetime import timedelta

from tests.builders import T0
from touchstone.notify.playbooks import PlannedStep, RecoveryPolicy
from touchstone.notify.rows import CaseRow
from touchstone.notify.v1.events_pb2 import CaseEvent, TaskEvent
from touchstone.notify.value_escalation import WeighedCase, value_escalations
from touchstone.platform.messaging.topics import NOTIFY_CASES, NOTIFY_TASKS

POLICY = RecoveryPolicy(escalate_at_risk={"VND": 20_000_000})
APOLOGY = PlannedStep(1, "apologise", "staff", "in_person", T0 + timedelta(minutes=5))
TIPPED = T0 + timedelta(minutes=3)


def case(status: str = "open", *steps: PlannedStep) -> CaseRow:
    due = T0 + timedelta(hours=4)
    return CaseRow("k1", "c1", "v1", "s1", status, "m1", T0, due, ("m1",), steps=steps)


def weighed(totals: dict[str, int], status: str = "open", escalated: bool = False) -> WeighedCase:
    return WeighedCase(case(status, APOLOGY), totals, TIPPED, escalated)


decide = value_escalations(POLICY)


def test_a_case_worth_the_threshold_gets_the_duty_managers_step_after_its_plan() -> None:
    (escalation,) = decide([weighed({"VND": 20_000_000})])

    step = escalation.step
    assert (step.n, step.action, step.owner, step.channel) == (
        2,
        "step_in",
        "duty_manager",
        "in_person",
    )
    assert step.due_at == case().due_at  # due when the case is
    told, task = escalation.records
    assert told.topic == NOTIFY_CASES and task.topic == NOTIFY_TASKS
    event = CaseEvent.FromString(told.value).escalated
    assert (event.reason, event.n, event.currency, event.value_at_risk_minor) == (
        "value_at_risk",
        2,
        "VND",
        20_000_000,
    )
    assert event.at.ToDatetime().replace(tzinfo=T0.tzinfo) == TIPPED
    assert TaskEvent.FromString(task.value).task.owner == "duty_manager"


def test_a_case_under_the_threshold_or_valued_in_no_listed_currency_stays() -> None:
    assert decide([weighed({"VND": 19_999_999})]) == []
    assert decide([weighed({"USD": 99_000_000})]) == []
    assert decide([weighed({})]) == []


def test_the_largest_currency_speaks_for_the_case() -> None:
    assert decide([weighed({"VND": 25_000_000, "USD": 5})])
    assert decide([weighed({"VND": 5, "USD": 25_000_000})]) == []


def test_only_an_open_case_escalates_and_only_once() -> None:
    assert decide([weighed({"VND": 30_000_000}, status="recovered")]) == []
    assert decide([weighed({"VND": 30_000_000}, status="lost")]) == []
    assert decide([weighed({"VND": 30_000_000}, escalated=True)]) == []


def test_a_case_with_no_steps_gets_step_one() -> None:
    (escalation,) = decide([WeighedCase(case(), {"VND": 20_000_000}, TIPPED, False)])
    assert escalation.step.n == 1
