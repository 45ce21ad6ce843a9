"""Journey's Postgres adapter: moments stored once by id, visits rolled up in the same statement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from touchstone.journey.ports import (
    MomentFilter,
    MomentRow,
    VisitFilter,
    VisitRow,
)
from touchstone.journey.stage_day_store import stage_figures
from touchstone.journey.stage_days import StageFigures
from touchstone.platform.messaging.customer_links_store import (
    PostgresCustomerLinks,
    equality_filters,
)
from touchstone.platform.persistence.pg import columns
from touchstone.platform.runtime.time_bounds import BEGINNING, END_OF_TIME

SCHEMA = "journey"


MOMENT_COLUMNS = (
    "moment_id",
    "source_event_id",
    "customer_id",
    "visit_id",
    "site_id",
    "journey_map",
    "stage",
    "occurred_at",
    "verdict",
    "payload",
)

SAVE_MOMENTS = f"""
WITH incoming AS (
    SELECT * FROM unnest(
        %(moment_id)b::text[], %(source_event_id)b::text[], %(customer_id)b::text[],
        %(visit_id)b::text[], %(site_id)b::text[], %(journey_map)b::text[], %(stage)b::text[],
        %(occurred_at)b::timestamptz[], %(verdict)b::text[], %(payload)b::bytea[], %(lane)b::int[]
    ) WITH ORDINALITY AS t({", ".join(MOMENT_COLUMNS)}, lane, n)
), inserted AS (
    INSERT INTO journey.moments ({", ".join(MOMENT_COLUMNS)})
    SELECT {", ".join(MOMENT_COLUMNS)} FROM incoming
    ON CONFLICT (moment_id) DO NOTHING
    RETURNING moment_id, visit_id, customer_id, site_id, journey_map, occurred_at, verdict
), lanes AS (  -- a new visit's lane: its first moment's, as the batch decided it
    SELECT moment_id, min(lane) AS lane, min(n) AS n FROM incoming GROUP BY moment_id
), visits AS (
    INSERT INTO journey.visits AS v (visit_id, customer_id, site_id, journey_map, wins, losses,
                                     unscored, first_at, last_at, lane)
    SELECT visit_id, min(customer_id), min(site_id), min(journey_map),
           count(*) FILTER (WHERE verdict = 'win'), count(*) FILTER (WHERE verdict = 'lose'),
           count(*) FILTER (WHERE verdict = 'unscored'), min(occurred_at), max(occurred_at),
           (array_agg(lane ORDER BY n))[1]
    FROM inserted JOIN lanes USING (moment_id) GROUP BY visit_id ORDER BY visit_id
    ON CONFLICT (visit_id) DO UPDATE SET
        wins = v.wins + excluded.wins,
        losses = v.losses + excluded.losses,
        unscored = v.unscored + excluded.unscored,
        first_at = least(v.first_at, excluded.first_at),
        last_at = greatest(v.last_at, excluded.last_at)
)
SELECT moment_id FROM inserted
"""

SELECT_MOMENTS = sql.SQL("""
SELECT {columns} FROM journey.moments
WHERE (occurred_at, moment_id) > (%(after_time)s::timestamptz, %(after_id)s::text)
  AND occurred_at >= %(since)s::timestamptz AND occurred_at < %(until)s::timestamptz {filters}
