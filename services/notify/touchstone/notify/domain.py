"""Notify's rules: every lost moment opens or joins its visit's recovery case, due fast
(docs/domain.md §9); what recovers it is services/notify/touchstone/notify/recovery.py's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from touchstone.notify.overdue import win_too_late
from touchstone.notify.playbooks import DEFAULT_POLICY, PlannedStep, RecoveryPolicy
from touchstone.platform.runtime.ids import derived_id
from touchstone.shared_kernel.broken import Broken

NOTHING_NAMED = Broken((), "personal", Decimal(1))  # a lose that names no standard


@dataclass(frozen=True)
class LostMoment:
    """A moment of truth scored LOSE."""

    moment_id: str
    customer_id: str
    visit_id: str
    site_id: str
    stage: str
    reason: str
    occurred_at: datetime
    journey_map: str = ""
    broken: Broken = NOTHING_NAMED  # what it broke


@dataclass(frozen=True)
class CaseOpening:
    """The case a lost moment opens if its visit has none yet."""

    case_id: str
    customer_id: str
    visit_id: str
    site_id: str
    opening_moment_id: str
    stage: str
    reason: str
    opened_at: datetime
    due_at: datetime
    playbook: str = ""  # the playbook its opening moment picked
    steps: tuple[PlannedStep, ...] = ()  # laid out from the opening moment


def case_id_for(customer_id: str, visit_id: str) -> str:
    """One case per customer visit: the id follows from the visit alone."""
    return derived_id("case", customer_id, visit_id)


def opening_for(
    moment: LostMoment,
    policy: RecoveryPolicy = DEFAULT_POLICY,
    playbook: str = "",
    steps: tuple[PlannedStep, ...] = (),
) -> CaseOpening:
    """The case this lost moment would open: due respond_within after the moment (event time),
    with the playbook's steps laid out."""
    return CaseOpening(
        case_id=case_id_for(moment.customer_id, moment.visit_id),
        customer_id=moment.customer_id,
        visit_id=moment.visit_id,
        site_id=moment.site_id,
        opening_moment_id=moment.moment_id,
        stage=moment.stage,
        reason=moment.reason,
        opened_at=moment.occurred_at,
        due_at=moment.occurred_at + policy.respond_within,
        playbook=playbook,
        steps=steps,
    )


@dataclass(frozen=True)
class Win:
    """Something good of the customer's after a loss: a moment scored WIN, positive feedback, or
    a visit that ended with no lost moment (services/notify/touchstone/notify/recovery.py says
    which recover)."""

    moment_id: str  # the moment's id, the feedback touchpoint's, or the visit completion's
    customer_id: str
    occurred_at: datetime  # the moment's or feedback's time; a visit's first contact
    how: str = "win"  # win | feedback | visit
    site_id: str = ""
    visit_id: str = ""


@dataclass(frozen=True)
class CaseOutcome:
    """A case's outcome as its facts decide it."""

    case_id: str
    customer_id: str
    moment_ids: tuple[str, ...]  # its lost moments, in event time
    was: str  # status kept before
    recovered_by: Win | None  # what showed its recovery worked (recovery.decide_outcome)
    lost_at: datetime | None = None  # when it was lost, if the clock closed it as lost
    site_id: str = ""
    returned_by: Win | None = None  # the customer's first later win from another visit

    @property
    def status(self) -> str:
        """Recovered once a win followed its last lost moment; open again if a later lost moment
        joined; a case closed as lost stays lost unless the win came within its window."""
        win = self.recovered_by
        if win is None or (self.was == "lost" and win_too_late(win.occurred_at, self.lost_at)):
            return "lost" if self.was == "lost" else "open"
        return "recovered"


class CommandRefused(Exception):
    """A staff command that cannot be carried out, and why."""


class UnknownCase(CommandRefused):
    """No such case."""


class UnknownStep(CommandRefused):
    """The case has no step with that number."""


class CaseClosed(CommandRefused):
    """The case was closed as lost: nothing more is done on it."""


STEP_ORDER = ("pending", "acknowledged", "done")


def step_moves(status: str, completed: bool) -> bool:
    """Whether acknowledging (or completing) a step in this status moves it forward."""
    wanted = "done" if completed else "acknowledged"
    return STEP_ORDER.index(wanted) > STEP_ORDER.index(status)


@dataclass(frozen=True)
class MomentValue:
    """What a lost moment put at risk, as loyalty valued it."""

    moment_id: str
    currency: str
    value_at_risk_minor: int


@dataclass(frozen=True)
class CaseValue:
    """What a case's lost moments put at risk together, in its currency."""

    currency: str
    minor: int


def case_value(totals: Mapping[str, int]) -> CaseValue | None:
    """A case's value at risk from its totals by currency: the largest (a customer pays in one
    currency; should two appear, the larger speaks for the case). None if nothing was valued."""
    if not totals:
        return None
    currency = max(sorted(totals), key=lambda c: totals[c])
    return CaseValue(currency, totals[currency])


def escalates_for_value(value: CaseValue | None, policy: RecoveryPolicy) -> bool:
    """docs/domain.md §9: a high-value complaint goes to the duty manager, at once."""
    threshold = policy.escalate_at_risk.get(value.currency) if value else None
    return value is not None and threshold is not None and value.minor >= threshold


def note_kept(note: str, customer_erased: bool) -> str:
    """Staff's free text as it may be kept and told: none on an erased customer's case (it may
    say anything about them; FORGET_NOTES drops what was written before the erasure)."""
    return "" if customer_erased else note
