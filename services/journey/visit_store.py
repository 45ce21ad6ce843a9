"""Completing visits in Postgres: which visits' gap has passed, and what they amounted to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg import AsyncConnection

from touchstone.common.topics import Outgoing


@dataclass(frozen=True)
class EndingVisit:
    """An open visit whose last moment is older than the shortest visit gap."""

    visit_id: str
    customer_id: str
    site_id: str
    journey_map: str
    first_at: datetime
    last_at: datetime
    wins: int
    losses: int
    moments: tuple[bytes, ...]  # its MomentScored payloads
    past: tuple[
        tuple[datetime, float], ...
    ]  # the customer's completed visits: (last_at, perception)


@dataclass(frozen=True)
class Completion:
    """A visit that is over, and the VisitCompleted record that says so."""

    visit_id: str
    completed_at: datetime
    level: int
    quadrant: str
    perception: float
    satisfaction: float
    completion: bytes
    record: Outgoing


SELECT_ENDING = """
SELECT v.visit_id, v.customer_id, v.site_id, v.journey_map, v.first_at, v.last_at, v.wins,
       v.losses
FROM journey.visits v
WHERE v.completed_at IS NULL AND v.last_at < %s
  AND NOT EXISTS (SELECT 1 FROM journey.deadlines d
                  WHERE d.visit_id = v.visit_id AND d.closed_by IS NULL AND NOT d.missed)
ORDER BY v.last_at, v.visit_id
"""
SELECT_MOMENTS = """
SELECT visit_id, payload FROM journey.moments WHERE visit_id = ANY(%s)
ORDER BY occurred_at, moment_id
"""
SELECT_PAST = """
SELECT customer_id, last_at, perception FROM journey.visits
WHERE customer_id = ANY(%s) AND completed_at IS NOT NULL
"""
COMPLETE = """
UPDATE journey.visits v SET completed_at = c.completed_at, level = c.level,
       quadrant = c.quadrant, perception = c.perception, satisfaction = c.satisfaction,
       completion = c.completion
FROM unnest(%(visit_id)b::text[], %(completed_at)b::timestamptz[], %(level)b::smallint[],
            %(quadrant)b::text[], %(perception)b::float8[], %(satisfaction)b::float8[],
            %(completion)b::bytea[])
     AS c(visit_id, completed_at, level, quadrant, perception, satisfaction, completion)
WHERE v.visit_id = c.visit_id AND v.completed_at IS NULL
"""
COMPLETION_COLUMNS = (
    "visit_id",
    "completed_at",
    "level",
    "quadrant",
    "perception",
    "satisfaction",
    "completion",
)


async def ending_visits(conn: AsyncConnection, quiet_since: datetime) -> list[EndingVisit]:
    """Open visits with no moment since quiet_since and no deadline pending."""
    rows = await (await conn.execute(SELECT_ENDING, (quiet_since,))).fetchall()
    if not rows:
        return []
    visit_ids = [row[0] for row in rows]
    moments: dict[str, list[bytes]] = {}
    for visit_id, payload in await (await conn.execute(SELECT_MOMENTS, (visit_ids,))).fetchall():
        moments.setdefault(visit_id, []).append(bytes(payload))
    past: dict[str, list[tuple[datetime, float]]] = {}
    customers = sorted({row[1] for row in rows})
    for customer_id, last_at, perception in await (
        await conn.execute(SELECT_PAST, (customers,))
    ).fetchall():
        past.setdefault(customer_id, []).append((last_at, perception))
    return [
        EndingVisit(
            visit_id=visit_id,
            customer_id=customer_id,
            site_id=site_id,
            journey_map=journey_map,
            first_at=first_at,
            last_at=last_at,
            wins=wins,
            losses=losses,
            moments=tuple(moments.get(visit_id, ())),
            past=tuple(past.get(customer_id, ())),
        )
        for visit_id, customer_id, site_id, journey_map, first_at, last_at, wins, losses in rows
    ]


async def complete_visits(conn: AsyncConnection, completions: Sequence[Completion]) -> None:
    """Mark the visits completed (once) with their verdicts."""
    if completions:
        params = {name: [getattr(c, name) for c in completions] for name in COMPLETION_COLUMNS}
        await conn.execute(COMPLETE, params)
