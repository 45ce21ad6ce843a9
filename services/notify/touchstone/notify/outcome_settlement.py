"""Settling outcomes: the cases a batch's news could move, decided again (recovery.py's rule),
what changed, and what is told: each case that became recovered (or whose recovering sign
changed), or stays recovered while a lost moment just joined it, and the tasks of every case
whose outcome moved (they open again, or are cancelled).

Decided here, stored elsewhere: a store loads each case with the facts the rule reads and the
customer group's later wins that could count, hands them to the decision, and writes what it
decides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from touchstone.notify.domain import CaseOutcome, Win
from touchstone.notify.playbooks import PlannedStep
from touchstone.notify.recovery import CaseFacts, KeptOutcome, decide_outcome, kept_as
from touchstone.notify.rows import CaseRow
from touchstone.notify.tasks import task_records
from touchstone.platform.messaging.topics import Outgoing

APOLOGY = "apologise"  # the step whose doing is the case's apology

OutcomeEvent = Callable[[CaseOutcome], Outgoing]


@dataclass(frozen=True)
class HeldOutcome:
    """A case as a store holds it, with what its outcome is decided from."""

    case: CaseRow  # as kept: its status, what recovered it, its steps, who resolved it
    last_lost_at: datetime  # its latest lost moment
    lost_at: datetime | None  # when the clock closed it as lost, if it did
    signs: tuple[Win, ...]  # the customer group's later wins that could count (a store may
    # bound them: the first from another visit, and the first feedback and clean visits at the
    # case's site are all the rule reads)


@dataclass(frozen=True)
class OutcomeSettlement:
    """Every case decided, as it is to be kept; those whose outcome moved; what is told."""

    decided: tuple[tuple[CaseOutcome, KeptOutcome], ...]
    moved: frozenset[str]
    records: tuple[Outgoing, ...]


SettleOutcomes = Callable[[Sequence[HeldOutcome], Sequence[str]], OutcomeSettlement]


def settling(event: OutcomeEvent) -> SettleOutcomes:
    """The decision a store applies to the cases it holds and the lost moments just joined;
    event makes a recovered case's record."""

    def decide(held: Sequence[HeldOutcome], joined: Sequence[str]) -> OutcomeSettlement:
        decided = []
        for h in held:
            if h.case.resolved_by:  # confirmed by staff: final
                continue
            facts = facts_of(h)
            outcome = decide_outcome(facts, h.signs)
            decided.append((outcome, kept_as(facts, outcome)))
        was = {h.case.case_id: h.case for h in held}
        moved = {
            o.case_id
            for o, _ in decided
            if outcome_key(o) != (was[o.case_id].status, was[o.case_id].recovered_by)
        }
        outcomes = [o for o, _ in decided]
        records = [event(o) for o in outcomes_to_tell(outcomes, moved, joined)]
        for outcome, kept in decided:
            if outcome.case_id in moved:
                now = as_kept(was[outcome.case_id], outcome, kept)
                records.extend(task_records(now, now.recovered_at or now.opened_at))
        return OutcomeSettlement(tuple(decided), frozenset(moved), tuple(records))

    return decide


def facts_of(held: HeldOutcome) -> CaseFacts:
    """What the rule reads of a held case."""
    case = held.case
    return CaseFacts(
        case.case_id,
        case.customer_id,
        case.site_id,
        case.visit_id,
        case.status,
        case.moment_ids,
        held.last_lost_at,
        held.lost_at,
        apologised_at(case.steps),
    )


def apologised_at(steps: Sequence[PlannedStep]) -> datetime | None:
    """When the case's apology was made: its first apologise step done, None until then."""
    done = [s.taken_at for s in steps if s.action == APOLOGY and s.status == "done" and s.taken_at]
    return min(done, default=None)


def as_kept(case: CaseRow, outcome: CaseOutcome, kept: KeptOutcome) -> CaseRow:
    """The case with its decided outcome: its status, what recovered it, its first return."""
    recovered_at, recovered_by = kept.recovered_by or (None, "")
    returned_at, returned_by = kept.returned_by or (None, "")
    return replace(
        case,
        status=outcome.status,
        recovered_at=recovered_at,
        recovered_by=recovered_by,
        returned_at=returned_at,
        returned_by=returned_by,
    )


def outcome_key(outcome: CaseOutcome) -> tuple[str, str]:
    """What a case's outcome changes when it moves: its status and what recovered it."""
    win = outcome.recovered_by if outcome.status == "recovered" else None
    return outcome.status, win.moment_id if win else ""


def outcomes_to_tell(
    outcomes: Sequence[CaseOutcome], moved: set[str], joined: Sequence[str]
) -> list[CaseOutcome]:
    """The recovered cases to announce: those that just became recovered (or whose recovering
    win changed), and those still recovered that a lost moment just joined."""
    new = set(joined)
    return [
        o
        for o in outcomes
        if o.status == "recovered"
        and o.recovered_by is not None
        and (o.case_id in moved or new & set(o.moment_ids))
    ]
