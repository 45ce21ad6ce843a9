"""NotifyStore contract, openings and listings: one case per visit, opened by its earliest lost
moment (heard in any order, until people act on it), moments joined once, cases listed and
filtered; in memory as on Postgres."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from tests.builders import T0
from tests.integration.notify_contract_support import (
    ESCALATE_RICHLY,
    apologise,
    lost,
    open_apologising,
    open_or_join,
)
from tests.integration.store_contract_support import STORE_KINDS, make_store, run
from touchstone.notify.domain import (
    MomentValue,
    opening_for,
)
from touchstone.notify.openings import lay_out_openings
from touchstone.notify.playbooks import PlannedStep, RecoveryPolicy
from touchstone.notify.rows import CaseFilter, StepCommand
from touchstone.notify.staff_commands import taking
from touchstone.notify.value_escalation import value_escalations
from touchstone.platform.messaging.topics import NOTIFY_CASES, Outgoing


@pytest.fixture(params=STORE_KINDS)
def notify_store(request: pytest.FixtureRequest) -> Any:
    return make_store(request, "notify")


def test_notify_has_no_cases_before_a_loss(notify_store) -> None:
    async def scenario(store) -> None:
        assert await store.open_or_join([], [], lay_out_openings) == {}
        assert await store.get_case("nope") is None
        assert await store.list_cases(CaseFilter(), None, 10) == ([], 0)

    run(notify_store, scenario)


def test_an_earlier_loss_heard_later_opens_the_case_instead(notify_store) -> None:
    async def scenario(store) -> None:
        first = await open_or_join(store, lost(5))
        later = await open_or_join(store, lost(1), lost(5))  # an earlier loss, heard later
        case = later["m1"]
        assert later == {"m1": case, "m5": case} and case.case_id == first["m5"].case_id
        assert (case.opening_moment_id, case.opened_at) == ("m1", T0 + timedelta(minutes=1))
        assert case.due_at == T0 + timedelta(minutes=16)
        again = await open_or_join(store, lost(5))  # a later one again: nothing moves
        assert again["m5"].opening_moment_id == "m1"

    run(notify_store, scenario)


def test_notify_opens_a_case_with_the_earliest_loss_of_the_batch(notify_store) -> None:
    async def scenario(store) -> None:
        cases = await open_or_join(store, lost(7), lost(2))
        assert cases["m7"].opening_moment_id == "m2"

    run(notify_store, scenario)


def test_once_staff_acted_on_a_case_an_earlier_loss_only_joins_it(notify_store) -> None:
    async def scenario(store) -> None:
        (case,) = (await open_apologising(store, lost(5))).values()
        await apologise(store, case.case_id, 6)
        joined = await open_apologising(store, lost(1))
        assert joined["m1"].opening_moment_id == "m5"

    run(notify_store, scenario)


def test_notify_lists_a_cases_moments_in_event_time_order(notify_store, request) -> None:
    async def scenario(store) -> None:
        await open_or_join(store, lost(5))
        await open_or_join(store, lost(1))
        case = await store.get_case(opening_for(lost(5)).case_id)
        assert (case.moment_ids, case.reasons) == (("m1", "m5"), ("reason 1", "reason 5"))

    run(notify_store, scenario)


def test_notify_filters_cases_and_counts_every_match(notify_store) -> None:
    async def scenario(store) -> None:
        await open_or_join(store, lost(1), lost(2, "v2"), lost(3, "v3", "c2", "s2"))
        mine, total = await store.list_cases(CaseFilter(customer_id="c1"), None, 1)
        assert total == 2 and [c.opening_moment_id for c in mine] == ["m1"]
        there, total = await store.list_cases(CaseFilter(site_id="s2", status="open"), None, 5)
        assert total == 1 and [c.customer_id for c in there] == ["c2"]
        past_all, total = await store.list_cases(
            CaseFilter(customer_id="c1"), (T0 + timedelta(hours=1), ""), 5
        )
        assert (past_all, total) == ([], 2)

    run(notify_store, scenario)


def test_notify_answers_for_moments_joined_in_an_earlier_batch(notify_store) -> None:
    async def scenario(store) -> None:
        first = await open_or_join(store, lost(1))
        again = await store.open_or_join(
            [opening_for(lost(1))], [replace(lost(1), reason="x")], lay_out_openings
        )
        assert again == first
        case = await store.get_case(first["m1"].case_id)
        assert case.reasons == ("reason 1",)

    run(notify_store, scenario)


def test_a_case_has_the_steps_of_its_earliest_opening_and_keeps_a_value_step(
    notify_store,
) -> None:
    def planned(n: int, action: str, minutes: int = 0) -> PlannedStep:
        return PlannedStep(n, action, "staff", "in_person", T0 + timedelta(minutes=minutes + n))

    later = replace(
        opening_for(lost(2)),
        playbook="duty_manager",
        steps=(planned(1, "fix", 2), planned(2, "follow_up", 2)),
    )
    earlier = replace(opening_for(lost(1)), playbook="on_site", steps=(planned(1, "apologise"),))
    policy = RecoveryPolicy(escalate_at_risk={"VND": 1})

    async def scenario(store) -> None:
        await store.open_or_join([later], [lost(2)], lay_out_openings)
        await store.weigh(
            [MomentValue("m2", "VND", 5)], ["m2"], value_escalations(policy)
        )  # the duty manager's
        await store.open_or_join(
            [later], [lost(2)], lay_out_openings
        )  # heard again: lays out nothing
        case = await store.get_case(later.case_id)
        assert (case.playbook, [s.action for s in case.steps]) == (
            "duty_manager",
            ["fix", "follow_up", "step_in"],
        )
        moved = await store.open_or_join(
            [earlier], [lost(1)], lay_out_openings
        )  # earlier, heard later: opens it
        told = moved["m1"]  # the new plan to tell as tasks, and the step it took off
        assert [(s.n, s.action) for s in told.steps] == [(1, "apologise"), (2, "step_in")]
        assert [(s.n, s.action) for s in told.withdrawn] == [(3, "step_in")]
        case = await store.get_case(later.case_id)
        assert (case.playbook, case.opening_moment_id) == ("on_site", "m1")
        assert [(s.n, s.action, s.due_at) for s in case.steps] == [
            (1, "apologise", T0 + timedelta(minutes=1)),
            (2, "step_in", earlier.due_at),
        ]

    run(notify_store, scenario)


def test_notify_lists_cases_by_who_owes_a_step_and_by_lateness(notify_store) -> None:
    def step(n: int, owner: str, minutes: int) -> PlannedStep:
        return PlannedStep(n, "fix", owner, "in_person", T0 + timedelta(minutes=minutes))

    staffs = replace(opening_for(lost(1)), steps=(step(1, "staff", 5), step(2, "system", 60)))
    managers = replace(opening_for(lost(2, "v2")), steps=(step(1, "duty_manager", 30),))

    async def listed(store, **filters) -> list[str]:
        cases, total = await store.list_cases(CaseFilter(**filters), None, 10)
        assert total == len(cases)
        return [c.case_id for c in cases]

    async def scenario(store) -> None:
        await store.open_or_join([staffs, managers], [lost(1), lost(2, "v2")], lay_out_openings)
        mine, theirs = staffs.case_id, managers.case_id
        assert await listed(store, owner="staff") == [mine]
        assert await listed(store, owner="duty_manager") == [theirs]
        assert await listed(store, overdue_at=T0 + timedelta(minutes=10)) == [mine]
        assert await listed(store, overdue_at=T0 + timedelta(minutes=90)) == [mine, theirs]
        done = StepCommand(mine, 1, "lan", "", completed=True)
        told = Outgoing(NOTIFY_CASES, b"c1", b"done")
        await store.take_step(done.case_id, taking(done, T0, lambda *_: told))
        assert await listed(store, owner="staff") == []
        assert await listed(store, overdue_at=T0 + timedelta(minutes=90)) == [theirs]
        assert await listed(store, owner="duty_manager", site_id="s2") == []

    run(notify_store, scenario)


def test_a_listed_case_says_what_went_wrong_and_whether_it_is_valued(notify_store) -> None:
    async def scenario(store) -> None:
        await open_or_join(store, lost(1), lost(2))
        (listed,), _ = await store.list_cases(CaseFilter(), None, 10)
        assert (listed.reasons, listed.valued) == (("reason 1", "reason 2"), False)
        await store.weigh(
            [MomentValue("m1", "", 0)], [], ESCALATE_RICHLY
        )  # valued: nothing bought yet
        (listed,), _ = await store.list_cases(CaseFilter(), None, 10)
        assert (listed.valued, listed.value_at_risk_minor, listed.currency) == (True, 0, "")

    run(notify_store, scenario)
