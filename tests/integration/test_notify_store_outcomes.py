"""NotifyStore contract, what happens to a case: recovery and return decided in any order, staff
commands, escalation for value, erasure; in memory as on Postgres."""

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
    queued,
    win,
)
from tests.integration.store_contract_support import STORE_KINDS, make_store, run
from touchstone.notify.contact_book import ContactChange
from touchstone.notify.domain import (
    MomentValue,
    UnknownCase,
    UnknownStep,
    opening_for,
)
from touchstone.notify.openings import lay_out_openings
from touchstone.notify.playbooks import PlannedStep
from touchstone.notify.rows import CaseFilter, StepCommand
from touchstone.notify.staff_commands import resolving, taking
from touchstone.notify.v1.events_pb2 import (
    TASK_STATE_DONE,
    TASK_STATE_OPEN,
    CaseEvent,
    CaseRecovered,
    TaskEvent,
)
from touchstone.platform.messaging.customer_links import LinkChange
from touchstone.platform.messaging.topics import NOTIFY_TASKS, Outgoing


@pytest.fixture(params=STORE_KINDS)
def notify_store(request: pytest.FixtureRequest) -> Any:
    return make_store(request, "notify")


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
