"""WatchCases and WatchTasks filters: given a request → then which published events it wants,
and a bad owner is refused naming the field."""

from __future__ import annotations

import pytest

from touchstone.notify.api import cases_wanted, tasks_wanted
from touchstone.notify.v1 import notify_service_pb2 as pb
from touchstone.notify.v1.events_pb2 import (
    CaseEvent,
    CaseLost,
    StepTaken,
    Task,
    TaskEvent,
)
from touchstone.platform.serving.rpc import InvalidArgument

TAKEN = CaseEvent(event_id="e1", site_id="hcm-01", step_taken=StepTaken(case_id="case-1", n=1))
LOST = CaseEvent(event_id="e2", site_id="hn-02", lost=CaseLost(case_id="case-2"))


def test_watching_cases_filters_by_site_and_by_case_whatever_the_change() -> None:
    every = cases_wanted(pb.WatchCasesRequest())
    assert every(TAKEN) and every(LOST)
    site = cases_wanted(pb.WatchCasesRequest(site_id="hcm-01"))
    assert site(TAKEN) and not site(LOST)
    case = cases_wanted(pb.WatchCasesRequest(case_id="case-2"))
    assert case(LOST) and not case(TAKEN)


def test_watching_tasks_filters_by_site_and_owner() -> None:
    staff = TaskEvent(task=Task(site_id="hcm-01", owner="staff"))
    duty = TaskEvent(task=Task(site_id="hcm-01", owner="duty_manager"))
    elsewhere = TaskEvent(task=Task(site_id="hn-02", owner="duty_manager"))
    mine = tasks_wanted(pb.WatchTasksRequest(site_id="hcm-01", owner="duty_manager"))
    assert [mine(t) for t in (staff, duty, elsewhere)] == [False, True, False]


def test_watching_tasks_for_an_unknown_owner_is_refused() -> None:
    with pytest.raises(InvalidArgument) as refused:
        tasks_wanted(pb.WatchTasksRequest(owner="robot"))
    assert [field for field, _ in refused.value.violations] == ["owner"]
