"""The staff task feed (notify.tasks.v1): each staff or duty-manager step of a case is a task
for the people at its site, and an escalated step is a further task for the duty manager. Each
time a case changes, its tasks are published as they now are, keyed by site."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from touchstone.notify.codec import SOURCE
from touchstone.notify.playbooks import PEOPLE, PlannedStep
from touchstone.notify.rows import CaseRow
from touchstone.notify.v1 import events_pb2 as pb
from touchstone.platform.messaging.topics import NOTIFY_TASKS, Outgoing, cloudevent_headers
from touchstone.platform.runtime.ids import derived_id
from touchstone.platform.runtime.prototime import to_timestamp

TASK_EVENT_TYPE = "touchstone.notify.v1.TaskEvent"
TASK_STATE_NAMES = {
    pb.TASK_STATE_OPEN: "open",
    pb.TASK_STATE_DONE: "done",
    pb.TASK_STATE_CANCELLED: "cancelled",
}


def task_id_for(case_id: str, n: int, reason: str) -> str:
    """A task's id follows from its case, its step and why it exists."""
    return derived_id("task", case_id, str(n), reason)


def tasks_of(case: CaseRow, only_step: int | None = None) -> Iterator[pb.Task]:
    """The case's tasks as they are now (or only one step's): one per step people do, one more
    for the duty manager per escalated step. Done with its step; cancelled once the case is
    closed, or once a move of its opening took the step off."""
    for step in case.steps:
        if only_step is not None and step.n != only_step:
            continue
        if step.status == "done":
            yield from _tasks(case, step, pb.TASK_STATE_DONE)
        else:
            open_now = case.status == "open"
            yield from _tasks(
                case, step, pb.TASK_STATE_OPEN if open_now else pb.TASK_STATE_CANCELLED
            )
    for step in case.withdrawn:
        if only_step is None or step.n == only_step:
            yield from _tasks(case, step, pb.TASK_STATE_CANCELLED)


def _tasks(case: CaseRow, step: PlannedStep, state: pb.TaskState) -> Iterator[pb.Task]:
    if step.owner not in PEOPLE:
        return
    reasons = [("step", step.owner)]
    if step.escalated:
        reasons.append(("overdue_step", "duty_manager"))
    for reason, owner in reasons:
        yield pb.Task(
            task_id=task_id_for(case.case_id, step.n, reason),
            case_id=case.case_id,
            site_id=case.site_id,
            n=step.n,
            action=step.action,
            owner=owner,
            channel=step.channel,
            due_at=to_timestamp(step.due_at),
            reason=reason,
            state=state,
            taken_by=step.taken_by,
        )


def task_records(
    case: CaseRow,
    at: datetime,
    only_step: int | None = None,
) -> list[Outgoing]:
    """The case's tasks (or only one step's) as records on notify.tasks.v1. An event's id
    follows from what it says and how many lost moments the case had when told (none when it
    opens), so the same change told again after a restart is a duplicate, while a task reopened
    by a later loss is news. Each event is the task as it now is: keep the latest per task_id."""
    records = []
    for task in tasks_of(case, only_step):
        state = TASK_STATE_NAMES[task.state]
        version = str(len(case.moment_ids))
        event_id = derived_id("task-event", task.task_id, state, task.taken_by, version)
        event = pb.TaskEvent(event_id=event_id, task=task)
        headers = cloudevent_headers(
            event_id=event_id, source=SOURCE, type_=TASK_EVENT_TYPE, time=at
        )
        records.append(
            Outgoing(NOTIFY_TASKS, case.site_id.encode(), event.SerializeToString(), headers)
        )
    return records
