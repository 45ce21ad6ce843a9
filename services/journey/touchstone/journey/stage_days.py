"""The journey map's figures: every stage of every site, day by day, summed as moments arrive.

A journey-map picture (docs/domain.md §3) shows, for each stage in order, how many moments
there were, how often they were won, which standards broke most, and how the stage stands on the
procedural and the personal side (docs/domain.md §5). Journey keeps those sums per site, map,
stage and local day (the site's own calendar day), added to once per stored moment in the
transaction that stores it, so a period's map is a sum over its days, never a scan of moments.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from touchstone.journey.visits import SUM_DECIMALS, Tally, summed


@dataclass(frozen=True, order=True)
class StageDay:
    """One stage of one map at one site on one local day."""

    site_id: str
    journey_map: str
    stage: str
    day: date


@dataclass(frozen=True)
class MomentMark:
    """What one new moment adds to its visit and to its stage's day."""

    visit_id: str
    lane: int
    place: StageDay
    verdict: str  # win, lose or unscored
    tally: Tally
    broken: tuple[str, ...]  # the standards it broke
    # (kind, label, weight, weight met) of each judgement: its procedural area and its quality
    # dimension (docs/domain.md §4)
    labels: tuple[tuple[str, str, float, float], ...] = ()


@dataclass(frozen=True)
class StageFigures:
    """A stage's sums over some days."""

    moments: int = 0
    wins: int = 0
    losses: int = 0
    unscored: int = 0
    procedural_weight: float = 0.0
    procedural_met: float = 0.0
    personal_weight: float = 0.0
    personal_met: float = 0.0
    broken: Mapping[str, int] = field(default_factory=dict)  # standard id -> times broken
    # (kind, label) -> (weight judged, weight met): kind "area" or "dimension"
    labels: Mapping[tuple[str, str], tuple[float, float]] = field(default_factory=dict)

    def __add__(self, other: StageFigures) -> StageFigures:
        sums = {name: summed(getattr(self, name), getattr(other, name)) for name in SUMMED}
        broken = Counter(self.broken) + Counter(other.broken)
        return StageFigures(**sums, broken=broken, labels=add_labels(self.labels, other.labels))

    @property
    def win_rate(self) -> float:
        """Wins over scored moments; 0 when nothing was scored."""
        scored = self.wins + self.losses
        return round(self.wins / scored, 4) if scored else 0.0

    def most_broken(self, n: int) -> list[tuple[str, int]]:
        """The n standards broken most, most first (ties by id, so the answer is stable)."""
        ranked = sorted(self.broken.items(), key=lambda item: (-item[1], item[0]))
        return ranked[:n]


def add_labels(
    a: Mapping[tuple[str, str], tuple[float, float]],
    b: Mapping[tuple[str, str], tuple[float, float]],
) -> dict[tuple[str, str], tuple[float, float]]:
    """Two sets of label sums added, each sum kept as summed keeps it."""
    total = dict(a)
    for key, (weight, met) in b.items():
        was_weight, was_met = total.get(key, (0.0, 0.0))
        total[key] = (summed(was_weight, weight), summed(was_met, met))
    return total


SUMMED = (
    "moments",
    "wins",
    "losses",
    "unscored",
    "procedural_weight",
    "procedural_met",
    "personal_weight",
    "personal_met",
)
CASTS = (int,) * 4 + (float,) * 4


def roll_up(marks: Iterable[MomentMark]) -> dict[StageDay, StageFigures]:
    """The marks summed by stage and day (in plain lists: this runs for every moment)."""
    sums: dict[StageDay, list[float]] = {}
    broken: dict[StageDay, Counter[str]] = {}
    labels: dict[StageDay, dict[tuple[str, str], list[float]]] = {}
    for mark in marks:
        row = sums.get(mark.place)
        if row is None:
            row = sums[mark.place] = [0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0]
            broken[mark.place] = Counter()
            labels[mark.place] = {}
        place_labels = labels[mark.place]
        for kind, label, weight, met in mark.labels:
            sums_of = place_labels.setdefault((kind, label), [0.0, 0.0])
            sums_of[0] += weight
            sums_of[1] += met
        t = mark.tally
        row[0] += 1
        row[VERDICT_COLUMN[mark.verdict]] += 1
        row[4] += t.procedural_weight
        row[5] += t.procedural_met
        row[6] += t.personal_weight
        row[7] += t.personal_met
        broken[mark.place].update(mark.broken)
    return {
        place: StageFigures(
            moments=int(row[0]),
            wins=int(row[1]),
            losses=int(row[2]),
            unscored=int(row[3]),
            procedural_weight=round(row[4], SUM_DECIMALS),
            procedural_met=round(row[5], SUM_DECIMALS),
            personal_weight=round(row[6], SUM_DECIMALS),
            personal_met=round(row[7], SUM_DECIMALS),
            broken=broken[place],
            labels={
                key: (round(w, SUM_DECIMALS), round(m, SUM_DECIMALS))
                for key, (w, m) in labels[place].items()
            },
        )
        for place, row in sums.items()
    }


VERDICT_COLUMN = {"win": 1, "lose": 2, "unscored": 3}
