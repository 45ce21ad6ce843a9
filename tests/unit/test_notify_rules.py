"""Notify's rules: one recovery case per customer visit, opened by its first lost moment."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.builders import T0, moment, record
from tests.fakes.notify import MemoryNotifyStore
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE, VERDICT_UNSCORED, VERDICT_WIN
from touchstone.notify.domain import LostMoment, case_id_for, opening_for
from touchstone.notify.handlers import OpenRecoveryCases
from touchstone.notify.playbooks import RecoveryPolicy
from touchstone.notify.v1.events_pb2 import CaseEvent
from touchstone.platform.messaging.topics import NOTIFY_CASES, NOTIFY_DLQ

LOST = LostMoment("m-1", "cust-1", "visit-1", "hcm-01", "enter_store", "slow", T0)


def test_a_case_is_due_fifteen_minutes_after_the_lost_moment_in_event_time() -> None:
    opening = opening_for(LOST)
    assert (opening.opened_at, opening.due_at) == (T0, T0 + timedelta(minutes=15))
    assert opening.opening_moment_id == "m-1"


def test_the_response_window_is_a_policy() -> None:
    opening = opening_for(LOST, RecoveryPolicy(respond_within=timedelta(minutes=2)))
    assert opening.due_at == T0 + timedelta(minutes=2)


def test_one_visit_is_one_case_whatever_moment_opens_it() -> None:
    assert case_id_for("cust-1", "visit-1") == opening_for(LOST).case_id
    assert case_id_for("cust-1", "visit-2") != case_id_for("cust-1", "visit-1")


def handle(store: MemoryNotifyStore, *records):
    out = asyncio.run(OpenRecoveryCases(store).handle(list(records)))
    return [CaseEvent.FromString(o.value) for o in out if o.topic == NOTIFY_CASES]


def test_a_lost_moment_opens_a_case_and_a_second_in_the_visit_joins_it() -> None:
    store = MemoryNotifyStore()
    first = handle(store, record(moment(VERDICT_LOSE, "m-1"), 0))
    second = handle(store, record(moment(VERDICT_LOSE, "m-2", at=T0 + timedelta(minutes=5)), 1))
    assert first[0].WhichOneof("change") == "opened"
    assert first[0].opened.due_at.ToDatetime(tzinfo=T0.tzinfo) == T0 + timedelta(minutes=15)
    assert second[0].WhichOneof("change") == "joined"
    assert second[0].joined.case_id == first[0].opened.case_id
    assert len(store.cases) == 1


def test_a_lost_moment_in_another_visit_opens_another_case() -> None:
    store = MemoryNotifyStore()
    handle(
        store,
        record(moment(VERDICT_LOSE, "m-1"), 0),
        record(moment(VERDICT_LOSE, "m-2", visit_id="visit-2"), 1),
    )
    assert len(store.cases) == 2


def test_wins_and_unscored_moments_open_nothing() -> None:
    store = MemoryNotifyStore()
    assert handle(store, record(moment(VERDICT_WIN), 0), record(moment(VERDICT_UNSCORED), 1)) == []
    assert store.cases == {}


def test_a_redelivered_batch_repeats_the_same_events_and_opens_no_second_case() -> None:
    store = MemoryNotifyStore()
    batch = [record(moment(VERDICT_LOSE, "m-1"), 0), record(moment(VERDICT_LOSE, "m-2"), 1)]
    first, again = handle(store, *batch), handle(store, *batch)
    assert first == again
    assert [e.WhichOneof("change") for e in first] == ["opened", "joined"]
    assert len(store.cases) == 1


def test_garbage_is_dead_lettered() -> None:
    out = asyncio.run(OpenRecoveryCases(MemoryNotifyStore()).handle([record(b"\xff\xff", 0)]))
    assert [o.topic for o in out] == [NOTIFY_DLQ]
