"""Settling a batch in Postgres: everything a batch of moments decides, in one transaction.

The transaction holds the clocks of the batch's lanes (locked), reads what the batch is decided
against (the deadlines and visits it concerns, the customers' past visits, the moments already
stored), lets the handler decide, and writes every consequence: moments, visit tallies, stage
figures, deadlines opened, kept and missed, visits completed, and the records no input carries
(lost moments of missed deadlines, VisitCompleted) into the outbox. Nothing decided is lost or
decided twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from touchstone.journey.deadlines import Deadline, missed_before
from touchstone.journey.lane_clocks import LaneState, after
from touchstone.journey.ports import (
    BatchKeys,
    Decide,
    Ledger,
    MomentRow,
    Settlement,
)
from touchstone.journey.stage_day_store import add_stage_days
from touchstone.journey.store import MOMENT_COLUMNS, SAVE_MOMENTS
from touchstone.journey.visit_store import (
    add_tallies,
    complete_visits,
    mark_seen,
    past_perceptions,
    visits_concerned,
)
from touchstone.journey.visits import Tally, expectation_since
from touchstone.platform.messaging.outbox import add_to_outbox
from touchstone.platform.persistence.pg import columns

SCHEMA = "journey"


# contact in the batch (late ones too)


DEADLINE_COLUMNS = (
    "deadline_id",
    "standard_id",
    "customer_id",
    "visit_id",
    "site_id",
    "journey_map",
    "stage",
    "until_stage",
    "opened_by",
    "source_event_id",
    "opened_at",
    "due_at",
    "lane",
)
SELECTED = ", ".join(DEADLINE_COLUMNS)
OPEN = "closed_by IS NULL AND NOT missed"

# Advisory locks serialise settlements by lane (even before a lane's clock row exists): workers
# sharing partitions wait only for their own lanes, taken in order so that none deadlocks.
LOCK_LANE = "SELECT pg_advisory_xact_lock(hashtext('journey.lane'), %s)"
TAKE_CLOCKS = """
SELECT lane, watermark, expected FROM journey.lane_clocks WHERE lane = ANY(%b) FOR UPDATE
"""
TAKE_SOURCES = "SELECT lane, source, event_time FROM journey.source_clocks WHERE lane = ANY(%b)"
SET_CLOCKS = """
INSERT INTO journey.lane_clocks (lane, watermark, expected)
SELECT * FROM unnest(%(lane)b::int[], %(watermark)b::timestamptz[], %(expected)b::int[])
ON CONFLICT (lane) DO UPDATE SET
    watermark = greatest(lane_clocks.watermark, excluded.watermark),
    expected = excluded.expected
"""
SET_SOURCES = """
INSERT INTO journey.source_clocks (lane, source, event_time)
SELECT * FROM unnest(%(lane)b::int[], %(source)b::int[], %(event_time)b::timestamptz[])
ON CONFLICT (lane, source) DO UPDATE SET
    event_time = greatest(source_clocks.event_time, excluded.event_time)
