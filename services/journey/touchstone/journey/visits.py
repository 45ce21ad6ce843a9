"""A visit's verdict: its level of service, the customer's satisfaction, its quadrant.

docs/domain.md §6: losses pull a visit's level down, wins that beat the standard by a clear margin
("surprise") push it past 4. docs/domain.md §2: satisfaction = perception - expectation, where the
expectation is learnt from the customer's own past visits. docs/domain.md §5: the procedural and the
personal side of service, each weak or strong, place the visit in quadrant A, B, C or D.
The figures below are not in docs/domain.md; they are this module's assumptions, named and tunable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import TypeVar

SUM_DECIMALS = 6  # sums of weights: their terms have at most 3 decimals (standards.py)
SEVERE_WEIGHT = 3.0  # one broken standard this heavy disappoints by itself
STRONG_SHARE = 0.8  # a side is strong when this share of its weight is met
SURPRISE_BONUS = 0.5  # perception gained per unit of weight beaten by its surprise margin
FIRST_EXPECTATION = 1.0  # a new customer expects the standards to be met, no more
EXPECTATION_VISITS = 5  # how many past visits the expectation is learnt from

DISAPPOINTING, BASIC, AS_EXPECTED, DESIRED, SURPRISING, UNFORGETTABLE = range(1, 7)
COLD, PRODUCTION_LINE, FRIENDLY_DISORGANISED, QUALITY = "A", "B", "C", "D"


@dataclass(frozen=True)
class Result:
    """One standard's judgement of one moment of the visit."""

    met: bool
    weight: float
    side: str  # procedural or personal
    surprised: bool = False


@dataclass(frozen=True)
class Tally:
    """What a visit's verdict needs of its judgements, summed as moments arrive."""

    results: int = 0
    broken: int = 0
    surprises: int = 0
    severe_broken: int = 0
    weight: float = 0.0
    met_weight: float = 0.0
    surprised_weight: float = 0.0
    procedural_weight: float = 0.0
    procedural_met: float = 0.0
    personal_weight: float = 0.0
    personal_met: float = 0.0

    def __add__(self, other: Tally) -> Tally:
        # written out field by field: this runs for every moment, and a generator over the
        # fields' names cost 4.7 µs a sum (a unit test checks it against every field)
        return Tally(
            self.results + other.results,
            self.broken + other.broken,
            self.surprises + other.surprises,
            self.severe_broken + other.severe_broken,
            summed(self.weight, other.weight),
            summed(self.met_weight, other.met_weight),
            summed(self.surprised_weight, other.surprised_weight),
            summed(self.procedural_weight, other.procedural_weight),
            summed(self.procedural_met, other.procedural_met),
            summed(self.personal_weight, other.personal_weight),
            summed(self.personal_met, other.personal_met),
        )

    def values(self) -> tuple[float, ...]:
        """The tally's numbers in field order."""
        return tuple(getattr(self, f) for f in TALLY_FIELDS)

    @classmethod
    def of(cls, results: Sequence[Result]) -> Tally:
        """The tally of some judgements."""
        return sum((cls.of_one(r) for r in results), cls())

    @classmethod
    def of_one(cls, r: Result) -> Tally:
        procedural, personal = r.side == "procedural", r.side == "personal"
        met = r.weight if r.met else 0.0
        return cls(
            results=1,
            broken=0 if r.met else 1,
            surprises=1 if r.surprised else 0,
            severe_broken=1 if not r.met and r.weight >= SEVERE_WEIGHT else 0,
            weight=r.weight,
            met_weight=met,
            surprised_weight=r.weight if r.surprised else 0.0,
            procedural_weight=r.weight if procedural else 0.0,
            procedural_met=met if procedural else 0.0,
            personal_weight=r.weight if personal else 0.0,
            personal_met=met if personal else 0.0,
        )


TALLY_FIELDS = tuple(f.name for f in fields(Tally))


Number = TypeVar("Number", int, float)


def summed(a: Number, b: Number) -> Number:
    """a + b; weights (at most 3 decimals) summed to SUM_DECIMALS, so that a sum is the same
    float whatever the order and grouping of its terms (a replay in other batches agrees)."""
    total = a + b
    return round(total, SUM_DECIMALS) if isinstance(total, float) else total


@dataclass(frozen=True)
class VisitVerdict:
    """What a completed visit amounted to."""

    level: int
    perception: float
    expectation: float
    quadrant: str  # A, B, C or D; "" when a side had nothing judged
    procedural: float | None  # share of procedural weight met
    personal: float | None
    surprises: int

    @property
    def satisfaction(self) -> float:
        """Perception minus expectation: above 0 delighted, below 0 let down."""
        return round(self.perception - self.expectation, 4)


