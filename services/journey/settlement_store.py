"""Settling a batch in Postgres: everything a batch of moments decides, in one transaction.

The transaction holds journey's event clock (one row, locked), reads what the batch is decided
against (the deadlines and visits it concerns, the customers' past visits, the moments already
stored), lets the handler decide, and writes every consequence: moments, visit tallies, stage
figures, deadlines opened, kept and missed, visits completed, and the records no input carries
(lost moments of missed deadlines, VisitCompleted) into the outbox. Nothing decided is lost or
decided twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from journey.deadlines import Deadline
from journey.stage_days import MomentMark, add_stage_days
from journey.store import MOMENT_COLUMNS, SAVE_MOMENTS, MomentRow
from journey.visit_store import (
    Completion,
    add_tallies,
    complete_visits,
    mark_seen,
    past_perceptions,
    visits_concerned,
)
from journey.visits import Tally, VisitState
from touchstone.common.outbox import add_to_outbox
from touchstone.common.pg import columns
from touchstone.common.topics import Outgoing

SCHEMA = "journey"
Past = Mapping[str, tuple[tuple[datetime, float], ...]]  # customer -> (last contact, perception)


@dataclass(frozen=True)
class BatchKeys:
    """What a batch touches, and its latest on-time event time."""

    customers: tuple[str, ...]
    visits: tuple[str, ...]
    moments: tuple[str, ...]
    time: datetime | None


@dataclass(frozen=True)
class Ledger:
    """What a batch is decided against."""

    clock: datetime | None  # the event clock before the batch
    watermark: datetime | None  # the event clock after it
    waiting: tuple[Deadline, ...] = ()  # open deadlines of the customers concerned
    overdue: tuple[Deadline, ...] = ()  # open deadlines the watermark passes (with lateness)
    visits: tuple[VisitState, ...] = ()  # the batch's visits, and those that may end by it
    past: Past = field(default_factory=dict)
    known: frozenset[str] = frozenset()  # the batch's moments already stored (redelivered)


@dataclass(frozen=True)
class MissedDeadline:
    """A deadline that passed: its lost moment, and that moment as a record to publish."""

    deadline_id: str
    moment: MomentRow | None  # None: its standard is no longer in force, so nobody judges it
    record: Outgoing | None


@dataclass(frozen=True)
class Settlement:
    """Everything a batch decided."""

    moments: list[MomentRow]
    marks: dict[str, MomentMark] = field(default_factory=dict)  # by moment: what a new one adds
    opened: list[Deadline] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # deadline id -> the moment that came
    missed: list[MissedDeadline] = field(default_factory=list)
    completed: list[Completion] = field(default_factory=list)
    seen: dict[str, datetime] = field(default_factory=dict)  # visit -> clock at its last moment


Decide = Callable[[Ledger], Settlement]


class SettlementStore(Protocol):
    """Settling batches against the deadlines, the visits and the event clock."""

    async def settle(
        self, keys: BatchKeys, lateness: timedelta, visit_gap: timedelta, decide: Decide
    ) -> list[MomentRow]:
        """Decide and store the batch in one transaction; the batch's moments as stored (a
        redelivered moment as it was first stored, so it is re-published unchanged)."""

    async def open_deadlines(self) -> list[Deadline]:
        """Every deadline still waiting, by due time."""


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
)
SELECTED = ", ".join(DEADLINE_COLUMNS)
OPEN = "closed_by IS NULL AND NOT missed"

# The advisory lock serialises settlements even before the clock row exists.
LOCK_CLOCK = "SELECT pg_advisory_xact_lock(hashtext('journey.event_clock'))"
TAKE_CLOCK = "SELECT watermark FROM journey.event_clock FOR UPDATE"
SET_CLOCK = """
INSERT INTO journey.event_clock (id, watermark) VALUES (true, %s)
ON CONFLICT (id) DO UPDATE SET watermark = greatest(event_clock.watermark, excluded.watermark)
"""
SELECT_WAITING = f"""
SELECT {SELECTED} FROM journey.deadlines WHERE customer_id = ANY(%s) AND {OPEN}
ORDER BY opened_at, deadline_id
"""
SELECT_OVERDUE = f"""
SELECT {SELECTED} FROM journey.deadlines WHERE due_at < %s AND {OPEN}
ORDER BY due_at, deadline_id
"""
SELECT_OPEN = f"SELECT {SELECTED} FROM journey.deadlines WHERE {OPEN} ORDER BY due_at"
OPEN_DEADLINES = f"""
INSERT INTO journey.deadlines ({SELECTED})
SELECT * FROM unnest(
    %(deadline_id)b::text[], %(standard_id)b::text[], %(customer_id)b::text[],
    %(visit_id)b::text[], %(site_id)b::text[], %(journey_map)b::text[], %(stage)b::text[],
    %(until_stage)b::text[], %(opened_by)b::text[], %(source_event_id)b::text[],
    %(opened_at)b::timestamptz[], %(due_at)b::timestamptz[]
)
ON CONFLICT (deadline_id) DO NOTHING
"""
KEEP_DEADLINES = f"""
UPDATE journey.deadlines d SET closed_by = k.moment_id
FROM unnest(%(deadline_id)b::text[], %(moment_id)b::text[]) AS k(deadline_id, moment_id)
WHERE d.deadline_id = k.deadline_id AND {OPEN}
"""
MISS_DEADLINES = (
    f"UPDATE journey.deadlines SET missed = true WHERE deadline_id = ANY(%s) AND {OPEN}"
)
SELECT_PAYLOADS = "SELECT moment_id, payload FROM journey.moments WHERE moment_id = ANY(%s)"
SELECT_KNOWN = "SELECT moment_id FROM journey.moments WHERE moment_id = ANY(%s)"


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
            await add_tallies(conn, tallies_by_visit(settlement, inserted))
            await add_stage_days(conn, [settlement.marks[m] for m in sorted(inserted)])
            await mark_seen(conn, settlement.seen)
            await self._save_deadlines(conn, settlement)
            await complete_visits(conn, settlement.completed)
            await add_to_outbox(conn, SCHEMA, [c.record for c in settlement.completed])
            if ledger.watermark is not None:
                await conn.execute(SET_CLOCK, (ledger.watermark,))
            return await self._as_stored(conn, settlement.moments, ledger.known)

    async def _ledger(
        self, conn: AsyncConnection, keys: BatchKeys, lateness: timedelta, visit_gap: timedelta
    ) -> Ledger:
        await conn.execute(LOCK_CLOCK)
        row = await (await conn.execute(TAKE_CLOCK)).fetchone()
        clock = row[0] if row else None
        times = [t for t in (clock, keys.time) if t is not None]
        watermark = max(times) if times else None
        known = await (await conn.execute(SELECT_KNOWN, (list(keys.moments),))).fetchall()
        quiet_since = watermark - lateness - visit_gap if watermark else None
        visits = await visits_concerned(conn, keys.visits, quiet_since)
        customers = sorted({*keys.customers, *(v.customer_id for v in visits)})
        waiting = await self._deadlines(conn, SELECT_WAITING, customers)
        overdue = (
            await self._deadlines(conn, SELECT_OVERDUE, watermark - lateness) if watermark else []
        )
        return Ledger(
            clock=clock,
            watermark=watermark,
            waiting=tuple(waiting),
            overdue=tuple(overdue),
            visits=tuple(visits),
            past=await past_perceptions(conn, customers),
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
        cursor = await conn.execute(SAVE_MOMENTS, columns(rows, MOMENT_COLUMNS))
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


def tallies_by_visit(settlement: Settlement, inserted: set[str]) -> dict[str, Tally]:
    """The tally each visit gains from the moments stored now (a redelivered one adds nothing)."""
    by_visit: dict[str, Tally] = {}
    for moment_id, mark in settlement.marks.items():
        if moment_id in inserted:
            by_visit[mark.visit_id] = by_visit.get(mark.visit_id, Tally()) + mark.tally
    return by_visit
