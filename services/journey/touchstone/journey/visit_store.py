"""Visits in Postgres as the handler needs them: their state, the customer's past, completion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from touchstone.journey.ports import Completion
from touchstone.journey.visits import EXPECTATION_VISITS, SUM_DECIMALS, Tally, VisitState

TALLY_COLUMNS = (
    "judged",
    "broken",
    "surprises",
    "severe_broken",
    "weight",
    "met_weight",
    "surprised_weight",
    "procedural_weight",
    "procedural_met",
    "personal_weight",
    "personal_met",
)
TALLY_TYPES = ("int",) * 4 + ("float8",) * 7
QUIET_FROM = "greatest(v.last_at, coalesce(v.seen_at, v.last_at))"  # VisitState.quiet_from
VISIT_COLUMNS = ", ".join(
    [
        *(f"v.{c}" for c in ("visit_id", "customer_id", "site_id", "journey_map", "first_at")),
        *(f"v.{c}" for c in ("last_at", "wins", "losses", *TALLY_COLUMNS)),
        "v.completed_at IS NOT NULL, v.seen_at, v.lane",
    ]
)


# The batch's visits, and the open visits of its customers and of the customers of each lane's
# visits quiet (VisitState.quiet_from) before its quiet_since: a visit waits for its customer's
# earlier ones (batch_decision.waits_for_earlier), so they come with it
SELECT_VISITS = f"""
WITH quiet AS MATERIALIZED (
    SELECT DISTINCT v.customer_id
    FROM unnest(%(lane)b::int[], %(quiet_since)b::timestamptz[]) AS q(lane, quiet_since)
    CROSS JOIN LATERAL (
        SELECT v.customer_id FROM journey.visits v
        WHERE v.completed_at IS NULL AND v.lane = q.lane AND {QUIET_FROM} < q.quiet_since
    ) v
)
SELECT {VISIT_COLUMNS} FROM journey.visits v
WHERE v.visit_id = ANY(%(visit_ids)b)
   OR (v.customer_id = ANY(%(customers)b) AND v.completed_at IS NULL)
UNION
SELECT v.* FROM quiet CROSS JOIN LATERAL (
    SELECT {VISIT_COLUMNS} FROM journey.visits v
    WHERE v.customer_id = quiet.customer_id AND v.completed_at IS NULL
) v
"""
# Each customer's completed visits ending at or after `since`, and their `latest` ending before
# it (latest first, ties as visits.verdict_from's newest-first order breaks them)
SELECT_PAST = """
SELECT c.customer_id, p.last_at, p.perception
FROM unnest(%(customer_id)b::text[], %(since)b::timestamptz[]) AS c(customer_id, since)
CROSS JOIN LATERAL (
    (SELECT v.last_at, v.perception FROM journey.visits v
     WHERE v.customer_id = c.customer_id AND v.completed_at IS NOT NULL AND v.last_at < c.since
     ORDER BY v.last_at DESC, v.perception DESC LIMIT %(latest)s)
    UNION ALL
    (SELECT v.last_at, v.perception FROM journey.visits v
     WHERE v.customer_id = c.customer_id AND v.completed_at IS NOT NULL
       AND v.last_at >= c.since)
) p
"""


def sum_sql(a: str, b: str, sql_type: str) -> str:
    """`a + b` in SQL, float sums kept to SUM_DECIMALS as visits.summed keeps them."""
    if sql_type == "float8":
        return f"round(({a} + {b})::numeric, {SUM_DECIMALS})::float8"
    return f"{a} + {b}"


ADD_TALLIES = f"""
UPDATE journey.visits v SET {
    ", ".join(
        f"{c} = {sum_sql(f'v.{c}', f'd.{c}', t)}"
        for c, t in zip(TALLY_COLUMNS, TALLY_TYPES, strict=True)
    )
}
FROM unnest(%(visit_id)b::text[], {
    ", ".join(f"%({c})b::{t}[]" for c, t in zip(TALLY_COLUMNS, TALLY_TYPES, strict=True))
}) AS d(visit_id, {", ".join(TALLY_COLUMNS)})
WHERE v.visit_id = d.visit_id
"""
SEEN = """
UPDATE journey.visits v SET seen_at = greatest(v.seen_at, s.seen_at)
FROM unnest(%(visit_id)b::text[], %(seen_at)b::timestamptz[]) AS s(visit_id, seen_at)
WHERE v.visit_id = s.visit_id
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
COMPLETION_COLUMNS = tuple(f.name for f in fields(Completion) if f.name != "record")


def visit_state(row: Sequence[Any]) -> VisitState:
    """A visit as read by SELECT_VISITS."""
    visit_id, customer_id, site_id, journey_map, first_at, last_at, wins, losses = row[:8]
    tally = Tally(*row[8:19])
    return VisitState(
        visit_id,
        customer_id,
        site_id,
        journey_map,
        first_at,
        last_at,
        wins,
        losses,
        tally,
        completed=row[19],
        seen_at=row[20],
        lane=row[21],
    )


async def visits_concerned(
    conn: AsyncConnection,
    visit_ids: Sequence[str],
    customers: Sequence[str],
    quiet_since: Mapping[int, datetime],
) -> list[VisitState]:
    """The batch's visits, its customers' open ones (a contact with no visit id may join one),
    and the open ones of the customers of each lane's visits quiet before its quiet_since."""
    params = {
        "visit_ids": list(visit_ids),
        "customers": list(customers),
        "lane": list(quiet_since),
        "quiet_since": list(quiet_since.values()),
    }
    rows = await (await conn.execute(SELECT_VISITS, params)).fetchall()
    return [visit_state(row) for row in rows]


async def past_perceptions(
    conn: AsyncConnection, since: Mapping[str, datetime]
) -> dict[str, tuple[tuple[datetime, float], ...]]:
    """Each customer's completed visits that can count in the expectation of a visit beginning
    at or after their `since` (visits.expectation_since): (last contact, perception)."""
    past: dict[str, list[tuple[datetime, float]]] = {}
    customers = sorted(since)
    params = {
        "customer_id": customers,
        "since": [since[c] for c in customers],
        "latest": EXPECTATION_VISITS,
    }
    rows = await (await conn.execute(SELECT_PAST, params)).fetchall()
    for customer_id, last_at, perception in rows:
        past.setdefault(customer_id, []).append((last_at, perception))
    return {c: tuple(p) for c, p in past.items()}


async def add_tallies(conn: AsyncConnection, tallies: Mapping[str, Tally]) -> None:
    """Add each visit's tally of newly stored moments to its row."""
    if tallies:
        params: dict[str, list[Any]] = {"visit_id": list(tallies)}
        for n, column in enumerate(TALLY_COLUMNS):
            params[column] = [t.values()[n] for t in tallies.values()]
        await conn.execute(ADD_TALLIES, params)


async def mark_seen(conn: AsyncConnection, seen: Mapping[str, datetime]) -> None:
    """Remember when, by the event clock, each visit last received a moment."""
    if seen:
        await conn.execute(SEEN, {"visit_id": list(seen), "seen_at": list(seen.values())})


async def complete_visits(conn: AsyncConnection, completions: Sequence[Completion]) -> None:
    """Mark the visits completed (once) with their verdicts."""
    if completions:
        params = {name: [getattr(c, name) for c in completions] for name in COMPLETION_COLUMNS}
        await conn.execute(COMPLETE, params)
