"""Staff acting on a case (docs/domain.md §9): acknowledging or completing one of its steps, and
confirming it recovered. Each step only moves forward (pending, acknowledged, done), a case
closed as lost takes no step, a confirmation counts once, and staff's note is not kept on an
erased customer's case.

Decided here, stored elsewhere: a store locks and loads the case (and whether its customer is
erased), hands it to the decision, and writes what it decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from touchstone.notify.domain import CaseClosed, UnknownStep, note_kept, step_moves
from touchstone.notify.playbooks import PlannedStep
from touchstone.notify.rows import CaseRow, StepCommand
from touchstone.notify.tasks import task_records
from touchstone.platform.messaging.topics import Outgoing

StepEvent = Callable[[CaseRow, PlannedStep, StepCommand, datetime], Outgoing]
ResolveEvent = Callable[[CaseRow, datetime], Outgoing]  # the resolved case, when


@dataclass(frozen=True)
class StepTaken:
    """A step moved forward: the step as it now is, the note kept, and what is told."""

    step: PlannedStep
    note: str
    records: tuple[Outgoing, ...]  # the command's event, and the step's task as it now is


@dataclass(frozen=True)
class Resolution:
    """A case confirmed recovered by staff: the case as it now is, the note kept, what is told."""

    case: CaseRow
    resolved_at: datetime  # when staff confirmed it
    note: str
    records: tuple[Outgoing, ...]  # CaseRecovered, and the case's tasks as they now are


TakeStep = Callable[[CaseRow, bool], StepTaken | None]  # the case, its customer erased
Resolve = Callable[[CaseRow, bool], Resolution | None]


def taking(command: StepCommand, at: datetime, event: StepEvent) -> TakeStep:
    """The decision a store applies to the case the command names: the step taken, or None
    when it would not move (taken that far already). CaseClosed or UnknownStep if it cannot be
    taken."""

    def decide(case: CaseRow, erased: bool) -> StepTaken | None:
        if case.status == "lost":
            raise CaseClosed(f"case {case.case_id} was closed as lost")
        step = next((s for s in case.steps if s.n == command.n), None)
        if step is None:
            raise UnknownStep(f"case {case.case_id} has no step {command.n}")
        if not step_moves(step.status, command.completed):
            return None
        kept = replace(command, note=note_kept(command.note, erased))
        status = "done" if command.completed else "acknowledged"
        moved = replace(step, status=status, taken_by=command.by, taken_at=at)
        now = replace(case, steps=tuple(moved if s.n == step.n else s for s in case.steps))
        told = (event(case, step, kept, at), *task_records(now, at, step.n))
        return StepTaken(moved, kept.note, told)

    return decide


def resolving(by: str, note: str, at: datetime, event: ResolveEvent) -> Resolve:
    """The decision a store applies to the case staff confirm recovered: the case recovered
    (when a win recovered it already, then; otherwise now), by them; None if staff confirmed
    it before."""

    def decide(case: CaseRow, erased: bool) -> Resolution | None:
        if case.resolved_by:
            return None
        recovered_at = case.recovered_at or at
        resolved = replace(case, status="recovered", resolved_by=by, recovered_at=recovered_at)
        told = (event(resolved, at), *task_records(resolved, at))
        return Resolution(resolved, at, note_kept(note, erased), told)

    return decide
