"""The journey map's figures: every stage of every site, day by day, summed as moments arrive.

A journey-map picture (docs/domain.md §3) shows, for each stage in order, how many moments
there were, how often they were won, which standards broke most, and how the stage stands on the
procedural and the personal side (docs/domain.md §5). Journey keeps those sums per site, map,
stage and local day (the site's own calendar day), added to once per stored moment in the
transaction that stores it, so a period's map is a sum over its days, never a scan of moments.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from psycopg import AsyncConnection

from touchstone.journey.visit_store import sum_sql
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
SUMMED_TYPES = ("int",) * 4 + ("float8",) * 4
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


PLACE = ("site_id", "journey_map", "stage", "day")
PLACE_ARRAYS = "%(site_id)b::text[], %(journey_map)b::text[], %(stage)b::text[], %(day)b::date[]"
ADD_STAGE_DAYS = f"""
INSERT INTO journey.stage_days AS s ({", ".join((*PLACE, *SUMMED))})
SELECT * FROM unnest({PLACE_ARRAYS}, {
    ", ".join(f"%({c})b::{t}[]" for c, t in zip(SUMMED, SUMMED_TYPES, strict=True))
})
ON CONFLICT ({", ".join(PLACE)}) DO UPDATE SET
    {
    ", ".join(
        f"{c} = {sum_sql(f's.{c}', f'excluded.{c}', t)}"
        for c, t in zip(SUMMED, SUMMED_TYPES, strict=True)
    )
}
"""
ADD_STAGE_BREAKS = f"""
INSERT INTO journey.stage_day_breaks AS b ({", ".join(PLACE)}, standard_id, broken)
SELECT * FROM unnest({PLACE_ARRAYS}, %(standard_id)b::text[], %(broken)b::int[])
ON CONFLICT ({", ".join(PLACE)}, standard_id) DO UPDATE SET broken = b.broken + excluded.broken
"""
ADD_STAGE_LABELS = f"""
INSERT INTO journey.stage_day_labels AS l ({", ".join(PLACE)}, kind, label, weight, met)
SELECT * FROM unnest({PLACE_ARRAYS}, %(kind)b::text[], %(label)b::text[], %(weight)b::float8[],
                     %(met)b::float8[])
ON CONFLICT ({", ".join(PLACE)}, kind, label) DO UPDATE SET
    weight = {sum_sql("l.weight", "excluded.weight", "float8")},
    met = {sum_sql("l.met", "excluded.met", "float8")}
"""
SELECT_LABELS = """
SELECT stage, kind, label, sum(weight), sum(met) FROM journey.stage_day_labels
WHERE journey_map = %(journey_map)s AND day BETWEEN %(first)s AND %(last)s
  AND (%(site_id)s = '' OR site_id = %(site_id)s)
GROUP BY stage, kind, label
"""
SELECT_STAGES = f"""
SELECT stage, {", ".join(f"sum({c})" for c in SUMMED)} FROM journey.stage_days
WHERE journey_map = %(journey_map)s AND day BETWEEN %(first)s AND %(last)s
  AND (%(site_id)s = '' OR site_id = %(site_id)s)
GROUP BY stage
"""
SELECT_BREAKS = """
SELECT stage, standard_id, sum(broken) FROM journey.stage_day_breaks
WHERE journey_map = %(journey_map)s AND day BETWEEN %(first)s AND %(last)s
  AND (%(site_id)s = '' OR site_id = %(site_id)s)
GROUP BY stage, standard_id
"""


async def add_stage_days(conn: AsyncConnection, marks: Sequence[MomentMark]) -> None:
    """Add the new moments' marks to their stages' days (in key order, so that concurrent
    settlements lock rows in the same order)."""
    days = sorted(roll_up(marks).items())
    if not days:
        return
    params: dict[str, list[Any]] = {name: [getattr(p, name) for p, _ in days] for name in PLACE}
    params.update({name: [getattr(f, name) for _, f in days] for name in SUMMED})
    await conn.execute(ADD_STAGE_DAYS, params)
    breaks = sorted((p, standard_id, n) for p, f in days for standard_id, n in f.broken.items())
    if breaks:
        params = {name: [getattr(p, name) for p, _, _ in breaks] for name in PLACE}
        params["standard_id"] = [standard_id for _, standard_id, _ in breaks]
        params["broken"] = [n for _, _, n in breaks]
        await conn.execute(ADD_STAGE_BREAKS, params)
    labelled = sorted((p, key, sums) for p, f in days for key, sums in f.labels.items())
    if labelled:
        params = {name: [getattr(p, name) for p, _, _ in labelled] for name in PLACE}
        params["kind"] = [kind for _, (kind, _), _ in labelled]
        params["label"] = [label for _, (_, label), _ in labelled]
        params["weight"] = [weight for _, _, (weight, _) in labelled]
        params["met"] = [met for _, _, (_, met) in labelled]
        await conn.execute(ADD_STAGE_LABELS, params)


async def stage_figures(
    conn: AsyncConnection, journey_map: str, site_id: str, first: date, last: date
) -> dict[str, StageFigures]:
    """Each stage's figures over the days first..last (every site when site_id is empty)."""
    where = {"journey_map": journey_map, "site_id": site_id, "first": first, "last": last}
    rows = await (await conn.execute(SELECT_STAGES, where)).fetchall()
    broken: dict[str, dict[str, int]] = {}
    for stage, standard_id, n in await (await conn.execute(SELECT_BREAKS, where)).fetchall():
        broken.setdefault(stage, {})[standard_id] = int(n)
    labels: dict[str, dict[tuple[str, str], tuple[float, float]]] = {}
    found = await (await conn.execute(SELECT_LABELS, where)).fetchall()
    for stage, kind, label, weight, met in found:
        labels.setdefault(stage, {})[(kind, label)] = (float(weight), float(met))
    return {
        row[0]: StageFigures(
            **{name: type_(v) for name, type_, v in zip(SUMMED, CASTS, row[1:], strict=True)},
            broken=broken.get(row[0], {}),
            labels=labels.get(row[0], {}),
        )
        for row in rows
    }