"""
SELECT_WAITING = f"""
SELECT {SELECTED} FROM journey.deadlines WHERE customer_id = ANY(%b) AND {OPEN}
ORDER BY opened_at, deadline_id
"""
SELECT_OVERDUE = f"""
SELECT {", ".join(f"d.{c}" for c in DEADLINE_COLUMNS)}
FROM journey.deadlines d
JOIN unnest(%(lane)b::int[], %(passed)b::timestamptz[]) AS c(lane, passed) ON d.lane = c.lane
WHERE d.due_at < c.passed AND d.closed_by IS NULL AND NOT d.missed
ORDER BY d.due_at, d.deadline_id
"""
SELECT_OPEN = f"SELECT {SELECTED} FROM journey.deadlines WHERE {OPEN} ORDER BY due_at"
OPEN_DEADLINES = f"""
INSERT INTO journey.deadlines ({SELECTED})
SELECT * FROM unnest(
    %(deadline_id)b::text[], %(standard_id)b::text[], %(customer_id)b::text[],
    %(visit_id)b::text[], %(site_id)b::text[], %(journey_map)b::text[], %(stage)b::text[],
    %(until_stage)b::text[], %(opened_by)b::text[], %(source_event_id)b::text[],
    %(opened_at)b::timestamptz[], %(due_at)b::timestamptz[], %(lane)b::int[]
)
ON CONFLICT (deadline_id) DO NOTHING
"""
KEEP_DEADLINES = f"""
UPDATE journey.deadlines d SET closed_by = k.moment_id
FROM unnest(%(deadline_id)b::text[], %(moment_id)b::text[]) AS k(deadline_id, moment_id)
WHERE d.deadline_id = k.deadline_id AND {OPEN}
"""
MISS_DEADLINES = (
    f"UPDATE journey.deadlines SET missed = true WHERE deadline_id = ANY(%b) AND {OPEN}"
)
SELECT_PAYLOADS = "SELECT moment_id, payload FROM journey.moments WHERE moment_id = ANY(%b)"
SELECT_KNOWN = "SELECT moment_id FROM journey.moments WHERE moment_id = ANY(%b)"


class PostgresSettlements:
    """SettlementStore on Postgres (journey's deadlines, visits, event clock and outbox)."""

    pool: AsyncConnectionPool

    async def settle(
        self, keys: BatchKeys, lateness: timedelta, visit_gap: timedelta, decide: Decide
    ) -> list[MomentRow]:
        async with self.pool.connection() as conn, conn.transaction():
            ledger = await self._ledger(conn, keys, lateness, visit_gap)
            settlement = decide(ledger)
            inserted = await self._save_moments(conn, settlement)
            async with conn.pipeline():  # writes that need no answer: sent together
                await add_tallies(conn, tallies_by_visit(settlement, inserted))
                await add_stage_days(conn, [settlement.marks[m] for m in sorted(inserted)])
                await mark_seen(conn, settlement.seen)
                await self._save_deadlines(conn, settlement)
                await complete_visits(conn, settlement.completed)
                await add_to_outbox(conn, SCHEMA, [c.record for c in settlement.completed])
                await save_lanes(conn, ledger.after)
            return await self._as_stored(conn, settlement.moments, ledger.known)

    async def _ledger(
        self, conn: AsyncConnection, keys: BatchKeys, lateness: timedelta, visit_gap: timedelta
    ) -> Ledger:
        lanes = sorted(keys.steps)
        for lane in lanes:
            await conn.execute(LOCK_LANE, (lane,))
        before = await take_lanes(conn, lanes)
        after_batch = {
            lane: after(before.get(lane, LaneState()), keys.steps[lane]) for lane in lanes
        }
        watermarks = {lane: s.clock for lane, s in after_batch.items() if s.clock is not None}
        known = await (await conn.execute(SELECT_KNOWN, (list(keys.moments),))).fetchall()
        quiet_since = {lane: w - lateness - visit_gap for lane, w in watermarks.items()}
        visits = await visits_concerned(conn, keys.visits, keys.customers, quiet_since)
        customers = sorted({*keys.customers, *(v.customer_id for v in visits)})
        waiting = await self._deadlines(conn, SELECT_WAITING, customers)
        passed = {
            "lane": list(watermarks),
            "passed": [missed_before(w, lateness) for w in watermarks.values()],
        }
        overdue = await (await conn.execute(SELECT_OVERDUE, passed)).fetchall()
        return Ledger(
            lanes=before,
            after=after_batch,
            waiting=tuple(waiting),
            overdue=tuple(Deadline(*row) for row in overdue),
            visits=tuple(visits),
            past=await past_perceptions(conn, expectation_since(keys.earliest, visits)),
            known=frozenset(moment_id for (moment_id,) in known),
        )

    @staticmethod
    async def _deadlines(conn: AsyncConnection, query: str, param: object) -> list[Deadline]:
        rows = await (await conn.execute(query, (param,))).fetchall()
        return [Deadline(*row) for row in rows]

    @staticmethod
    async def _save_moments(conn: AsyncConnection, settlement: Settlement) -> set[str]:
        rows = [*settlement.moments, *(m.moment for m in settlement.missed if m.moment)]
        if not rows:
            return set()
        lanes = [mark.lane if (mark := settlement.marks.get(r.moment_id)) else 0 for r in rows]
        params = {**columns(rows, MOMENT_COLUMNS), "lane": lanes}  # known moments: no matter
        cursor = await conn.execute(SAVE_MOMENTS, params)
        return {moment_id for (moment_id,) in await cursor.fetchall()}

    @staticmethod
    async def _as_stored(
        conn: AsyncConnection, moments: list[MomentRow], known: frozenset[str]
    ) -> list[MomentRow]:
        """The moments as first stored: a repeat is published as its first copy was."""
        first: dict[str, bytes] = {}
        for m in moments:
            first.setdefault(m.moment_id, m.payload)
        if known:
            found = await (await conn.execute(SELECT_PAYLOADS, (list(known),))).fetchall()
            first.update({moment_id: bytes(payload) for moment_id, payload in found})
        return [
            replace(m, payload=first[m.moment_id]) if m.moment_id in first else m for m in moments
        ]

    @staticmethod
    async def _save_deadlines(conn: AsyncConnection, settlement: Settlement) -> None:
        if settlement.opened:
            await conn.execute(OPEN_DEADLINES, columns(settlement.opened, DEADLINE_COLUMNS))
        if settlement.kept:
            kept = {"deadline_id": list(settlement.kept), "moment_id": [*settlement.kept.values()]}
            await conn.execute(KEEP_DEADLINES, kept)
        if settlement.missed:
            await conn.execute(MISS_DEADLINES, ([m.deadline_id for m in settlement.missed],))
            await add_to_outbox(conn, SCHEMA, [m.record for m in settlement.missed if m.record])

    async def open_deadlines(self) -> list[Deadline]:
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(SELECT_OPEN)).fetchall()
        return [Deadline(*row) for row in rows]


