"""NotifyStore contract: one case per visit, opened by its earliest lost moment (heard in any
order, until people act on it), moments joined once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from tests.builders import T0
from tests.integration.store_contract_support import STORE_KINDS, make_store, run
from touchstone.notify.contact_book import ContactChange
from touchstone.notify.domain import (
    LostMoment,
    MomentValue,
    UnknownCase,
    UnknownStep,
    Win,
    opening_for,
)
from touchstone.notify.openings import lay_out_openings
from touchstone.notify.playbooks import PlannedStep, RecoveryPolicy
from touchstone.notify.rows import CaseFilter, StepCommand
from touchstone.notify.staff_commands import resolving, taking
from touchstone.notify.v1.events_pb2 import (
    TASK_STATE_DONE,
    TASK_STATE_OPEN,
    CaseEvent,
    CaseRecovered,
    TaskEvent,
)
from touchstone.notify.value_escalation import value_escalations
from touchstone.platform.messaging.customer_links import LinkChange
from touchstone.platform.messaging.topics import NOTIFY_CASES, NOTIFY_TASKS, Outgoing


@pytest.fixture(params=STORE_KINDS)
def notify_store(request: pytest.FixtureRequest) -> Any:
    return make_store(request, "notify")


def lost(n: int, visit: str = "v1", customer: str = "c1", site: str = "s1") -> LostMoment:
    at = T0 + timedelta(minutes=n)
    return LostMoment(f"m{n}", customer, visit, site, "enter_store", f"reason {n}", at)


async def open_or_join(store, *moments: LostMoment):
    return await store.open_or_join(
        [opening_for(m) for m in moments], list(moments), lay_out_openings
    )


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


def win(n: int, customer: str = "c1", how: str = "win", site: str = "s1") -> Win:
    """A win, positive feedback or clean visit (how) of the customer's at the site, n minutes
    after T0, in a visit of its own."""
    return Win(f"{how[0]}{n}", customer, T0 + timedelta(minutes=n), how, site, f"visit-{n}")


APOLOGY = PlannedStep(1, "apologise", "staff", "in_person", T0 + timedelta(minutes=5))


async def open_apologising(store, *moments: LostMoment):
    """Open the moments' cases with an apology to make (their first step)."""
    openings = [opening_for(m, steps=(APOLOGY,)) for m in moments]
    return await store.open_or_join(openings, list(moments), lay_out_openings)


async def apologise(store, case_id: str, minutes: int) -> None:
    command = StepCommand(case_id, 1, "lan", "", completed=True)
    at = T0 + timedelta(minutes=minutes)
    await store.take_step(command.case_id, taking(command, at, lambda *_: Outgoing("t", b"", b"")))


def test_the_first_sign_after_the_apology_and_the_last_loss_recovers_in_any_order(
    notify_store,
) -> None:
    async def told(store) -> list[CaseRecovered]:
        return [
            e.recovered
            for e in map(CaseEvent.FromString, await queued(store))
            if e.WhichOneof("change") == "recovered"
        ]

    async def scenario(store) -> None:
        await store.settle([win(30, how="visit")], [], [])  # a clean visit with no case yet
        assert await told(store) == []
        cases = await open_apologising(store, lost(1), lost(20))
        case_id = cases["m1"].case_id
        await store.settle([win(25, how="visit")], ["c1"], ["m1", "m20"])  # nobody apologised
        assert await told(store) == [] and (await store.get_case(case_id)).returned_by == "v25"
        await apologise(store, case_id, 26)
        await store.settle([win(10, how="visit"), win(28)], ["c1"], [])  # too early; a win alone
        (recovered,) = await told(store)  # v30: after the loss at 20 and the apology at 26
        assert (list(recovered.moment_ids), recovered.how) == (["m1", "m20"], "visit")
        case = await store.get_case(recovered.case_id)
        assert (case.status, case.recovered_by, case.recovered_at) == (
            "recovered",
            "v30",
            T0 + timedelta(minutes=30),
        )
        await store.settle([win(40, how="feedback")], [], [])  # already recovered: nothing new
        assert len(await told(store)) == 1
        await open_apologising(store, lost(50))
        await store.settle([], ["c1"], ["m50"])  # a later loss reopens it
        assert (await store.get_case(case.case_id)).status == "open"
        await store.settle([win(60, how="feedback", site="s2")], [], [])  # another site
        assert (await store.get_case(case.case_id)).status == "open"
        await store.settle([win(70, how="feedback")], [], [])
        assert list((await told(store))[-1].moment_ids) == ["m1", "m20", "m50"]
        (listed,), total = await store.list_cases(CaseFilter(status="recovered"), None, 10)
        assert (listed.case_id, total) == (case.case_id, 1)

    run(notify_store, scenario)


