"""When a case is recovered: the recovery was done and the customer shows it worked.

docs/domain.md §9: recovery is apologising, fixing it, asking the customer's opinion and
correcting the cause; §7: a customer whose complaint is resolved stays. So a win alone is not a
recovery: a prompt greeting at another store three days after a rude call says nothing of the
call. A case is recovered (the playbooks file's `recovery` section says the same):
  - when staff confirm it (ResolveCase: decided by the command, not here), or
  - once its apology has been made (an apologise step done), by the first of
      - the customer's positive feedback at the case's site after the apology, or
      - a visit of the customer's to the case's site that began after the apology and
        ended with no lost moment (journey's VisitCompleted with no losses).
Any later win of the customer that does not meet this is kept on the case as the customer
returning (returned_by): they came back, but nothing shows the recovery worked, and loyalty
keeps the unrecovered departure rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from touchstone.notify.domain import CaseOutcome, Win

SIGNS_OF_RECOVERY = frozenset({"feedback", "visit"})  # Win.how: what may show recovery worked


@dataclass(frozen=True)
class CaseFacts:
    """What decides a case's outcome: where and when it went wrong, and when it apologised."""

    case_id: str
    customer_id: str
    site_id: str
    visit_id: str
    was: str  # its status as kept
    moment_ids: tuple[str, ...]  # its lost moments, in event time
    last_lost_at: datetime
    lost_at: datetime | None = None  # when the clock closed it as lost, if it did
    apologised_at: datetime | None = None  # when its first apologise step was done


def shows_recovery(case: CaseFacts, sign: Win) -> bool:
    """Whether the sign shows the case's recovery worked: positive feedback, or a visit with
    no lost moment, at the case's site, after its last lost moment and after its apology."""
    return (
        case.apologised_at is not None
        and sign.how in SIGNS_OF_RECOVERY
        and sign.site_id == case.site_id
        and sign.occurred_at > case.last_lost_at
        and sign.occurred_at >= case.apologised_at
    )


def decide_outcome(case: CaseFacts, later: Iterable[Win]) -> CaseOutcome:
    """The case's outcome from the customer's later wins, feedback and clean visits (any order;
    the earliest that shows recovery recovers it, the earliest from another visit is the
    customer returning)."""
    signs = sorted(
        (w for w in later if w.occurred_at > case.last_lost_at),
        key=lambda w: (w.occurred_at, w.moment_id),
    )
    recovering = next((w for w in signs if shows_recovery(case, w)), None)
    returned = next((w for w in signs if w.visit_id != case.visit_id), None)
    return CaseOutcome(
        case.case_id,
        case.customer_id,
        case.moment_ids,
        case.was,
        recovering,
        case.lost_at,
        case.site_id,
        returned_by=returned,
    )


@dataclass(frozen=True)
class KeptOutcome:
    """A case's outcome as kept, beside the facts it was decided from: what may_move reads."""

    case: CaseFacts
    recovered_by: tuple[datetime, str] | None  # the sign that recovered it (time, moment id)
    returned_by: tuple[datetime, str] | None  # its first later win from another visit


def may_move(kept: KeptOutcome, wins: Iterable[Win]) -> bool:
    """Whether news could change a case's kept outcome (decide_outcome reads every later win,
    but only the earliest of each kind counts): a new win after its last lost moment that
    would be its first return from another visit or its earliest sign of recovery. A case
    apologised and not recovered is decided again on any news of its customer, as before: its
    apology may have come after a sign it was kept without. (A lost moment joining it, or a
    merge, decides it again whatever this says.)"""
    case = kept.case
    if case.apologised_at is not None and kept.recovered_by is None:
        return True
    for win in wins:
        if win.occurred_at <= case.last_lost_at:
            continue
        at = (win.occurred_at, win.moment_id)
        if win.visit_id != case.visit_id and (kept.returned_by is None or at < kept.returned_by):
            return True
        if shows_recovery(case, win) and (kept.recovered_by is None or at < kept.recovered_by):
            return True
    return False


def kept_as(case: CaseFacts, outcome: CaseOutcome) -> KeptOutcome:
    """The decided outcome as the store keeps it: the sign that recovered it only while it
    counts (a case closed as lost keeps none recovered too late), and its first return."""
    win = outcome.recovered_by if outcome.status == "recovered" else None
    back = outcome.returned_by
    return KeptOutcome(
        case,
        (win.occurred_at, win.moment_id) if win else None,
        (back.occurred_at, back.moment_id) if back else None,
    )


def moves_until(kept: KeptOutcome) -> datetime | None:
    """The latest time of a win that could still change the kept outcome (deciding again with
    any later wins keeps it as it is), None if a win at any time could: a case not yet returned
    waits for its first return, one apologised and not recovered for its first sign (until its
    deadline, once the clock closed it as lost). The store keeps it beside the outcome and
    reads only the cases news could reach; an apology changes it (a step taken forgets it until
    the case is decided again)."""
    case = kept.case
    if kept.returned_by is None:
        return None
    returned_at = kept.returned_by[0]
    if kept.recovered_by is not None:
        return max(returned_at, kept.recovered_by[0])
    if case.apologised_at is None:
        return returned_at  # no sign recovers it before its apology
    if case.was == "lost" and case.lost_at is not None:
        return max(returned_at, case.lost_at)  # a sign after its deadline does not recover it
    return None
