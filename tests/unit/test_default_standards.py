"""Every default standard (docs/domain.md §4), one contact that wins it and one that loses it.

Given a contact at the standard's stage → then its verdict, and the standard's own judgement.
A default standard added without a case here fails test_every_default_standard_has_cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import yaml

from touchstone.journey.domain import Moment, Verdict, score
from touchstone.journey.standards import default_standards, default_standards_file
from touchstone.shared_kernel.journey_maps import load_maps


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
        Case({"response_seconds": 30}, frozenset({"helped"})),  # the other ask_staff one too
        Case({"response_seconds": 150}, frozenset({"helped"})),
    ),
    "supermarket.ask_staff.question_answered": (
        Case({"response_seconds": 30}, frozenset({"helped"})),
        Case({"response_seconds": 30}, frozenset({"could_not_help"})),
    ),
    "supermarket.drive_in.gate_opens_within_10s": (
        Case({"gate_wait_seconds": 4}),
        Case({"gate_wait_seconds": 25}),
    ),
    "supermarket.find_parking.space_within_3min": (
        Case({"search_seconds": 90}),
        Case({"search_seconds": 400}),
    ),
    "supermarket.store_bag.stored_within_60s": (
        Case({"store_seconds": 30}),
        Case({"store_seconds": 200}),
    ),
    "supermarket.take_basket.basket_at_hand": (seen("basket_available"), seen("no_basket")),
    "supermarket.check_directory.location_found": (
        seen("location_found"),
        seen("location_not_found"),
    ),
    "supermarket.browse.shelves_stocked": (seen(), seen("empty_shelf_seen")),
    "supermarket.select_goods.goods_on_shelf": (Case({"items": 4}), seen("item_unavailable")),
    "supermarket.prepare_checkout.tills_open_for_the_queue": (
        Case({"open_tills": 5}),
        seen("queue_at_closed_till"),
    ),
    "supermarket.wait_in_queue.served_before_leaving": (
        Case({"wait_seconds": 60}),
        Case({"wait_seconds": 60}, frozenset({"left_unserved"})),
    ),
    "supermarket.pay.paid_within_3min": (
        Case({"checkout_seconds": 90}, frozenset({"thanked"})),
        Case({"checkout_seconds": 400}, frozenset({"thanked"})),
    ),
    "supermarket.pay.thanked": (
        Case({"checkout_seconds": 90}, frozenset({"thanked"})),
        Case({"checkout_seconds": 90}),
    ),
    "supermarket.collect_bag.returned_within_60s": (
        Case({"collect_seconds": 20}),
        Case({"collect_seconds": 180}),
    ),
    "supermarket.drive_away.exit_within_30s": (
        Case({"exit_wait_seconds": 5}),
        Case({"exit_wait_seconds": 90}),
    ),
    "restaurant.seated.within_5min": (Case({"wait_seconds": 60}), Case({"wait_seconds": 600})),
    "restaurant.order.taken_within_5min": (
        Case({"wait_seconds": 120}),
        Case({"wait_seconds": 700}),
    ),
    "restaurant.served.within_20min": (
        Case({"wait_seconds": 900}),
        Case({"wait_seconds": 2000}),
    ),
    "restaurant.served.the_dish_ordered": (
        Case({"wait_seconds": 900}),
        Case({"wait_seconds": 900}, frozenset({"wrong_dish"})),
    ),
    "restaurant.pay.bill_within_3min": (
        Case({"bill_wait_seconds": 60}),
        Case({"bill_wait_seconds": 500}),
    ),
    "restaurant.leave.said_goodbye": (seen("said_goodbye"), seen()),
    "phone.identify_need.need_confirmed": (seen("need_confirmed"), seen()),
    "phone.message_taking.name_number_and_time": (
        seen("took_name", "took_number", "agreed_callback_time"),
        seen("took_name"),
    ),
    "phone.resolution.resolved_or_promised": (seen("resolved"), seen("unresolved")),
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
        seen("at_agreed_time"),
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


def test_a_customer_never_greeted_at_the_entrance_loses_because_it_did_not_happen() -> None:
    scored = score(Moment("supermarket", "enter_store", {}, frozenset()), default_standards())
    (judgement,) = scored.judgements
    assert scored.verdict is Verdict.LOSE
    assert (judgement.met, judgement.absent) == (False, True)
    assert scored.reason == "greeted within 30 s: did not happen"


def test_every_shipped_standard_names_its_source_in_the_domain_or_its_assumption() -> None:
    entries = yaml.safe_load(default_standards_file().read_text(encoding="utf-8"))["standards"]
    unsourced = [e["id"] for e in entries if not (e.get("source") or e.get("assumption"))]
    assert unsourced == []
    sources = [e["source"] for e in entries if e.get("source")]
    assert all(s.startswith("docs/domain.md §") for s in sources)


def test_every_stage_of_every_shipped_map_has_a_standard() -> None:
    covered = {(s.journey_map, s.stage) for s in default_standards()}
    stages = {(m.id, stage.id) for m in load_maps().values() for stage in m.stages}
    assert stages - covered == set()


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