async def take_lanes(conn: AsyncConnection, lanes: list[int]) -> dict[int, LaneState]:
    """The lanes' clocks and what their sources told them (locked with the lanes)."""
    rows = await (await conn.execute(TAKE_CLOCKS, (lanes,))).fetchall()
    sources: dict[int, dict[int, datetime]] = {}
    for lane, source, at in await (await conn.execute(TAKE_SOURCES, (lanes,))).fetchall():
        sources.setdefault(lane, {})[source] = at
    return {
        lane: LaneState(clock, sources.get(lane, {}), expected) for lane, clock, expected in rows
    }


async def save_lanes(conn: AsyncConnection, lanes: Mapping[int, LaneState]) -> None:
    """The lanes after a batch: their clocks, and each source's progress."""
    kept = {lane: s for lane, s in sorted(lanes.items()) if s.clock is not None or s.expected}
    if not kept:
        return
    await conn.execute(
        SET_CLOCKS,
        {
            "lane": list(kept),
            "watermark": [s.clock for s in kept.values()],
            "expected": [s.expected for s in kept.values()],
        },
    )
    told = [(lane, source, at) for lane, s in kept.items() for source, at in s.sources.items()]
    if told:
        lane_ids, sources, times = zip(*told, strict=True)
        await conn.execute(
            SET_SOURCES,
            {"lane": list(lane_ids), "source": list(sources), "event_time": list(times)},
        )


def tallies_by_visit(settlement: Settlement, inserted: set[str]) -> dict[str, Tally]:
    """The tally each visit gains from the moments stored now (a redelivered one adds nothing)."""
    by_visit: dict[str, Tally] = {}
    for moment_id, mark in settlement.marks.items():
        if moment_id in inserted:
            by_visit[mark.visit_id] = by_visit.get(mark.visit_id, Tally()) + mark.tally
    return by_visit