def level_from(t: Tally) -> int:
    """The visit's level of service, 1 (disappointing) to 6 (unforgettable)."""
    if t.severe_broken or t.broken * 2 > t.results:
        return DISAPPOINTING
    if t.broken:
        return BASIC
    if not t.results:
        return AS_EXPECTED  # nothing measured, nothing went wrong
    if not t.surprises:
        return DESIRED  # every standard met
    return UNFORGETTABLE if t.surprises >= 2 and t.surprises * 2 >= t.results else SURPRISING


def perception_from(t: Tally) -> float:
    """Weighted perception: +1 a standard met, +SURPRISE_BONUS more if beaten, -1 broken."""
    if not t.weight:
        return 0.0
    broken = t.weight - t.met_weight
    return round((t.met_weight + SURPRISE_BONUS * t.surprised_weight - broken) / t.weight, 4)


def expectation_from(past_perceptions: Sequence[float]) -> float:
    """What the customer expects: the mean perception of their latest visits (newest first)."""
    recent = past_perceptions[:EXPECTATION_VISITS]
    return round(sum(recent) / len(recent), 4) if recent else FIRST_EXPECTATION


def share(met: float, total: float) -> float | None:
    """The share of a side's weight that was met; None if nothing on that side was judged."""
    return round(met / total, 4) if total else None


def quadrant_of(procedural: float | None, personal: float | None) -> str:
    """A cold, B production line, C friendly but disorganised, D quality; "" if unplaced."""
    if procedural is None or personal is None:
        return ""
    strong_procedure, strong_person = procedural >= STRONG_SHARE, personal >= STRONG_SHARE
    if strong_procedure:
        return QUALITY if strong_person else PRODUCTION_LINE
    return FRIENDLY_DISORGANISED if strong_person else COLD


def verdict_from(t: Tally, past_perceptions: Sequence[float]) -> VisitVerdict:
    """The verdict on a visit from its tally and the customer's past perceptions (newest first)."""
    procedural = share(t.procedural_met, t.procedural_weight)
    personal = share(t.personal_met, t.personal_weight)
    return VisitVerdict(
        level=level_from(t),
        perception=perception_from(t),
        expectation=expectation_from(past_perceptions),
        quadrant=quadrant_of(procedural, personal),
        procedural=procedural,
        personal=personal,
        surprises=t.surprises,
    )


def level_of(results: Sequence[Result]) -> int:
    """level_from over some judgements."""
    return level_from(Tally.of(results))


def perception_of(results: Sequence[Result]) -> float:
    """perception_from over some judgements."""
    return perception_from(Tally.of(results))


def verdict_of_visit(results: Sequence[Result], past_perceptions: Sequence[float]) -> VisitVerdict:
    """verdict_from over some judgements."""
    return verdict_from(Tally.of(results), past_perceptions)


@dataclass(frozen=True)
class VisitState:
    """A visit as journey knows it at one point of its log."""

    visit_id: str
    customer_id: str
    site_id: str
    journey_map: str
    first_at: datetime
    last_at: datetime
    wins: int = 0
    losses: int = 0
    tally: Tally = Tally()
    completed: bool = False
    seen_at: datetime | None = None  # its lane's clock when its latest moment came
    lane: int = 0  # the input partition its customer's contacts come on

    @property
    def quiet_from(self) -> datetime:
        """When the visit went quiet on its lane: its last contact, or later if the lane's clock
        had passed that when the contact came (a late visit gets its gap to arrive whole). It
        may complete once the clock is its map's gap past this (batch_decision.end_of)."""
        return max(self.last_at, self.seen_at or self.last_at)

    def plus(self, at: datetime, verdict: str, tally: Tally, clock: datetime | None) -> VisitState:
        """The visit with one more moment, taken when its lane's clock stood at `clock`."""
        seen = [t for t in (self.seen_at, clock) if t is not None]
        return replace(
            self,
            seen_at=max(seen) if seen else None,
            first_at=min(self.first_at, at),
            last_at=max(self.last_at, at),
            wins=self.wins + (verdict == "win"),
            losses=self.losses + (verdict == "lose"),
            tally=self.tally + tally,
        )


def expectation_since(
    earliest: Mapping[str, datetime], visits: Iterable[VisitState]
) -> dict[str, datetime]:
    """For each customer of a batch, the earliest time a visit of theirs it may complete can
    have begun: their earliest contact in the batch, or an open visit's first. A visit is
    judged against the EXPECTATION_VISITS latest of their visits completed before it began,
    so only those completed after this time and the EXPECTATION_VISITS latest before it can
    count (a long history need not be read whole)."""
    since = dict(earliest)
    for visit in visits:
        known = since.get(visit.customer_id, visit.first_at)
        since[visit.customer_id] = min(known, visit.first_at)
    return since
