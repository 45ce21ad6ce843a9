"""Playbooks: given a lost moment → then the playbook its rules pick, and its steps laid out in
time by the site's business calendar; given a broken file → then every problem by place."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.builders import T0, record
from tests.fakes.notify import MemoryNotifyStore
from tests.unit.test_notify_recovery import events, handle, lost
from touchstone.journey.v1.events_pb2 import MomentScored
from touchstone.loyalty.v1.events_pb2 import ValueUpdated
from touchstone.notify.domain import case_id_for
from touchstone.notify.handlers import OpenRecoveryCases
from touchstone.notify.playbooks import (
    LossFacts,
    PlaybookError,
    choose,
    default_playbooks_file,
    lay_out,
    load_playbooks,
    missing_recovery,
    parse_playbooks,
)
from touchstone.platform.messaging.topics import LOYALTY_VALUES, NOTIFY_DLQ
from touchstone.shared_kernel.calendar_file import load_calendars

PLAYBOOKS = load_playbooks()
OFFICE = load_calendars().for_site("hcm-01")  # Mon-Fri, closes 17:30 in Ho Chi Minh City


def loss(
    journey_map="supermarket",
    stage="enter_store",
    standards=("greet",),
    side="personal",
    weight="1",
    tier="",
) -> LossFacts:
    return LossFacts(journey_map, stage, tuple(standards), side, Decimal(weight), tier)


def test_the_rules_pick_the_first_playbook_that_fits() -> None:
    assert choose(PLAYBOOKS, loss()) == "on_site"
    assert choose(PLAYBOOKS, loss(journey_map="phone", stage="ring")) == "call_back"
    assert choose(PLAYBOOKS, loss(weight="3")) == "duty_manager"  # severe: docs/domain.md §9


def test_conditions_on_standard_and_side_are_matched() -> None:
    text = (
        default_playbooks_file()
        .read_text(encoding="utf-8")
        .replace(
            "rules:\n",
            "rules:\n  - when: {standard: till_open, side: procedural}\n"
            "    playbook: duty_manager\n",
            1,
        )
    )
    custom = parse_playbooks(text, "custom.yaml")
    assert choose(custom, loss(standards=("till_open",), side="procedural")) == "duty_manager"
    assert choose(custom, loss(standards=("till_open",), side="personal")) == "on_site"


def test_steps_fall_due_minutes_after_the_loss_or_at_the_end_of_the_next_working_day() -> None:
    # T0 is Friday 16:00 in Ho Chi Minh City: the next working day ends Monday 17:30 there
    steps = lay_out(PLAYBOOKS.playbooks["on_site"], T0, OFFICE)
    assert [(s.n, s.action, s.owner, s.channel) for s in steps] == [
        (1, "apologise", "staff", "in_person"),
        (2, "apologise", "system", "email"),
        (3, "fix", "staff", "in_person"),
        (4, "ask_opinion", "staff", "in_person"),
        (5, "correct_cause", "staff", "task"),
        (6, "follow_up", "system", "email"),
    ]
    assert [s.due_at - T0 for s in steps[:4]] == [timedelta(minutes=m) for m in (5, 2, 15, 30)]
    monday_evening = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
    assert steps[4].due_at == steps[5].due_at == monday_evening


def test_a_friday_afternoon_phone_loss_gets_its_apology_and_fix_within_24_hours() -> None:
    # T0 is Friday 16:00 in Ho Chi Minh City; the call centre's next working day ends Monday
    steps = {s.action: s for s in lay_out(PLAYBOOKS.playbooks["call_back"], T0, OFFICE)}
    assert steps["apologise"].due_at - T0 == timedelta(minutes=15)
    assert steps["fix"].due_at - T0 <= timedelta(hours=24)  # not Monday 17:30 (73.5 h)
    assert steps["ask_opinion"].due_at - T0 <= timedelta(hours=24)
    assert steps["correct_cause"].due_at == datetime(2026, 11, 23, 10, 30, tzinfo=UTC)


def test_every_shipped_playbook_recovers_as_the_domain_says() -> None:
    for name, steps in PLAYBOOKS.playbooks.items():
        assert missing_recovery(name, steps) == ""
        assert {"apologise", "fix", "ask_opinion", "correct_cause"} <= {s.action for s in steps}


def test_an_apology_or_fix_that_may_wait_past_24_hours_is_refused() -> None:
    text = """
rules: [{playbook: slow}]
playbooks:
  slow:
    - {action: apologise, owner: staff, channel: phone, due: {minutes: 15}}
    - {action: fix, owner: staff, channel: phone, due: {end_of_next_working_day: true}}
    - {action: ask_opinion, owner: staff, channel: phone, due: {hours: 30}}
    - {action: correct_cause, owner: staff, channel: task, due: {end_of_next_working_day: true}}
