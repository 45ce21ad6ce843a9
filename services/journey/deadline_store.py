"""Settling a batch in Postgres: moments, the deadlines they open and keep, the ones that passed.

One transaction per batch holds journey's event clock (one row, locked), reads the deadlines
that matter, lets the handler decide, and writes every consequence: moments, new deadlines,
kept deadlines, missed deadlines with their lost moments in the outbox. Nothing decided is lost
and nothing is decided twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from journey.deadlines import Deadline
from journey.store import MOMENT_COLUMNS, SAVE_MOMENTS, MomentRow
from journey.visit_store import Completion, EndingVisit, complete_visits, ending_visits
from touchstone.common.outbox import add_to_outbox
from touchstone.common.pg import columns
from touchstone.common.topics import Outgoing

SCHEMA = "journey"


@dataclass(frozen=True)
class Ledger:
    """What a batch is decided against."""

    waiting: tuple[Deadline, ...]  # open deadlines of the batch's customers
    overdue: tuple[Deadline, ...]  # open deadlines the event clock has passed (with lateness)
    watermark: datetime | None  # the event clock after this batch
    ending: tuple[EndingVisit, ...] = ()  # open visits quiet for at least the shortest gap


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
    opened: list[Deadline] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # deadline id -> the moment that came
    missed: list[MissedDeadline] = field(default_factory=list)
    completed: list[Completion] = field(default_factory=list)


Decide = Callable[[Ledger], Settlement]


class DeadlineStore(Protocol):
    """Settling batches against the deadlines and the event clock."""

    async def settle(
        self,
        customer_ids: Sequence[str],
        batch_time: datetime | None,
        lateness: timedelta,
        decide: Decide,
        visit_gap: timedelta = timedelta(0),
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


class PostgresDeadlines:
    """DeadlineStore on Postgres (journey.deadlines, journey.event_clock, journey.outbox)."""

    pool: AsyncConnectionPool

    async def settle(
        self,
        customer_ids: Sequence[str],
        batch_time: datetime | None,
        lateness: timedelta,
        decide: Decide,
        visit_gap: timedelta = timedelta(0),
    ) -> list[MomentRow]:
        async with self.pool.connection() as conn, conn.transaction():
            ledger = await self._ledger(conn, customer_ids, batch_time, lateness, visit_gap)
            settlement = decide(ledger)
            stored = await self._save_moments(conn, settlement)
            await self._save_deadlines(conn, settlement)
            await complete_visits(conn, settlement.completed)
            await add_to_outbox(conn, SCHEMA, [c.record for c in settlement.completed])
            if ledger.watermark is not None:
                await conn.execute(SET_CLOCK, (ledger.watermark,))
        return stored

    async def _ledger(
        self,
        conn: AsyncConnection,
        customer_ids: Sequence[str],
        batch_time: datetime | None,
        lateness: timedelta,
        visit_gap: timedelta,
    ) -> Ledger:
        row = await (await conn.execute(TAKE_CLOCK)).fetchone()
        times = [t for t in (row[0] if row else None, batch_time) if t is not None]
        watermark = max(times) if times else None
        waiting = await self._deadlines(conn, SELECT_WAITING, list(customer_ids))
        if watermark is None:
            return Ledger(tuple(waiting), (), None)
        overdue = await self._deadlines(conn, SELECT_OVERDUE, watermark - lateness)
        ending = await ending_visits(conn, watermark - lateness - visit_gap)
        return Ledger(tuple(waiting), tuple(overdue), watermark, tuple(ending))

    @staticmethod
    async def _deadlines(conn: AsyncConnection, query: str, param: object) -> list[Deadline]:
        rows = await (await conn.execute(query, (param,))).fetchall()
        return [Deadline(*row) for row in rows]

    @staticmethod
    async def _save_moments(conn: AsyncConnection, settlement: Settlement) -> list[MomentRow]:
        rows = [*settlement.moments, *(m.moment for m in settlement.missed if m.moment)]
        if not rows:
            return []
        cursor = await conn.execute(SAVE_MOMENTS, columns(rows, MOMENT_COLUMNS))
        inserted = {moment_id for (moment_id,) in await cursor.fetchall()}
        repeats = [m.moment_id for m in settlement.moments if m.moment_id not in inserted]
        if not repeats:
            return settlement.moments
        found = await (await conn.execute(SELECT_PAYLOADS, (repeats,))).fetchall()
        first = {moment_id: bytes(payload) for moment_id, payload in found}
        return [
            replace(m, payload=first[m.moment_id]) if m.moment_id in first else m
            for m in settlement.moments
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