ORDER BY occurred_at, moment_id
LIMIT %(limit)s
""")

VISIT_COLUMNS = (
    "visit_id, customer_id, site_id, journey_map, wins, losses, completion, first_at, last_at"
)
SELECT_VISIT = f"SELECT {VISIT_COLUMNS} FROM journey.visits WHERE visit_id = %s"
SELECT_VISITS = sql.SQL(f"""
SELECT {VISIT_COLUMNS} FROM journey.visits
WHERE (last_at, visit_id) > (%(after_time)s::timestamptz, %(after_id)s::text) {{filters}}
ORDER BY last_at, visit_id
LIMIT %(limit)s
""")

SELECT_VISIT_MOMENTS = sql.SQL("""
SELECT {columns} FROM journey.moments WHERE visit_id = %s ORDER BY occurred_at, moment_id
""")

SELECT_VERDICT_COUNTS = """
SELECT coalesce(sum(wins), 0), coalesce(sum(losses), 0), coalesce(sum(unscored), 0)
FROM journey.visits WHERE %(sites)b::text[] IS NULL OR site_id = ANY(%(sites)b::text[])
"""


def _bytes(value: object) -> bytes | None:
    return bytes(value) if isinstance(value, bytes | memoryview) else None


def _column_list() -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c) for c in MOMENT_COLUMNS)


def _filters(where: MomentFilter) -> sql.Composable:
    names = ("customer_id", "visit_id", "site_id", "verdict", "journey_map", "stage")
    return equality_filters(where, names, SCHEMA)


def _visit_filters(where: VisitFilter) -> sql.Composable:
    completed = sql.SQL("AND completed_at IS NOT NULL" if where.completed_only else "")
    return sql.SQL(" ").join(
        [equality_filters(where, ("customer_id", "site_id"), SCHEMA), completed]
    )


def visit_row(row: Sequence[Any]) -> VisitRow:
    """A visit as read by SELECT_VISIT(S)."""
    visit_id, customer_id, site_id, journey_map, wins, losses, completion, first, last = row
    return VisitRow(
        visit_id, customer_id, site_id, journey_map, wins, losses, _bytes(completion), first, last
    )


class PostgresJourneyStore(PostgresCustomerLinks):
    """JourneyStore on Postgres (schema journey)."""

    links_schema = SCHEMA

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def save_moments(self, moments: Sequence[MomentRow]) -> None:
        if not moments:
            return
        params = {**columns(moments, MOMENT_COLUMNS), "lane": [0] * len(moments)}
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(SAVE_MOMENTS, params)

    async def list_moments(
        self, where: MomentFilter, after: tuple[datetime, str] | None, limit: int
    ) -> list[MomentRow]:
        after_time, after_id = after or (BEGINNING, "")
        query = SELECT_MOMENTS.format(columns=_column_list(), filters=_filters(where))
        params = {
            **vars(where),
            "since": where.since or BEGINNING,
            "until": where.until or END_OF_TIME,
            "after_time": after_time,
            "after_id": after_id,
            "limit": limit,
        }
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(query, params)).fetchall()
        return [MomentRow(*row) for row in rows]

    async def get_visit(self, visit_id: str) -> tuple[VisitRow, list[MomentRow]] | None:
        async with self.pool.connection() as conn:
            visit = await (await conn.execute(SELECT_VISIT, (visit_id,))).fetchone()
            if visit is None:
                return None
            query = SELECT_VISIT_MOMENTS.format(columns=_column_list())
            rows = await (await conn.execute(query, (visit_id,))).fetchall()
        return visit_row(visit), [MomentRow(*row) for row in rows]

    async def list_visits(
        self, where: VisitFilter, after: tuple[datetime, str] | None, limit: int
    ) -> list[VisitRow]:
        after_time, after_id = after or (BEGINNING, "")
        query = SELECT_VISITS.format(filters=_visit_filters(where))
        params = {**vars(where), "after_time": after_time, "after_id": after_id, "limit": limit}
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(query, params)).fetchall()
        return [visit_row(row) for row in rows]

    async def stage_figures(
        self, journey_map: str, site_id: str, first: date, last: date
    ) -> dict[str, StageFigures]:
        async with self.pool.connection() as conn:
            return await stage_figures(conn, journey_map, site_id, first, last)

    async def verdict_counts(self, sites: Sequence[str] | None = None) -> dict[str, int]:
        async with self.pool.connection() as conn:
            row = await (await conn.execute(SELECT_VERDICT_COUNTS, {"sites": sites})).fetchone()
        assert row is not None
        return {"win": int(row[0]), "lose": int(row[1]), "unscored": int(row[2])}
