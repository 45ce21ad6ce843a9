"""Staff commands: given an open case → when staff acknowledge, complete a step or confirm the
customer won back → then the case changes once, its event waits in the outbox, and a bad
command is refused naming its field."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import grpc
import pytest

from tests.builders import record
from tests.fakes.notify import MemoryNotifyStore
from tests.unit.test_contacts_ingest_api import Aborted, call, violations
from tests.unit.test_notify_recovery import events, handle, lost, tasks, valued
from touchstone.notify.api import NotifyApi
from touchstone.notify.domain import case_id_for
from touchstone.notify.v1 import notify_service_pb2 as pb
from touchstone.notify.v1.events_pb2 import (
    CASE_STATUS_RECOVERED,
    TASK_STATE_CANCELLED,
    TASK_STATE_DONE,
    TASK_STATE_OPEN,
    CaseEvent,
)
from touchstone.platform.messaging.topics import LOYALTY_VALUES

CASE = case_id_for("cust-1", "visit-1")
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def a_case() -> tuple[MemoryNotifyStore, NotifyApi]:
    store = MemoryNotifyStore()
    handle(store, record(lost("m-1")))
    return store, NotifyApi(store, clock=lambda: NOW)


def published(store: MemoryNotifyStore) -> list[CaseEvent]:
    """The case events in notify's outbox (the rest are the tasks they change)."""
    return events(store.outbox)


def test_acknowledging_then_completing_a_step_moves_it_once_each() -> None:
    store, api = a_case()
    command = pb.StepCommand(case_id=CASE, n=1, by="lan@hcm-01", note="said sorry at the door")
    acknowledged = call(api.AcknowledgeStep, command)
    assert (acknowledged.steps[0].status, acknowledged.steps[0].taken_by) == (
        "acknowledged",
        "lan@hcm-01",
    )
    call(api.AcknowledgeStep, command)  # again: nothing new
    done = call(api.CompleteStep, command)
    assert done.steps[0].status == "done" and done.steps[1].status == "pending"
    call(api.AcknowledgeStep, command)  # a done step is not taken back
    taken = [e.step_taken for e in published(store)]
    assert [(t.n, t.completed, t.by) for t in taken] == [
        (1, False, "lan@hcm-01"),
        (1, True, "lan@hcm-01"),
    ]
    # staff's note stays in notify (GetCase): the topic is kept forever
    assert taken[0].note == "" and taken[0].at.ToDatetime(UTC) == NOW
    step_tasks = [t.task for t in tasks(store.outbox)]
    assert [(t.n, t.state, t.taken_by) for t in step_tasks] == [
        (1, TASK_STATE_OPEN, "lan@hcm-01"),
        (1, TASK_STATE_DONE, "lan@hcm-01"),
    ]


def test_staff_confirming_recovery_closes_the_case_for_good() -> None:
    store, api = a_case()
    resolve = pb.ResolveCaseRequest(case_id=CASE, by="duty-manager", note="came back, happy")
    resolved = call(api.ResolveCase, resolve)
    assert (resolved.status, resolved.resolved_by) == (CASE_STATUS_RECOVERED, "duty-manager")
    call(api.ResolveCase, pb.ResolveCaseRequest(case_id=CASE, by="someone-else"))  # once
    (event,) = published(store)
    assert (event.recovered.how, event.recovered.by) == ("staff", "duty-manager")
    assert event.recovered.note == ""  # kept in notify, not told on the topic
    assert event.recovered.recovered_at.ToDatetime(UTC) == NOW
    assert list(event.recovered.moment_ids) == ["m-1"]
    cancelled = tasks(store.outbox)
    assert cancelled and {t.task.state for t in cancelled} == {TASK_STATE_CANCELLED}
    handle(store, record(lost("m-2", 30), 1))  # a later lost moment does not reopen it
    assert asyncio.run(store.get_case(CASE)).status == "recovered"


@pytest.mark.parametrize(
    ("command", "fields"),
    [
        (pb.StepCommand(), ["case_id", "by", "n"]),
        (pb.StepCommand(case_id=CASE, n=1, by="x", note="y" * 2001), ["note"]),
    ],
)
def test_a_bad_step_command_names_every_field_at_fault(command, fields) -> None:
    _, api = a_case()
    with pytest.raises(Aborted) as refused:
        call(api.CompleteStep, command)
    assert refused.value.status.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [field for field, _ in violations(refused.value)] == fields


def test_an_unknown_case_or_step_is_not_found() -> None:
    _, api = a_case()
    for command in (
        pb.StepCommand(case_id="no-such-case", n=1, by="x"),
        pb.StepCommand(case_id=CASE, n=9, by="x"),
    ):
        with pytest.raises(Aborted) as refused:
            call(api.AcknowledgeStep, command)
        assert refused.value.status.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(Aborted) as refused:
        call(api.ResolveCase, pb.ResolveCaseRequest(case_id="no-such-case", by="x"))
    assert refused.value.status.code == grpc.StatusCode.NOT_FOUND


def test_control_figures_for_impossible_days_name_the_fields() -> None:
    _, api = a_case()
    with pytest.raises(Aborted) as refused:
        call(
            api.GetControlFigures,
            pb.GetControlFiguresRequest(first_day="2026-11-31", last_day="yesterday"),
        )
    assert [field for field, _ in violations(refused.value)] == ["last_day", "first_day"]
    with pytest.raises(Aborted) as backwards:
        call(
            api.GetControlFigures,
            pb.GetControlFiguresRequest(first_day="2026-11-21", last_day="2026-11-20"),
        )
    assert violations(backwards.value) == [("first_day", "must not be after last_day")]


def test_listing_cases_by_value_at_risk_passes_the_floor_on_and_refuses_a_negative_one() -> None:
    store, api = a_case()
    handle(store, record(valued("m-1", 24_000_000), 1, LOYALTY_VALUES))
    worth = call(api.ListCases, pb.ListCasesRequest(min_value_at_risk_minor=20_000_000))
    assert [c.case_id for c in worth.cases] == [CASE]
    assert worth.cases[0].value_at_risk_minor == 24_000_000
    more = call(api.ListCases, pb.ListCasesRequest(min_value_at_risk_minor=30_000_000))
    assert more.total == 0
    with pytest.raises(Aborted) as refused:
        call(api.ListCases, pb.ListCasesRequest(min_value_at_risk_minor=-1))
    assert violations(refused.value) == [("min_value_at_risk_minor", "must not be negative")]
