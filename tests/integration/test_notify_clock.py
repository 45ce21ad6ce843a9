"""Notify's clock on Postgres: given cases and their steps → when the clock sweeps → then late
steps are told once, staff steps late enough are escalated once (with a duty-manager task),
cases nothing recovers in time are lost, and a sign of recovery from within the window still
recovers one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from tests.builders import T0, moment, record
from tests.unit.test_contacts_ingest_api import FakeContext
from tests.unit.test_notify_outcomes import visited, won
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE
from touchstone.notify.api import NotifyApi
from touchstone.notify.codec import step_taken
from touchstone.notify.domain import case_id_for
from touchstone.notify.handlers import OpenRecoveryCases
from touchstone.notify.playbooks import DEFAULT_POLICY
from touchstone.notify.ports import Swept
from touchstone.notify.rows import CaseFilter, StepCommand
from touchstone.notify.staff_commands import taking
from touchstone.notify.store import PostgresNotifyStore
from touchstone.notify.v1.events_pb2 import (
    TASK_STATE_CANCELLED,
    TASK_STATE_OPEN,
    CaseEvent,
    TaskEvent,
)
from touchstone.notify.v1.notify_service_pb2 import GetCaseRequest
from touchstone.platform.messaging.topics import JOURNEY_VISITS, NOTIFY_CASES, NOTIFY_TASKS
from touchstone.platform.persistence.pg import open_pool
from touchstone.platform.runtime.settings import Settings

CASE = case_id_for("cust-1", "visit-1")
MINUTE = timedelta(minutes=1)


OFF_THE_CASES_CLOCK = """
SELECT s.case_id, s.n, s.on_clock, c.status
FROM notify.case_steps s JOIN notify.cases c USING (case_id)
WHERE s.on_clock <> (c.status = 'open')
"""


def on_postgres(database: Settings, scenario: Callable[[PostgresNotifyStore], Awaitable[None]]):
    async def within() -> None:
        store = PostgresNotifyStore(open_pool(database.database_url))
        await store.pool.open(wait=True)
        try:
            await scenario(store)
            async with store.pool.connection() as conn:
                off = await conn.execute(OFF_THE_CASES_CLOCK)
                assert await off.fetchall() == []  # every step on the clock iff its case is open
        finally:
            await store.pool.close()

    asyncio.run(within())


async def a_lost_greeting(store: PostgresNotifyStore, at: datetime = T0) -> None:
    """A case opened by a slow greeting at `at`: the on_site playbook (staff apologise by +5 min,
    the system by email by +10, staff fix by +15, ask their opinion by +30; the system follows
    up by email)."""
    lose = moment(VERDICT_LOSE, "m-1", "visit-1", at)
    await OpenRecoveryCases(store).handle([record(lose)])


async def apologised(store: PostgresNotifyStore) -> None:
    """Staff apologise a minute after the loss."""
    command = StepCommand(CASE, 1, "lan@hcm-01", "", completed=True)
    await store.take_step(command.case_id, taking(command, T0 + MINUTE, step_taken))


async def back(store: PostgresNotifyStore, minutes: float, visit: str) -> None:
    """The customer's clean visit `minutes` after T0: after the apology, it shows the recovery
    worked (services/notify/touchstone/notify/recovery.py)."""
    await OpenRecoveryCases(store).handle([record(visited(visit, minutes), 0, JOURNEY_VISITS)])


async def apologised_then_back(store: PostgresNotifyStore, minutes: float, visit: str) -> None:
    await apologised(store)
    await back(store, minutes, visit)


async def outbox(store: PostgresNotifyStore) -> tuple[list[CaseEvent], list[TaskEvent]]:
    async with store.pool.connection() as conn:
        rows = await (
            await conn.execute("SELECT topic, value FROM notify.outbox ORDER BY id")
        ).fetchall()
    cases = [CaseEvent.FromString(bytes(v)) for t, v in rows if t == NOTIFY_CASES]
    tasks = [TaskEvent.FromString(bytes(v)) for t, v in rows if t == NOTIFY_TASKS]
    return cases, tasks


def changes(events: list[CaseEvent]) -> list[tuple[str, int]]:
    return [
        (e.WhichOneof("change"), getattr(e, e.WhichOneof("change")).n)
        if e.WhichOneof("change") in ("step_due", "escalated")
        else (e.WhichOneof("change"), 0)
        for e in events
    ]


def test_a_late_staff_step_is_told_once_then_escalated_once(fresh_database: Settings) -> None:
    async def scenario(store: PostgresNotifyStore) -> None:
        await a_lost_greeting(store)
        sweep = store.sweep
        assert await sweep(T0 + 4 * MINUTE, DEFAULT_POLICY) == Swept()
        assert await sweep(T0 + 5 * MINUTE, DEFAULT_POLICY) == Swept(due=1)
        assert await sweep(T0 + 5 * MINUTE, DEFAULT_POLICY) == Swept()  # told once
        # +15: step 1 is 10 minutes late (escalated), step 3 falls due (step 2 is the system's)
        assert await sweep(T0 + 15 * MINUTE, DEFAULT_POLICY) == Swept(due=1, escalated=1)
        done = StepCommand(CASE, 3, "lan", "", completed=True)
        await store.take_step(
            CASE,
            taking(done, T0 + 16 * MINUTE, step_taken),
        )
        assert await sweep(T0 + 25 * MINUTE, DEFAULT_POLICY) == Swept()  # step 3 was done
        # step 4: due at +30, escalated at +40; both decided by one late sweep
        assert await sweep(T0 + 60 * MINUTE, DEFAULT_POLICY) == Swept(due=1, escalated=1)
        assert await sweep(T0 + 2 * 24 * 60 * MINUTE, DEFAULT_POLICY) == Swept()
        cases, tasks = await outbox(store)
        assert changes(cases) == [
            ("step_due", 1),
            ("escalated", 1),
            ("step_due", 3),
            ("step_taken", 0),
            ("step_due", 4),
            ("escalated", 4),
        ]
        escalated = cases[1].escalated
        assert (escalated.case_id, escalated.reason, escalated.site_id) == (
            CASE,
            "overdue_step",
            "hcm-01",
        )
        assert escalated.at.ToDatetime().replace(tzinfo=T0.tzinfo) == T0 + 15 * MINUTE
        duty = [t.task for t in tasks if t.task.reason == "overdue_step"]
        assert [(t.n, t.owner, t.state) for t in duty] == [
            (1, "duty_manager", TASK_STATE_OPEN),
            (4, "duty_manager", TASK_STATE_OPEN),
        ]
        case = await store.get_case(CASE)
        assert case is not None
        assert [s.escalated for s in case.steps] == [True, False, False, True, False, False]
        escalated_to, _ = await store.list_cases(CaseFilter(owner="duty_manager"), None, 5)
        assert [c.case_id for c in escalated_to] == [CASE]
        got = await NotifyApi(store).GetCase(GetCaseRequest(case_id=CASE), FakeContext())
        timeline = [((e.at.ToDatetime(UTC) - T0) // MINUTE, e.what, e.n) for e in got.timeline]
        assert timeline == [
            (0, "lost_moment", 0),
            (5, "step_due", 1),
            (15, "escalated", 1),
            (15, "step_due", 3),
            (16, "step_done", 3),
            (30, "step_due", 4),
            (60, "escalated", 4),
        ]

    on_postgres(fresh_database, scenario)


def test_a_recovered_case_is_not_chased(fresh_database: Settings) -> None:
    async def scenario(store: PostgresNotifyStore) -> None:
        await a_lost_greeting(store)
        await apologised_then_back(store, 2, "visit-2")
        swept = await store.sweep(T0 + 40 * 24 * 60 * MINUTE, DEFAULT_POLICY)
        assert (swept.due, swept.escalated, swept.lost) == (0, 0, 0)

    on_postgres(fresh_database, scenario)


def test_a_recovered_case_a_later_loss_opens_again_is_chased_again(
    fresh_database: Settings,
) -> None:
    async def scenario(store: PostgresNotifyStore) -> None:
        await a_lost_greeting(store)
        await apologised_then_back(store, 2, "visit-2")
        assert (await store.get_case(CASE)).status == "recovered"  # type: ignore[union-attr]
        later = moment(VERDICT_LOSE, "m-2", "visit-1", T0 + 3 * MINUTE)  # after the clean visit
        await OpenRecoveryCases(store).handle([record(later, 1)])
        assert (await store.get_case(CASE)).status == "open"  # type: ignore[union-attr]
        # +20: step 3 (staff fix, due at +15) is late; step 1 was done
        assert await store.sweep(T0 + 20 * MINUTE, DEFAULT_POLICY) == Swept(due=1)

    on_postgres(fresh_database, scenario)


def test_a_case_no_win_recovers_within_the_window_is_lost(fresh_database: Settings) -> None:
    async def scenario(store: PostgresNotifyStore) -> None:
        await a_lost_greeting(store)
        window = DEFAULT_POLICY.lost_after
        before = await store.sweep(T0 + window - MINUTE, DEFAULT_POLICY)
        assert before.lost == 0
        assert (await store.sweep(T0 + window, DEFAULT_POLICY)).lost == 1
        assert (await store.sweep(T0 + window, DEFAULT_POLICY)).lost == 0
        case = await store.get_case(CASE)
        assert case is not None and case.status == "lost"
        cases, tasks = await outbox(store)
        (lost,) = [e.lost for e in cases if e.WhichOneof("change") == "lost"]
        assert (lost.case_id, list(lost.moment_ids)) == (CASE, ["m-1"])
        assert lost.lost_at.ToDatetime().replace(tzinfo=T0.tzinfo) == T0 + window
        last = {t.task.task_id: t.task.state for t in tasks}
        assert set(last.values()) == {TASK_STATE_CANCELLED}

    on_postgres(fresh_database, scenario)


def test_a_lost_moment_heard_after_the_case_was_lost_moves_when_it_was_lost(
    fresh_database: Settings,
) -> None:
    """lost_at is always the last lost moment + the window, whichever came first: the moment or
    the sweep (a backlog gave two runs of the same input two lost_at)."""

    async def scenario(store: PostgresNotifyStore) -> None:
        window = DEFAULT_POLICY.lost_after
        await a_lost_greeting(store)
        assert (await store.sweep(T0 + 2 * window, DEFAULT_POLICY)).lost == 1
        later = moment(VERDICT_LOSE, "m-2", "visit-1", T0 + 10 * MINUTE)
        await OpenRecoveryCases(store).handle([record(later, 1)])
        async with store.pool.connection() as conn:
            query = "SELECT status, lost_at FROM notify.cases WHERE case_id = %s"
            row = await (await conn.execute(query, (CASE,))).fetchone()
        assert row == ("lost", T0 + 10 * MINUTE + window)

    on_postgres(fresh_database, scenario)


def test_an_earlier_lost_moment_heard_after_the_case_was_lost_lays_its_steps_out_off_the_clock(
    fresh_database: Settings,
) -> None:
    """The case moves to its visit's earlier moment (services/notify/touchstone/notify/openings.py)
    and stays
    lost: its steps, laid out again from that moment, are not on the clock (on_postgres checks
    every step against its case's status). A spoilt fault-suite run found them left on it."""

    async def scenario(store: PostgresNotifyStore) -> None:
        window = DEFAULT_POLICY.lost_after
        await a_lost_greeting(store, T0 + 10 * MINUTE)
        assert (await store.sweep(T0 + 2 * window, DEFAULT_POLICY)).lost == 1
        earlier = moment(VERDICT_LOSE, "m-0", "visit-1", T0)
        await OpenRecoveryCases(store).handle([record(earlier, 1)])
        case = await store.get_case(CASE)
        assert case is not None and case.status == "lost"
        assert case.opened_at == T0  # moved to the earlier moment, steps laid out from it
        assert case.steps and min(s.due_at for s in case.steps) > T0
        assert (await store.sweep(T0 + 3 * window, DEFAULT_POLICY)) == Swept()

    on_postgres(fresh_database, scenario)


def test_a_sign_from_within_the_window_heard_late_still_recovers_a_lost_case(
    fresh_database: Settings,
) -> None:
    async def scenario(store: PostgresNotifyStore) -> None:
        window = DEFAULT_POLICY.lost_after
        await a_lost_greeting(store)
        await apologised(store)
        await store.sweep(T0 + window + MINUTE, DEFAULT_POLICY)
        await back(store, (window + MINUTE) / MINUTE, "too-late")
        still = await store.get_case(CASE)
        assert still is not None and (still.status, still.recovered_by) == ("lost", "")
        await back(store, (window - MINUTE) / MINUTE, "in-time")
        case = await store.get_case(CASE)
        assert case is not None and (case.status, case.recovered_by) == (
            "recovered",
            "done-in-time",
        )
        cases, _ = await outbox(store)
        kinds = [e.WhichOneof("change") for e in cases]
        assert kinds.count("lost") == 1 and kinds[-1] == "recovered"

    on_postgres(fresh_database, scenario)


def test_two_clocks_sweeping_at_once_tell_each_decision_once(fresh_database: Settings) -> None:
    async def scenario(store: PostgresNotifyStore) -> None:
        for n in range(40):
            lose = moment(VERDICT_LOSE, f"m-{n}", f"visit-{n}", T0)
            await OpenRecoveryCases(store).handle([record(lose)])
        later = T0 + 60 * MINUTE
        first, second = await asyncio.gather(
            store.sweep(later, DEFAULT_POLICY), store.sweep(later, DEFAULT_POLICY)
        )
        again = await store.sweep(later, DEFAULT_POLICY)
        total = first + second + again
        assert (total.due, total.escalated) == (40 * 3, 40 * 3)
        cases, _ = await outbox(store)
        assert len({e.event_id for e in cases}) == len(cases) == 40 * 6

    on_postgres(fresh_database, scenario)


def test_wins_too_old_to_recover_anything_are_forgotten(fresh_database: Settings) -> None:
    """Too old by the wall clock and by the latest win notify has seen: a backlog of old
    touchpoints keeps the wins its cases need however late it is handled."""
    keep = 2 * DEFAULT_POLICY.lost_after / MINUTE

    async def kept(store: PostgresNotifyStore) -> list[str]:
        async with store.pool.connection() as conn:
            rows = await (await conn.execute("SELECT moment_id FROM notify.wins")).fetchall()
        return sorted(r[0] for r in rows)

    async def scenario(store: PostgresNotifyStore) -> None:
        await OpenRecoveryCases(store).handle([record(won("w-1", 0)), record(won("w-2", 60), 1)])
        months_later = T0 + 4 * DEFAULT_POLICY.lost_after
        assert (await store.sweep(months_later, DEFAULT_POLICY)).pruned_wins == 0
        await OpenRecoveryCases(store).handle([record(won("w-3", keep + 30), 2)])
        assert (await store.sweep(months_later, DEFAULT_POLICY)).pruned_wins == 1
        assert await kept(store) == ["w-2", "w-3"]

    on_postgres(fresh_database, scenario)


def test_the_win_a_case_was_recovered_by_is_never_forgotten(fresh_database: Settings) -> None:
    async def scenario(store: PostgresNotifyStore) -> None:
        await a_lost_greeting(store)
        await apologised_then_back(store, 60, "visit-2")
        much_later = T0 + 3 * DEFAULT_POLICY.lost_after
        assert (await store.sweep(much_later, DEFAULT_POLICY)).pruned_wins == 0
        await store.settle([], ["cust-1"], [])  # a later decision about the customer
        case = await store.get_case(CASE)
        assert case is not None and (case.status, case.recovered_by) == (
            "recovered",
            "done-visit-2",
        )
        assert (await store.sweep(much_later, DEFAULT_POLICY)).lost == 0

    on_postgres(fresh_database, scenario)
