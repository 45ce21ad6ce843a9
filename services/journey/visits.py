"""A visit's verdict: its level of service, the customer's satisfaction, its quadrant.

DOMAIN §6: losses pull a visit's level down, wins that beat the standard by a clear margin
("surprise") push it past 4. DOMAIN §2: satisfaction = perception - expectation, where the
expectation is learnt from the customer's own past visits. DOMAIN §5: the procedural and the
personal side of service, each weak or strong, place the visit in quadrant A, B, C or D.
The figures below are not in DOMAIN.md; they are this module's assumptions, named and tunable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


def level_of(results: Sequence[Result]) -> int:
    """The visit's level of service, 1 (disappointing) to 6 (unforgettable)."""
    broken = [r for r in results if not r.met]
    surprises = sum(r.surprised for r in results)
    if any(r.weight >= SEVERE_WEIGHT for r in broken) or len(broken) * 2 > len(results):
        return DISAPPOINTING
    if broken:
        return BASIC
    if not results:
        return AS_EXPECTED  # nothing measured, nothing went wrong
    if not surprises:
        return DESIRED  # every standard met
    return UNFORGETTABLE if surprises >= 2 and surprises * 2 >= len(results) else SURPRISING


def perception_of(results: Sequence[Result]) -> float:
    """Weighted perception: +1 a standard met, +SURPRISE_BONUS more if beaten, -1 broken."""
    total = sum(r.weight for r in results)
    if not total:
        return 0.0
    score = sum(r.weight * ((1 + SURPRISE_BONUS * r.surprised) if r.met else -1) for r in results)
    return round(score / total, 4)


def expectation_from(past_perceptions: Sequence[float]) -> float:
    """What the customer expects: the mean perception of their latest visits (newest first)."""
    recent = past_perceptions[:EXPECTATION_VISITS]
    return round(sum(recent) / len(recent), 4) if recent else FIRST_EXPECTATION


def side_share(results: Sequence[Result], side: str) -> float | None:
    """The share of one side's weight that was met; None if nothing on that side was judged."""
    on_side = [r for r in results if r.side == side]
    total = sum(r.weight for r in on_side)
    return round(sum(r.weight for r in on_side if r.met) / total, 4) if total else None


def quadrant_of(procedural: float | None, personal: float | None) -> str:
    """A cold, B production line, C friendly but disorganised, D quality; "" if unplaced."""
    if procedural is None or personal is None:
        return ""
    strong_procedure, strong_person = procedural >= STRONG_SHARE, personal >= STRONG_SHARE
    if strong_procedure:
        return QUALITY if strong_person else PRODUCTION_LINE
    return FRIENDLY_DISORGANISED if strong_person else COLD


def verdict_of_visit(results: Sequence[Result], past_perceptions: Sequence[float]) -> VisitVerdict:
    """The verdict on a visit from every judgement of its moments and the customer's history."""
    procedural = side_share(results, "procedural")
    personal = side_share(results, "personal")
    return VisitVerdict(
        level=level_of(results),
        perception=perception_of(results),
        expectation=expectation_from(past_perceptions),
        quadrant=quadrant_of(procedural, personal),
        procedural=procedural,
        personal=personal,
        surprises=sum(r.surprised for r in results),
    )
