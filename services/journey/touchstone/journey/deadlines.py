"""Deadlines: standards broken by something that never happens (docs/domain.md §4).

A message left opens a deadline ("reply before the end of the next working day"); the callback
keeps it, or is late; or nothing comes and the deadline passes. Time is event time only: the
clock of the deadline's lane (the input partition of its customer) is the latest event time seen
in that lane, so a replay of the same log breaks the same deadlines at the same logical times,
whatever the wall clock says and however the lanes interleave.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from touchstone.journey.domain import Judgement, Standard
from touchstone.platform.runtime.ids import derived_id
from touchstone.shared_kernel.calendar import BusinessCalendar

DEFAULT_LATENESS = timedelta(minutes=15)  # how late an event may arrive and still count


@dataclass(frozen=True)
class Opening:
    """The moment that may open deadlines: who, where, when, what it measured."""

    moment_id: str
    source_event_id: str
    customer_id: str
    visit_id: str
    site_id: str
    journey_map: str
    stage: str
    occurred_at: datetime
    measurements: Mapping[str, float]
    lane: int = 0  # the input partition its customer's contacts come on


@dataclass(frozen=True)
class Deadline:
    """A standard waiting for a later moment (deadline_until) before due_at."""

    deadline_id: str
    standard_id: str
    customer_id: str
    visit_id: str
    site_id: str
    journey_map: str
    stage: str  # the opening stage
    until_stage: str
    opened_by: str  # the opening moment's id
    source_event_id: str  # the opening touchpoint's id
    opened_at: datetime
    due_at: datetime
    lane: int = 0  # the input partition whose clock decides it: its customer's

    @property
    def broken_moment_id(self) -> str:
        """The id of the lost moment its passing publishes: the same in every replay."""
        return derived_id("deadline-missed", self.deadline_id)


def due_at(standard: Standard, opening: Opening, calendar: BusinessCalendar) -> datetime | None:
    """When the deadline falls; None if a promised deadline carries no promise."""
    if standard.deadline_by == "end_of_next_working_day":
        return calendar.end_of_next_working_day(opening.occurred_at)
    hours = opening.measurements.get(standard.promised_measurement)
    return opening.occurred_at + timedelta(hours=hours) if hours is not None else None


def deadlines_opened(
    opening: Opening, standards: Iterable[Standard], calendar: BusinessCalendar
) -> list[Deadline]:
    """The deadlines a moment opens: one per deadline standard of its map and stage."""
    opened = []
    for standard in standards:
        if not standard.is_deadline or (standard.journey_map, standard.stage) != (
            opening.journey_map,
            opening.stage,
        ):
            continue
        due = due_at(standard, opening, calendar)
        if due is not None:
            opened.append(_deadline(standard, opening, due))
    return opened


def _deadline(standard: Standard, opening: Opening, due: datetime) -> Deadline:
    return Deadline(
        deadline_id=derived_id("deadline", opening.moment_id, standard.standard_id),
        standard_id=standard.standard_id,
        customer_id=opening.customer_id,
        visit_id=opening.visit_id,
        site_id=opening.site_id,
        journey_map=opening.journey_map,
        stage=opening.stage,
        until_stage=standard.deadline_until,
        opened_by=opening.moment_id,
        source_event_id=opening.source_event_id,
        opened_at=opening.occurred_at,
        due_at=due,
        lane=opening.lane,
    )


def first_waiting(
    deadlines: Sequence[Deadline],
    standard_id: str,
    customer_id: str,
    at: datetime,
    lateness: timedelta = DEFAULT_LATENESS,
) -> Deadline | None:
    """The customer's oldest open deadline of the standard that a moment at `at` answers: one
    opened before it and not yet missed by event time (due + lateness, when the clock misses
    it). Whether an older deadline is still open when the moment arrives depends on how far the
    lane's clock had come; one the moment came too late for is left to the clock, so the same
    log decides the same however it was batched and however progress was told."""
    waiting = [
        d
        for d in deadlines
        if (d.standard_id, d.customer_id) == (standard_id, customer_id)
        and d.opened_at <= at <= d.due_at + lateness
    ]
    return min(waiting, key=lambda d: (d.opened_at, d.deadline_id), default=None)


def missed_before(clock: datetime, lateness: timedelta = DEFAULT_LATENESS) -> datetime:
    """Deadlines due before this time are missed once a lane's clock has come to `clock`. A
    callback keeps a deadline up to `lateness` after it is due (first_waiting), and may itself
    arrive up to `lateness` behind the clock without being late: only past both can no callback
    that keeps the deadline still come, so the verdict is the same in whatever order, within the
    lateness, the records arrived."""
    return clock - 2 * lateness


def hours_between(start: datetime, end: datetime) -> float:
    """Elapsed hours, rounded to the minute."""
    return round((end - start).total_seconds() / 3600, 2)


def kept(standard: Standard, deadline: Deadline, at: datetime) -> Judgement:
    """How the deadline is judged by the moment that came for it at `at`: met if in time."""
    allowed = hours_between(deadline.opened_at, deadline.due_at)
    taken = hours_between(deadline.opened_at, at)
    note = "" if at <= deadline.due_at else f"{taken:g} h after, due within {allowed:g} h"
    return Judgement(standard, at <= deadline.due_at, taken, allowed, note=note)


def missed(standard: Standard, deadline: Deadline) -> Judgement:
    """The deadline passed and nothing came."""
    allowed = hours_between(deadline.opened_at, deadline.due_at)
    due = deadline.due_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    note = f"no {deadline.until_stage.replace('_', ' ')} by {due}"
    return Judgement(standard, False, allowed, allowed, note=note, absent=True)