def test_an_apology_after_the_customer_returned_lets_a_later_sign_recover_the_case(
    notify_store,
) -> None:
    """Returned and not apologised, a case moves only on a win before its return (later news
    does not reach it); its apology changes that: a sign after it recovers the case."""

    async def scenario(store) -> None:
        cases = await open_apologising(store, lost(1))
        case_id = cases["m1"].case_id
        await store.settle([win(5)], ["c1"], ["m1"])
        await store.settle([win(8, how="visit")], [], [])  # before any apology: shows nothing
        assert (await store.get_case(case_id)).returned_by == "w5"
        await store.settle([win(3)], [], [])  # heard late, but earlier: the return is this one
        assert (await store.get_case(case_id)).returned_by == "w3"
        await apologise(store, case_id, 10)
        await store.settle([win(12, how="visit")], [], [])
        case = await store.get_case(case_id)
        assert (case.status, case.recovered_by, case.returned_by) == ("recovered", "v12", "w3")

    run(notify_store, scenario)


def test_a_merge_after_the_clean_visit_recovers_the_case(notify_store) -> None:
    async def scenario(store) -> None:
        cases = await open_apologising(store, lost(1))
        await apologise(store, cases["m1"].case_id, 5)
        await store.settle([win(30, customer="card-7", how="visit")], [], [])
        assert await queued(store) == []
        await store.fold_links([LinkChange("merge-1", "c1", "card-7")])
        (told,) = map(CaseEvent.FromString, await queued(store))
        assert told.recovered.moment_ids == ["m1"]

    run(notify_store, scenario)


def test_staff_resolution_is_final_even_for_the_worker_deciding_outcomes(notify_store) -> None:
    async def scenario(store) -> None:
        await open_or_join(store, lost(1))
        case_id = opening_for(lost(1)).case_id
        told = Outgoing("t", b"k", b"v")
        await store.resolve(case_id, resolving("duty", "", T0, lambda c, at: told))
        await open_or_join(store, lost(2))
        await store.settle([], ["c1"], ["m2"])
        assert (await store.get_case(case_id)).status == "recovered"

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


def test_staff_commands_move_steps_once_and_queue_their_events(notify_store) -> None:
    step = PlannedStep(1, "apologise", "staff", "in_person", T0 + timedelta(minutes=5))
    opening = replace(opening_for(lost(1)), playbook="on_site", steps=(step,))
    made: list[str] = []

    def step_event(case, step, command, at):
        made.append(f"{case.case_id}/{step.n}/{command.completed}")
        return Outgoing("notify.cases.v1", b"c1", made[-1].encode())

    def resolve_event(case, at):
        made.append(f"{case.case_id}/resolved/{case.resolved_by}")
        return Outgoing("notify.cases.v1", b"c1", made[-1].encode())

    async def scenario(store) -> None:
        await store.open_or_join([opening], [lost(1)], lay_out_openings)
        ack = StepCommand(opening.case_id, 1, "lan", "sorry", completed=False)
        case = await store.take_step(ack.case_id, taking(ack, T0, step_event))
        assert (case.steps[0].status, case.steps[0].taken_by) == ("acknowledged", "lan")
        await store.take_step(ack.case_id, taking(ack, T0, step_event))  # again: no event
        completed = replace(ack, completed=True)
        done = await store.take_step(ack.case_id, taking(completed, T0, step_event))
        assert done.steps[0].status == "done"
        with pytest.raises(UnknownStep):
            await store.take_step(ack.case_id, taking(replace(ack, n=2), T0, step_event))
        with pytest.raises(UnknownCase):
            await store.resolve("nope", resolving("lan", "", T0, resolve_event))
        resolved = await store.resolve(opening.case_id, resolving("duty", "", T0, resolve_event))
        assert (resolved.status, resolved.resolved_by) == ("recovered", "duty")
        await store.resolve(opening.case_id, resolving("other", "", T0, resolve_event))  # once
        assert len(made) == 3
        assert await queued(store) == [m.encode() for m in made]
        tasks = [TaskEvent.FromString(v).task for v in await queued(store, NOTIFY_TASKS)]
        assert [(t.n, t.state, t.taken_by) for t in tasks] == [
            (1, TASK_STATE_OPEN, "lan"),  # acknowledged
            (1, TASK_STATE_DONE, "lan"),  # done
            (1, TASK_STATE_DONE, "lan"),  # still done when the case closed
        ]

    run(notify_store, scenario)


