"""Notify's rows: a case as stored, the filters to list cases by, and staff commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from touchstone.notify.playbooks import PlannedStep


@dataclass(frozen=True)
class DeliveryRow:
    """A delivery of a case as it stands."""

    delivery_id: str
    n: int
    channel: str
    action: str
    status: str
    reason: str
    attempts: int
    sent_at: datetime | None
    language: str


@dataclass(frozen=True)
class CaseRow:
    """A recovery case with its lost moments."""

    case_id: str
    customer_id: str
    visit_id: str
    site_id: str
    status: str
    opening_moment_id: str
    opened_at: datetime
    due_at: datetime
    moment_ids: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    recovered_at: datetime | None = None
    recovered_by: str = ""
    playbook: str = ""
    steps: tuple[PlannedStep, ...] = ()
    resolved_by: str = ""
    value_at_risk_minor: int = 0  # what its lost moments put at risk, as loyalty valued them
    currency: str = ""
    deliveries: tuple[DeliveryRow, ...] = ()
    returned_at: datetime | None = None  # the customer came back, nothing shows it recovered
    returned_by: str = ""
    valued: bool = False  # loyalty has valued its lost moments (perhaps at 0)
    withdrawn: tuple[PlannedStep, ...] = ()  # steps a move of its opening took off: as it was
    # opened or moved just now (open_or_join's answer), with `steps` its whole new plan


@dataclass(frozen=True)
class CaseFilter:
    """Optional filters for listing cases; empty strings mean 'any'."""

    customer_id: str = ""
    site_id: str = ""
    status: str = ""
    owner: str = ""  # open cases with a step this owner has not done (escalated: duty manager)
    overdue_at: datetime | None = None  # open cases with a people's step due before then
    min_value_at_risk_minor: int = 0  # cases whose lost moments put at least this at risk


@dataclass(frozen=True)
class StepCommand:
    """Staff acknowledging (or completing) a step of a case."""

    case_id: str
    n: int
    by: str
    note: str
    completed: bool


@dataclass(frozen=True)
class TimelineRow:
    """One thing that happened to a case."""

    at: datetime
    what: str  # lost_moment, step_due, step_acknowledged, step_done, escalated, message_sent,
    # recovered, resolved, lost
    n: int = 0
    detail: str = ""
