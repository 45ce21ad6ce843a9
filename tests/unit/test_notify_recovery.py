"""OpenRecoveryCases: given lost moments → when handled → then case events and cases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.builders import T0, moment, record
from tests.fakes.notify import MemoryNotifyStore
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE, VERDICT_WIN, MomentScored
from touchstone.loyalty.v1.events_pb2 import ValueUpdated
from touchstone.notify.domain import case_id_for
from touchstone.notify.handlers import OpenRecoveryCases
from touchstone.notify.playbooks import RecoveryPolicy
from touchstone.notify.v1.events_pb2 import TASK_STATE_OPEN, CaseEvent, TaskEvent
from touchstone.platform.messaging.topics import (
    LOYALTY_VALUES,
    NOTIFY_CASES,
    NOTIFY_DLQ,
    NOTIFY_TASKS,
    Outgoing,
)
from touchstone.platform.runtime.ids import derived_id
from touchstone.platform.runtime.prototime import to_datetime

CASE = case_id_for("cust-1", "visit-1")


def handle(store: MemoryNotifyStore, *records, policy=None) -> list[Outgoing]:
    return asyncio.run(OpenRecoveryCases(store, policy).handle(list(records)))


def events(out: list[Outgoing]) -> list[CaseEvent]:
    """The case events among the records (the rest are tasks)."""
    assert {o.topic for o in out} <= {NOTIFY_CASES, NOTIFY_TASKS}
    return [CaseEvent.FromString(o.value) for o in out if o.topic == NOTIFY_CASES]


def tasks(out: list[Outgoing]) -> list[TaskEvent]:
    """The task events among the records, checked to be keyed by their site."""
    found = [TaskEvent.FromString(o.value) for o in out if o.topic == NOTIFY_TASKS]
    assert [o.key for o in out if o.topic == NOTIFY_TASKS] == [
        t.task.site_id.encode() for t in found
    ]
    return found


def lost(moment_id: str, minutes: float = 0, visit: str = "visit-1", reason: str = "slow") -> bytes:
    return moment(VERDICT_LOSE, moment_id, visit, T0 + timedelta(minutes=minutes), reason)


def test_a_lost_moment_opens_its_visits_case_with_everything_staff_need() -> None:
    (opened,) = events(handle(MemoryNotifyStore(), record(lost("m-1", reason="greeted late"))))
    assert opened.event_id == derived_id("case-opened", "m-1")
    case = opened.opened
    assert (case.case_id, case.customer_id, case.visit_id, case.site_id) == (
        CASE,
        "cust-1",
        "visit-1",
        "hcm-01",
    )
    assert (case.moment_id, case.stage, case.reason) == ("m-1", "enter_store", "greeted late")
    assert (to_datetime(case.opened_at), to_datetime(case.due_at)) == (
        T0,
        T0 + timedelta(minutes=15),
    )


def test_the_deadline_runs_from_the_moment_not_from_when_notify_heard_of_it() -> None:
    late = record(lost("m-1"), received=T0 + timedelta(hours=3))
    (opened,) = events(handle(MemoryNotifyStore(), late))
    assert to_datetime(opened.opened.due_at) == T0 + timedelta(minutes=15)


def test_two_lost_moments_of_one_visit_in_one_batch_open_one_case_and_join_it() -> None:
    store = MemoryNotifyStore()
    opened, joined = events(handle(store, record(lost("m-1"), 0), record(lost("m-2", 4), 1)))
    assert opened.WhichOneof("change") == "opened"
    assert joined.event_id == derived_id("moment-joined", "m-2")
    assert (joined.joined.case_id, joined.joined.moment_id) == (CASE, "m-2")
    assert to_datetime(joined.joined.occurred_at) == T0 + timedelta(minutes=4)
    assert list(store.cases) == [CASE]


def test_every_lost_moment_of_the_case_is_kept_with_its_reason() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1", reason="slow greeting"), 0))
    handle(store, record(lost("m-2", 9, reason="long queue"), 1))
    case = asyncio.run(store.get_case(CASE))
    assert case is not None
    assert (case.moment_ids, case.reasons) == (("m-1", "m-2"), ("slow greeting", "long queue"))
    assert (case.opening_moment_id, case.status) == ("m-1", "open")


def test_a_win_after_a_loss_in_the_same_visit_changes_nothing() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1"), 0))
    assert handle(store, record(moment(VERDICT_WIN, "m-2"), 1)) == []
    case = asyncio.run(store.get_case(CASE))
    assert case is not None and case.moment_ids == ("m-1",)


def test_only_the_lost_moments_of_a_mixed_batch_produce_events() -> None:
    out = handle(
        MemoryNotifyStore(),
        record(moment(VERDICT_WIN, "m-1"), 0),
        record(lost("m-2", visit="visit-2"), 1),
        record(moment(VERDICT_WIN, "m-3"), 2),
    )
    (opened,) = events(out)
    assert opened.opened.case_id == case_id_for("cust-1", "visit-2")


def test_case_events_are_keyed_by_customer_with_cloudevents_headers() -> None:
    out = handle(MemoryNotifyStore(), record(lost("m-1")))[0]
    headers = dict(out.headers)
    assert (out.topic, out.key) == (NOTIFY_CASES, b"cust-1")
    assert headers["ce_id"] == derived_id("case-opened", "m-1").encode()
    assert (headers["ce_type"], headers["ce_time"]) == (
        b"touchstone.notify.v1.CaseEvent",
        T0.isoformat().encode(),
    )
    assert CaseEvent.FromString(out.value).site_id == "hcm-01"


def test_a_redelivery_after_a_restart_repeats_the_same_events_and_opens_nothing_new() -> None:
    store = MemoryNotifyStore()
    batch = [record(lost("m-1"), 0), record(lost("m-2", 1), 1), record(lost("m-3", 2, "v-2"), 2)]
    first = handle(store, *batch)
    again = asyncio.run(OpenRecoveryCases(store).handle(batch))  # a new handler, the same store
    assert first == again
    assert [e.WhichOneof("change") for e in events(first)] == ["opened", "joined", "opened"]
    assert len(store.cases) == 2


def test_the_response_window_comes_from_the_handlers_policy() -> None:
    policy = RecoveryPolicy(respond_within=timedelta(minutes=2))
    (opened,) = events(handle(MemoryNotifyStore(), record(lost("m-1")), policy=policy))
    assert to_datetime(opened.opened.due_at) == T0 + timedelta(minutes=2)


def test_garbage_is_dead_lettered_with_its_bytes_and_the_lost_moment_still_opens() -> None:
    store = MemoryNotifyStore()
    dead, opened, *raised = handle(store, record(b"\xff\xff", 0), record(lost("m-1"), 1))
    assert (dead.topic, dead.value, dead.key) == (NOTIFY_DLQ, b"\xff\xff", b"cust-1")
    assert dict(dead.headers)["dlq_reason"].startswith(b"not a MomentScored")
    assert opened.topic == NOTIFY_CASES and list(store.cases) == [CASE]
    assert {r.topic for r in raised} == {NOTIFY_TASKS}


def test_a_lost_moment_with_an_impossible_time_is_dead_lettered_and_opens_nothing() -> None:
    store = MemoryNotifyStore()
    event = MomentScored.FromString(lost("m-1"))
    event.occurred_at.seconds = 2**62
    (out,) = handle(store, record(event.SerializeToString()))
    assert out.topic == NOTIFY_DLQ
    assert dict(out.headers)["dlq_reason"] == b"occurred_at is not a valid timestamp"
    assert store.cases == {}


def test_an_opened_case_raises_a_task_for_each_step_people_do() -> None:
    out = handle(MemoryNotifyStore(), record(lost("m-1")))
    (opened,) = events(out)
    people = [s for s in opened.opened.steps if s.owner != "system"]
    raised = tasks(out)
    assert [(t.task.n, t.task.action, t.task.owner) for t in raised] == [
        (s.n, s.action, s.owner) for s in people
    ]
    assert {t.task.state for t in raised} == {TASK_STATE_OPEN}
    assert {t.task.reason for t in raised} == {"step"}
    assert {t.task.case_id for t in raised} == {CASE}
    assert len({t.event_id for t in raised}) == len({t.task.task_id for t in raised}) == len(people)


def test_a_joining_moment_raises_no_new_tasks() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1")))
    out = handle(store, record(lost("m-2", 4), 1))
    assert tasks(out) == []


def valued(moment_id: str, minor: int, currency: str = "VND") -> bytes:
    """Loyalty's ValueUpdated for a lost moment it valued."""
    update = ValueUpdated(event_id=f"v-{moment_id}")
    update.at_risk.moment_id = moment_id
    update.at_risk.currency = currency
    update.at_risk.value_at_risk_minor = minor
    return update.SerializeToString()