async def queued(store, topic: str = NOTIFY_CASES) -> list[bytes]:
    """What the store's outbox holds for the topic, in order."""
    if hasattr(store, "outbox"):
        return [o.value for o in store.outbox if o.topic == topic]
    async with store.pool.connection() as conn:
        query = "SELECT value FROM notify.outbox WHERE topic = %s ORDER BY id"
        rows = await (await conn.execute(query, (topic,))).fetchall()
    return [bytes(v) for (v,) in rows]


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


RICH = RecoveryPolicy(escalate_at_risk={"VND": 20_000_000})
ESCALATE_RICHLY = value_escalations(RICH)


def test_notify_sends_a_case_worth_enough_to_the_duty_manager_once(notify_store) -> None:
    step = PlannedStep(1, "apologise", "staff", "in_person", T0 + timedelta(minutes=5))
    opening = replace(opening_for(lost(1)), steps=(step,))

    async def scenario(store) -> None:
        await store.open_or_join([opening], [lost(1)], lay_out_openings)
        await store.weigh([MomentValue("m1", "VND", 12_000_000)], [], ESCALATE_RICHLY)
        assert await queued(store) == []
        await store.open_or_join(
            [replace(opening_for(lost(2)), steps=(step,))], [lost(2)], lay_out_openings
        )
        await store.weigh([MomentValue("m2", "VND", 10_000_000)], ["m2"], ESCALATE_RICHLY)
        await store.weigh([MomentValue("m2", "VND", 10_000_000)], ["m2"], ESCALATE_RICHLY)  # once
        (event,) = map(CaseEvent.FromString, await queued(store))
        escalated = event.escalated
        assert (escalated.reason, escalated.n, escalated.currency) == ("value_at_risk", 2, "VND")
        assert escalated.value_at_risk_minor == 22_000_000
        assert escalated.at.ToDatetime().replace(tzinfo=T0.tzinfo) == T0 + timedelta(minutes=2)
        case = await store.get_case(opening.case_id)
        assert (case.value_at_risk_minor, case.currency) == (22_000_000, "VND")
        assert [(s.n, s.action, s.owner, s.due_at) for s in case.steps][1] == (
            2,
            "step_in",
            "duty_manager",
            case.due_at,
        )
        (task,) = [TaskEvent.FromString(v).task for v in await queued(store, NOTIFY_TASKS)]
        assert (task.n, task.owner, task.state) == (2, "duty_manager", TASK_STATE_OPEN)
        worth = CaseFilter(min_value_at_risk_minor=20_000_000)
        assert [c.case_id for c in (await store.list_cases(worth, None, 5))[0]] == [opening.case_id]
        more = CaseFilter(min_value_at_risk_minor=22_000_001)
        assert await store.list_cases(more, None, 5) == ([], 0)

    run(notify_store, scenario)


def test_notify_weighs_a_value_heard_before_its_lost_moment(notify_store) -> None:
    async def scenario(store) -> None:
        await store.weigh([MomentValue("m1", "VND", 25_000_000)], [], ESCALATE_RICHLY)
        await store.open_or_join([opening_for(lost(1))], [lost(1)], lay_out_openings)
        await store.weigh([], ["m1"], ESCALATE_RICHLY)
        (event,) = map(CaseEvent.FromString, await queued(store))
        assert event.escalated.value_at_risk_minor == 25_000_000
        case = await store.get_case(opening_for(lost(1)).case_id)
        assert [s.action for s in case.steps] == ["step_in"]

    run(notify_store, scenario)


def test_notify_does_not_escalate_a_recovered_case_for_its_value(notify_store) -> None:
    async def scenario(store) -> None:
        cases = await open_apologising(store, lost(1))
        await apologise(store, cases["m1"].case_id, 5)
        await store.settle([win(9, how="feedback")], ["c1"], [])
        assert (await store.get_case(cases["m1"].case_id)).status == "recovered"
        before = len(await queued(store))
        await store.weigh([MomentValue("m1", "VND", 99_000_000)], [], ESCALATE_RICHLY)
        assert len(await queued(store)) == before

    run(notify_store, scenario)


