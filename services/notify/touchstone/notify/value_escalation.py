"""Escalation for value (docs/domain.md §9): an open case whose lost moments put at least the
policy's escalate_at_risk at stake goes to the duty manager at once: a step_in step is added
after its plan, due when the case is, and told with its task, once.

Decided here, stored elsewhere: a store loads the open cases a batch's values or lost moments
reach (not yet escalated for their value, locked), hands them to the decision, and writes what
it decides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from touchstone.notify.codec import case_escalated
from touchstone.notify.domain import case_value, escalates_for_value
from touchstone.notify.openings import VALUE_STEP
from touchstone.notify.playbooks import PlannedStep, RecoveryPolicy
from touchstone.notify.rows import CaseRow
from touchstone.notify.tasks import task_records
from touchstone.platform.messaging.topics import Outgoing

VALUE_STEP_OWNER = "duty_manager"
VALUE_STEP_CHANNEL = "in_person"


@dataclass(frozen=True)
class WeighedCase:
    """A case a value or a lost moment reached, as a store reads it to be weighed."""

    case: CaseRow  # with its steps
    totals: Mapping[str, int]  # what its valued lost moments put at risk, by currency
    tipped_at: datetime  # when the latest of its valued lost moments happened
    escalated_for_value: bool  # already sent to the duty manager for its value


@dataclass(frozen=True)
class ValueEscalation:
    """A case sent to the duty manager for its value: the step added, and what is told."""

    case_id: str
    step: PlannedStep
    records: tuple[Outgoing, ...]  # CaseEscalated, and the new step's task


Escalate = Callable[[Sequence[WeighedCase]], list[ValueEscalation]]


def value_escalations(policy: RecoveryPolicy) -> Escalate:
    """The decision a store applies to the cases it weighs, under the policy."""

    def decide(cases: Sequence[WeighedCase]) -> list[ValueEscalation]:
        return [e for c in cases if (e := escalation_of(c, policy)) is not None]

    return decide


def escalation_of(weighed: WeighedCase, policy: RecoveryPolicy) -> ValueEscalation | None:
    """The case's escalation for its value, once and while it is open; None while its value
    stays under the threshold (or nothing of it was valued)."""
    if weighed.case.status != "open" or weighed.escalated_for_value:
        return None
    value = case_value(weighed.totals)
    if value is None or not escalates_for_value(value, policy):
        return None
    case = weighed.case
    last = max((s.n for s in case.steps), default=0)
    step = PlannedStep(last + 1, VALUE_STEP, VALUE_STEP_OWNER, VALUE_STEP_CHANNEL, case.due_at)
    escalated = replace(case, steps=(*case.steps, step))
    at = weighed.tipped_at
    told = (case_escalated(escalated, step, at, value), *task_records(escalated, at, step.n))
    return ValueEscalation(case.case_id, step, told)
