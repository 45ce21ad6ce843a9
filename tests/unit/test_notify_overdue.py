"""Notify's clock rules: given a step or a case and the time → then whether it is late,
escalated, or lost; and how fast recovery must go is read from the playbooks file."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.builders import T0
from touchstone.notify.domain import CaseOutcome, CaseValue, Win, case_value, escalates_for_value
from touchstone.notify.overdue import StepOnClock, escalates, falls_due, lost_at
from touchstone.notify.playbooks import (
    DEFAULT_POLICY,
    PlaybookError,
    load_playbooks,
    parse_playbooks,
)

MINUTE = timedelta(minutes=1)
APOLOGY = StepOnClock("case-1", 1, "staff", T0 + 5 * MINUTE, "pending", False, False)


def test_a_step_falls_due_when_its_time_passes_undone_and_is_told_once() -> None:
    assert not falls_due(APOLOGY, T0 + 4 * MINUTE)
    assert falls_due(APOLOGY, T0 + 5 * MINUTE)
    assert falls_due(StepOnClock(**{**vars(APOLOGY), "status": "acknowledged"}), T0 + 6 * MINUTE)
    assert not falls_due(StepOnClock(**{**vars(APOLOGY), "status": "done"}), T0 + 6 * MINUTE)
    assert not falls_due(StepOnClock(**{**vars(APOLOGY), "due_told": True}), T0 + 6 * MINUTE)


def test_the_systems_own_steps_are_never_late_for_people() -> None:
    email = StepOnClock(**{**vars(APOLOGY), "owner": "system"})
    assert not falls_due(email, T0 + 60 * MINUTE)
    assert not escalates(email, T0 + 60 * MINUTE, DEFAULT_POLICY)


def test_a_staff_step_escalates_once_escalate_after_past_its_due_time() -> None:
    late = T0 + 5 * MINUTE + DEFAULT_POLICY.escalate_after
    assert not escalates(APOLOGY, late - timedelta(seconds=1), DEFAULT_POLICY)
    assert escalates(APOLOGY, late, DEFAULT_POLICY)
    assert escalates(StepOnClock(**{**vars(APOLOGY), "due_told": True}), late, DEFAULT_POLICY)
    assert not escalates(StepOnClock(**{**vars(APOLOGY), "escalated": True}), late, DEFAULT_POLICY)
    assert not escalates(StepOnClock(**{**vars(APOLOGY), "status": "done"}), late, DEFAULT_POLICY)


def test_a_duty_managers_own_late_step_is_told_but_has_nobody_to_go_up_to() -> None:
    theirs = StepOnClock(**{**vars(APOLOGY), "owner": "duty_manager"})
    assert falls_due(theirs, T0 + 60 * MINUTE)
    assert not escalates(theirs, T0 + 60 * MINUTE, DEFAULT_POLICY)


def test_a_case_is_lost_lost_after_past_its_last_lost_moment() -> None:
    assert lost_at(T0, DEFAULT_POLICY) == T0 + timedelta(days=30)


def outcome(was: str, win_days: float | None) -> CaseOutcome:
    win = None if win_days is None else Win("w-1", "cust-1", T0 + timedelta(days=win_days))
    return CaseOutcome("case-1", "cust-1", ("m-1",), was, win, T0 + timedelta(days=30))


def test_a_win_within_the_window_recovers_even_a_case_already_closed_as_lost() -> None:
    assert outcome("lost", 29).status == "recovered"
    assert outcome("lost", 31).status == "lost"
    assert outcome("lost", None).status == "lost"
    assert outcome("open", None).status == "open"


def test_how_fast_recovery_must_go_comes_from_the_playbooks_file() -> None:
    shipped = load_playbooks().policy
    assert (shipped.respond_within, shipped.escalate_after, shipped.lost_after) == (
        timedelta(minutes=15),
        timedelta(minutes=10),
        timedelta(days=30),
    )
    text = """
recovery: {escalate_after: {hours: 1}, lost_after: {days: 7}}
rules: [{playbook: quick}]
playbooks: {quick: [{action: fix, owner: staff, channel: in_person, due: {minutes: 5}}]}
"""
    policy = parse_playbooks(text, "mine.yaml").policy
    assert (policy.respond_within, policy.escalate_after, policy.lost_after) == (
        timedelta(minutes=15),
        timedelta(hours=1),
        timedelta(days=7),
    )


def test_a_broken_recovery_section_names_each_setting_at_fault() -> None:
    text = """
recovery: {escalate_after: {weeks: 1}, lost_after: {days: -2}, respond_within: 5}
rules: [{playbook: quick}]
playbooks: {quick: [{action: fix, owner: staff, channel: in_person, due: {minutes: 5}}]}
"""
    with pytest.raises(PlaybookError) as refused:
        parse_playbooks(text, "bad.yaml")
    problems = "\n".join(refused.value.problems)
    for name in ("escalate_after", "lost_after", "respond_within"):
        assert f"recovery.{name}: one of minutes, hours, days" in problems
    with pytest.raises(PlaybookError) as unknown:
        parse_playbooks(text.replace("respond_within: 5", "snooze: 5"), "bad.yaml")
    assert (
        "recovery: some of respond_within, first_contact_within, escalate_after, lost_after,"
        " escalate_at_risk" in unknown.value.problems
    )


def test_a_high_value_at_risk_goes_to_the_duty_manager_by_its_currencys_threshold() -> None:
    policy = load_playbooks().policy
    assert policy.escalate_at_risk == {"VND": 30_000_000, "USD": 120_000}
    assert escalates_for_value(CaseValue("VND", 30_000_000), policy)
    assert not escalates_for_value(CaseValue("VND", 29_999_999), policy)
    assert not escalates_for_value(CaseValue("EUR", 10**12), policy)  # no threshold named
    assert not escalates_for_value(None, policy)


def test_a_cases_value_is_its_largest_currency() -> None:
    assert case_value({}) is None
    assert case_value({"VND": 5, "USD": 7}) == CaseValue("USD", 7)
    assert case_value({"VND": 7, "USD": 7}) == CaseValue("USD", 7)  # a tie: the first by name


def test_value_thresholds_must_be_currencies_and_whole_amounts() -> None:
    text = """
recovery: {escalate_at_risk: {vnd: 5, USD: 1.5, EUR: 0, GBP: 100}}
rules: [{playbook: quick}]
playbooks: {quick: [{action: fix, owner: staff, channel: in_person, due: {minutes: 5}}]}
"""
    with pytest.raises(PlaybookError) as refused:
        parse_playbooks(text, "bad.yaml")
    problems = "\n".join(refused.value.problems)
    for code in ("vnd", "USD", "EUR"):
        assert f"recovery.escalate_at_risk.{code}: an ISO 4217 code" in problems
    assert "GBP" not in problems