def test_notify_keeps_the_last_of_two_values_of_one_moment_in_a_batch(notify_store) -> None:
    async def scenario(store) -> None:
        await open_or_join(store, lost(1))
        first, later = MomentValue("m1", "VND", 5_000_000), MomentValue("m1", "VND", 7_000_000)
        await store.weigh(
            [first, later], [], ESCALATE_RICHLY
        )  # loyalty tells it again once recovered
        case = await store.get_case(opening_for(lost(1)).case_id)
        assert (case.value_at_risk_minor, case.currency) == (7_000_000, "VND")

    run(notify_store, scenario)


def test_notify_knows_a_customers_tier_under_any_merged_id(notify_store) -> None:
    async def scenario(store) -> None:
        await store.fold_tiers([("c1", "middle"), ("c1", "top")])  # the latest counts
        await store.fold_links([LinkChange("merge-1", "c1", "card-7")])
        assert await store.tiers_of(["c1", "card-7", "c9"]) == {
            "c1": "top",
            "card-7": "top",
            "c9": "",
        }

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


def test_staff_notes_on_an_erased_customers_case_are_neither_kept_nor_told(notify_store) -> None:
    step = PlannedStep(1, "apologise", "staff", "in_person", T0 + timedelta(minutes=5))
    opening = replace(opening_for(lost(1)), playbook="on_site", steps=(step,))
    told: list[str] = []

    def step_event(case, step, command, at):
        told.append(command.note)
        return Outgoing("notify.cases.v1", b"c1", b"step")

    def resolve_event(case, at):
        return Outgoing("notify.cases.v1", b"c1", b"resolved")

    async def scenario(store) -> None:
        await store.open_or_join([opening], [lost(1)], lay_out_openings)
        await store.fold_contacts([ContactChange("c1", erased=True)])
        ack = StepCommand(opening.case_id, 1, "lan", "rang Mrs Hoa on 0901234567", completed=False)
        await store.take_step(ack.case_id, taking(ack, T0, step_event))
        happy = resolving("duty", "Hoa was happy again", T0, resolve_event)
        await store.resolve(opening.case_id, happy)
        if hasattr(store, "pool"):
            async with store.pool.connection() as conn:
                kept = await (
                    await conn.execute(
                        "SELECT s.note || c.resolved_note FROM notify.case_steps s"
                        " JOIN notify.cases c USING (case_id)"
                    )
                ).fetchall()
            assert kept == [("",)]

    run(notify_store, scenario)
    assert told == [""]


def test_each_of_a_customers_cases_returns_and_recovers_by_its_own_first_later_win(
    notify_store,
) -> None:
    """Eight cases of one customer, wins and signs heard a few at a time in scrambled order
    (earlier ones late): every case ends returned by its first later win from another visit,
    and recovered by its first sign after its apology, whichever batch brought them."""
    moments = [lost(10 * n, visit=f"v{n}") for n in range(1, 9)]
    heard = [
        [win(95)],
        [win(62, how="visit"), win(44)],
        [win(33)],
        [win(71, how="feedback"), win(15)],
        [win(58, how="visit")],
        [win(21), win(88)],
        [win(68, how="feedback")],  # after case 6's return, before the sign that recovered it
    ]

    async def scenario(store) -> None:
        cases = await open_apologising(store, *moments)
        await store.settle([], ["c1"], [m.moment_id for m in moments])
        for n in (5, 6):  # apologised at 55 and 65
            await apologise(store, cases[f"m{10 * n}"].case_id, 10 * n + 5)
        for wins in heard:
            await store.settle(wins, [], [])
        every_win = sorted((w for ws in heard for w in ws), key=lambda w: w.occurred_at)
        for n in range(1, 9):
            case = await store.get_case(cases[f"m{10 * n}"].case_id)
            first = next(w for w in every_win if w.occurred_at > T0 + timedelta(minutes=10 * n))
            assert (case.returned_by, case.returned_at) == (first.moment_id, first.occurred_at), n
        recovered = {
            n: (await store.get_case(cases[f"m{10 * n}"].case_id)).recovered_by for n in range(1, 9)
        }
        assert recovered == {1: "", 2: "", 3: "", 4: "", 5: "v58", 6: "f68", 7: "", 8: ""}

    run(notify_store, scenario)