"""
    with pytest.raises(PlaybookError) as refused:
        parse_playbooks(text, "slow.yaml")
    assert refused.value.problems == [
        "playbooks.slow[1].due: a fix step is due within 24 h of the loss"
        " (recovery.first_contact_within), whatever the calendar"
    ]


def test_a_playbook_lacking_a_step_of_recovery_is_told() -> None:
    steps = PLAYBOOKS.playbooks["call_back"][:1]
    assert missing_recovery("short", steps) == (
        "playbooks.short: lacks fix, ask_opinion, correct_cause (docs/domain.md §9: apologise,"
        " fix it, ask the customer's opinion, correct the cause)"
    )


def test_a_broken_playbooks_file_names_every_problem() -> None:
    text = """
rules:
  - when: {colour: red}
    playbook: nowhere
  - when: {min_weight: high, stage: 7}
    playbook: quick
  - when: {map: phone}
    playbook: quick
playbooks:
  quick:
    - {action: shrug, owner: staff, channel: in_person, due: {minutes: 5}}
    - {action: fix, owner: robot, channel: pigeon, due: {}}
    - {action: follow_up, owner: system, channel: email, due: {minutes: .inf}}
"""
    with pytest.raises(PlaybookError) as refused:
        parse_playbooks(text, "bad.yaml")
    problems = "\n".join(refused.value.problems)
    told = str(refused.value).splitlines()  # each problem on its own line, with the file's
    assert "bad.yaml:12: playbooks.quick[1].owner: " in "\n".join(told)
    assert "bad.yaml:4: rules[0].playbook: 'nowhere'" in "\n".join(told)
    for expected in (
        "playbooks.quick[0].action",
        "playbooks.quick[1].owner",
        "playbooks.quick[1].channel",
        "playbooks.quick[1].due",
        "playbooks.quick[2].due",
        "rules[0].playbook: 'nowhere'",
        "rules[0].when: conditions are some of",
        "rules[1].when.min_weight: must be a number above 0",
        "rules[1].when.stage: must be a name",
        "the last rule must have no conditions",
    ):
        assert expected in problems


def test_a_lost_moment_opens_its_case_with_the_playbooks_steps() -> None:
    store = MemoryNotifyStore()
    (opened,) = events(handle(store, record(lost("m-1"))))
    assert opened.opened.playbook == "on_site"
    assert [s.action for s in opened.opened.steps] == [
        "apologise",
        "apologise",
        "fix",
        "ask_opinion",
        "correct_cause",
        "follow_up",
    ]
    case = asyncio.run(store.get_case(case_id_for("cust-1", "visit-1")))
    assert case.playbook == "on_site" and [s.n for s in case.steps] == [1, 2, 3, 4, 5, 6]
    (joined,) = events(handle(store, record(lost("m-2", 5), 1)))
    assert joined.WhichOneof("change") == "joined"  # a joining moment lays out nothing new


def test_a_lost_moment_with_an_impossible_weight_is_dead_lettered() -> None:
    scored = MomentScored.FromString(lost("m-1"))
    scored.results.add(standard_id="greet", met=False, weight=float("nan"))
    (dead,) = handle(MemoryNotifyStore(), record(scored.SerializeToString()))
    assert dead.topic == NOTIFY_DLQ and b"finite" in dict(dead.headers)["dlq_reason"]


TIERED = parse_playbooks(
    """
rules:
  - {when: {tier: top}, playbook: personal}
  - {playbook: usual}
playbooks:
  personal: [{action: apologise, owner: duty_manager, channel: in_person, due: {minutes: 5}}]
  usual: [{action: apologise, owner: staff, channel: in_person, due: {minutes: 5}}]
""",
    "tiered.yaml",
)


def test_a_rule_may_ask_the_customers_tier() -> None:
    assert choose(TIERED, loss(tier="top")) == "personal"
    assert choose(TIERED, loss(tier="middle")) == "usual"
    assert choose(TIERED, loss()) == "usual"  # not ranked yet


def test_loyaltys_tier_change_decides_the_playbook_of_the_next_case() -> None:
    store = MemoryNotifyStore()
    update = ValueUpdated(event_id="t-1")
    update.value.customer_id = "cust-1"
    update.tier_change.tier = "top"
    handler = OpenRecoveryCases(store, playbooks=TIERED)
    asyncio.run(handler.handle([record(update.SerializeToString(), 0, LOYALTY_VALUES)]))
    out = asyncio.run(handler.handle([record(lost("m-1"), 1)]))
    (opened,) = events(out)
    assert opened.opened.playbook == "personal"
