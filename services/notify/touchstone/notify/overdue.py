"""What notify's clock decides (docs/domain.md §9: respond immediately, keep the promised time;
the duty manager steps in): a staff step past its due time is late, and escalated to the duty
manager once it is escalate_after late; a case nothing recovered within lost_after of its last
lost moment is lost.

The clock is the wall clock, read by the sweeper: deadlines are about people acting now, and a
step is late whether or not any event arrives. What it decides is kept as a fact with its event,
like a staff command, so rebuilding cases from the moments does not decide it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from touchstone.notify.playbooks import PEOPLE, RecoveryPolicy


@dataclass(frozen=True)
class StepOnClock:
    """A step of an open case as the clock sees it."""

    case_id: str
    n: int
    owner: str
    due_at: datetime
    status: str  # pending, acknowledged, done
    due_told: bool  # its lateness was told
    escalated: bool


def people_do(step: StepOnClock) -> bool:
    """Staff and duty-manager steps wait on people; the system's own steps are sent by it."""
    return step.owner in PEOPLE and step.status != "done"


def falls_due(step: StepOnClock, now: datetime) -> bool:
    """Its due time has passed, it is not done, and nobody was told yet."""
    return people_do(step) and not step.due_told and step.due_at <= now


def escalates(step: StepOnClock, now: datetime, policy: RecoveryPolicy) -> bool:
    """A staff step still not done escalate_after past its due time, not escalated yet (a duty
    manager's own late step is told as due; there is nobody above them to escalate to)."""
    return (
        step.owner == "staff"
        and people_do(step)
        and not step.escalated
        and step.due_at + policy.escalate_after <= now
    )


def lost_at(last_moment_at: datetime, policy: RecoveryPolicy) -> datetime:
    """When an open case is lost if no win recovers it: lost_after past its last lost moment."""
    return last_moment_at + policy.lost_after


def win_too_late(win_at: datetime, lost_deadline: datetime | None) -> bool:
    """A win after a lost case's deadline does not recover it (one within it, arriving late,
    still does)."""
    return lost_deadline is not None and win_at > lost_deadline