def test_a_lost_moment_loyalty_values_highly_goes_to_the_duty_manager_at_once() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1")))
    handle(store, record(valued("m-1", 35_000_000), 0, LOYALTY_VALUES))
    (escalated,) = [e.escalated for e in events(store.outbox)]
    assert (escalated.reason, escalated.value_at_risk_minor) == ("value_at_risk", 35_000_000)
    (task,) = tasks(store.outbox)
    assert (task.task.owner, task.task.action) == ("duty_manager", "step_in")


def test_a_modest_value_at_risk_stays_with_the_playbook() -> None:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1")), record(valued("m-1", 24_000_000), 1, LOYALTY_VALUES))
    assert store.outbox == []
    case = asyncio.run(store.get_case(CASE))
    assert (case.value_at_risk_minor, case.currency) == (24_000_000, "VND")


def test_a_value_update_that_does_not_parse_is_dead_lettered() -> None:
    (dead,) = handle(MemoryNotifyStore(), record(b"\xff\xff", 0, LOYALTY_VALUES))
    assert dead.topic == NOTIFY_DLQ
    assert dict(dead.headers)["dlq_reason"].startswith(b"not a ValueUpdated")


def test_a_case_moved_to_an_earlier_loss_tells_its_whole_new_plan_as_tasks() -> None:
    """The duty manager's step for the case's value moves with it, so it is told again with
    the new plan (the steps a move takes off are told cancelled: the store contract shows
    which those are)."""
    store = MemoryNotifyStore()
    handle(store, record(lost("m-2", 5)))
    handle(store, record(valued("m-2", 35_000_000), 0, LOYALTY_VALUES))
    out = handle(store, record(lost("m-1", 0), 2))  # earlier, heard later: opens the case
    (opened,) = events(out)
    assert opened.opened.moment_id == "m-1"
    case = asyncio.run(store.get_case(CASE))
    people = [(s.n, s.action) for s in case.steps if s.owner != "system"]
    assert ("step_in" in {action for _, action in people}) and len(people) > 1
    told = [(t.task.n, t.task.action) for t in tasks(out) if t.task.state == TASK_STATE_OPEN]
    assert told == people
