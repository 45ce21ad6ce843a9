"""The journey map's stage days in Postgres (stage_days.py sums them): added to once per stored
moment in the transaction that stores it, and summed over a period for the map."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from psycopg import AsyncConnection

from touchstone.journey.stage_days import (
    CASTS,
    SUMMED,
    MomentMark,
    StageFigures,
    roll_up,
)
from touchstone.journey.visit_store import sum_sql

SUMMED_TYPES = ("int",) * 4 + ("float8",) * 4


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
