"""Every default standard (DOMAIN.md §4), one contact that wins it and one that loses it.

Given a contact at the standard's stage → then its verdict, and the standard's own judgement.
A default standard added without a case here fails test_every_default_standard_has_cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from journey.domain import Moment, Verdict, score
from journey.standards import default_standards


@dataclass(frozen=True)
class Case:
    """A contact at one stage: what was measured and what was seen."""

    measured: dict[str, float] = field(default_factory=dict)
    seen: frozenset[str] = frozenset()


def seen(*observations: str) -> Case:
    return Case(seen=frozenset(observations))


GREETED = ("polite_greeting", "named_self", "named_company", "named_department")
HELD = ("asked_permission", "said_why", "waited_for_answer", "thanked")
ANNOUNCED = ("said_to_whom", "said_why", "stayed_until_answered")
CLOSED = ("repeated_agreed_actions", "asked_anything_else", "thanked", "caller_hung_up_first")

# standard id -> (a contact that meets it, a contact that breaks it)
CASES: dict[str, tuple[Case, Case]] = {
    "supermarket.enter_store.greeted_within_30s": (
        Case({"greeting_seconds": 12}),
        Case({"greeting_seconds": 45}),
    ),
    "supermarket.wait_in_queue.served_within_5min": (
        Case({"wait_seconds": 240}),
        Case({"wait_seconds": 420}),
    ),
    "supermarket.ask_staff.helped_within_60s": (
        Case({"response_seconds": 30}),
        Case({"response_seconds": 150}),
    ),
    "supermarket.complaint.duty_manager_handles": (
        seen("duty_manager_handled"),
        seen("cashier_handled"),
    ),
    "restaurant.arrive.greeted_within_30s": (
        Case({"greeting_seconds": 25}),
        Case({"greeting_seconds": 90}),
    ),
    "restaurant.table.water_refilled_unasked": (
        seen("water_refilled"),
        seen("water_refilled", "asked_for_water"),
    ),
    "phone.ring.answered_within_3_rings": (Case({"rings": 3}), Case({"rings": 5})),
    "phone.greeting.polite_and_named": (seen(*GREETED), seen(*GREETED[:3])),
    "phone.hold.asked_and_thanked": (seen(*HELD), seen("asked_permission", "thanked")),
    "phone.transfer.announced_and_stayed": (seen(*ANNOUNCED), seen("said_to_whom")),
    "phone.transfer.apologised_when_failed": (
        seen(*ANNOUNCED, "transfer_failed", "apologised"),
        seen(*ANNOUNCED, "transfer_failed"),
    ),
    "phone.transfer.within_60s": (
        Case({"transfer_seconds": 45}, frozenset(ANNOUNCED)),  # the other transfer standard too
        Case({"transfer_seconds": 75}, frozenset(ANNOUNCED)),
    ),
    "phone.callback.at_agreed_time": (
        seen("at_agreed_time", "need_met"),  # the other callback standard too
        seen("need_met"),
    ),
    "phone.callback.meets_the_need": (
        seen("need_met", "at_agreed_time"),
        seen("at_agreed_time", "promised_to_call_again"),
    ),
    "phone.close.agreed_and_thanked": (seen(*CLOSED), seen(*CLOSED[1:])),
}
# Deadline standards are judged when a later moment comes or their time passes: test_deadlines.
STANDARDS = {s.standard_id: s for s in default_standards() if not s.is_deadline}


def judged(standard_id: str, case: Case) -> tuple[bool, Verdict]:
    """Whether the standard was met, and the moment's verdict, for the contact."""
    standard = STANDARDS[standard_id]
    moment = Moment(standard.journey_map, standard.stage, case.measured, case.seen)
    scored = score(moment, default_standards())
    (judgement,) = [j for j in scored.judgements if j.standard.standard_id == standard_id]
    return judgement.met, scored.verdict


def test_every_default_standard_has_cases() -> None:
    assert sorted(CASES) == sorted(STANDARDS)


@pytest.mark.parametrize("standard_id", sorted(CASES))
def test_a_contact_that_meets_the_standard_wins(standard_id: str) -> None:
    assert judged(standard_id, CASES[standard_id][0]) == (True, Verdict.WIN)


@pytest.mark.parametrize("standard_id", sorted(CASES))
def test_a_contact_that_breaks_the_standard_loses(standard_id: str) -> None:
    assert judged(standard_id, CASES[standard_id][1]) == (False, Verdict.LOSE)


def test_a_failed_transfer_standard_does_not_apply_when_the_transfer_went_through() -> None:
    moment = Moment("phone", "transfer", {}, frozenset(ANNOUNCED))
    applied = [j.standard.standard_id for j in score(moment, default_standards()).judgements]
    assert "phone.transfer.apologised_when_failed" not in applied


def test_beating_a_threshold_by_its_margin_is_a_surprise_and_just_meeting_it_is_not() -> None:
    def surprised(seconds: float) -> bool:
        moment = Moment("supermarket", "enter_store", {"greeting_seconds": seconds})
        (judgement,) = score(moment, default_standards()).judgements
        return judgement.surprised

    assert (surprised(5), surprised(10), surprised(11), surprised(45)) == (
        True,
        True,
        False,
        False,
    )


def test_a_broken_observation_standard_says_what_was_missing_and_what_was_seen() -> None:
    moment = Moment("restaurant", "table", {}, frozenset({"asked_for_water"}))
    assert score(moment, default_standards()).reason == (
        "water refilled before the customer asks: missing water_refilled; seen asked_for_water"
    )
