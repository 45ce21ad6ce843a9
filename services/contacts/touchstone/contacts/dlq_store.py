"""Dead letters in Postgres: find them, count them by reason, redrive them via the outbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from touchstone.contacts.ports import Arrival, DeadLetterQuery, StoredDeadLetter
from touchstone.contacts.store import SCHEMA
from touchstone.platform.messaging.outbox import add_to_outbox
from touchstone.platform.messaging.topics import headers_from_json
from touchstone.platform.runtime.time_bounds import BEGINNING

FORGET_BYTES_BEFORE = """
UPDATE contacts.dead_letters SET key = '', value = '', headers = '[]'
WHERE received_at < %s AND (value <> '' OR key <> '' OR headers <> '[]'::jsonb)
"""
COLUMNS = sql.SQL(
    'topic, partition, "offset", received_at, key, value, headers, reason, field, redriven_at'
)
ID = sql.SQL("""(topic || '/' || partition || '/' || "offset")""")

SELECT_PAGE = sql.SQL("""
SELECT {columns} FROM contacts.dead_letters
WHERE {where} AND (received_at, {id}) > (%(after_time)s, %(after_id)s)
ORDER BY received_at, {id} LIMIT %(limit)s
""")

SELECT_COUNTS = sql.SQL("""
SELECT field, source, count(*) FROM contacts.dead_letters WHERE {where}
GROUP BY field, source ORDER BY count(*) DESC, field, source
""")

SELECT_FOR_REDRIVE = sql.SQL("""
SELECT {columns} FROM contacts.dead_letters WHERE {where}
ORDER BY received_at, {id} FOR UPDATE
""")

MARK_REDRIVEN = """
UPDATE contacts.dead_letters SET redriven_at = now()
WHERE (topic || '/' || partition || '/' || "offset") = ANY(%b)
"""


def where_clause(query: DeadLetterQuery) -> tuple[sql.Composable, dict[str, Any]]:
    """The SQL condition and parameters for a query."""
    conditions: list[sql.Composable] = [sql.SQL("true")]
    params: dict[str, Any] = {}
    checks = [
        ("reason_contains", "reason ILIKE '%%' || {} || '%%'"),
        ("field", "field = {}"),
        ("source", "source = {}"),
        ("since", "received_at >= {}"),
        ("until", "received_at < {}"),
    ]
    for name, template in checks:
        if getattr(query, name):
            conditions.append(sql.SQL(template).format(sql.Placeholder(name)))
            params[name] = getattr(query, name)
    if not query.include_redriven:
        conditions.append(sql.SQL("redriven_at IS NULL"))
    if query.ids:
        conditions.append(sql.SQL("{} = ANY(%(ids)b)").format(ID))
        params["ids"] = list(query.ids)
    return sql.SQL(" AND ").join(conditions), params


def from_row(row: Sequence[Any]) -> StoredDeadLetter:
    """A StoredDeadLetter from a row of COLUMNS."""
    topic, partition, offset, received_at, key, value, headers, reason, field, redriven = row
    arrival = Arrival(
        topic, partition, offset, received_at, bytes(key), bytes(value), headers_from_json(headers)
    )
    return StoredDeadLetter(arrival, reason, field, redriven)


class PostgresDeadLetters:
    """DeadLetterStore on Postgres (contacts.dead_letters); redrives go through the outbox."""

    pool: AsyncConnectionPool

    async def list_dead_letters(
        self, query: DeadLetterQuery, after: tuple[datetime, str] | None, limit: int
    ) -> tuple[list[StoredDeadLetter], int, list[tuple[str, str, int]]]:
        where, params = where_clause(query)
        after_time, after_id = after or (BEGINNING, "")
        page_params = {**params, "after_time": after_time, "after_id": after_id, "limit": limit}
        async with self.pool.connection() as conn:
            page = SELECT_PAGE.format(columns=COLUMNS, where=where, id=ID)
            rows = await (await conn.execute(page, page_params)).fetchall()
            counts = await (
                await conn.execute(SELECT_COUNTS.format(where=where), params)
            ).fetchall()
        total = sum(int(c) for _, _, c in counts)
        return [from_row(r) for r in rows], total, [(f, s, int(c)) for f, s, c in counts]

    async def get_dead_letter(self, dead_letter_id: str) -> StoredDeadLetter | None:
        query = DeadLetterQuery(include_redriven=True, ids=(dead_letter_id,))
        found, _, _ = await self.list_dead_letters(query, None, 1)
        return found[0] if found else None

    async def redrive(
        self, query: DeadLetterQuery, wanted: Callable[[StoredDeadLetter], bool], dry_run: bool
    ) -> tuple[list[str], list[str]]:
        where, params = where_clause(query)
        async with self.pool.connection() as conn, conn.transaction():
            select = SELECT_FOR_REDRIVE.format(columns=COLUMNS, where=where, id=ID)
            letters = [from_row(r) for r in await (await conn.execute(select, params)).fetchall()]
            chosen = [d for d in letters if wanted(d)]
            if not dry_run:
                await self._queue(conn, chosen)
        return [d.id for d in chosen], [d.id for d in letters if not wanted(d)]

    async def forget_bytes_before(self, cutoff: datetime) -> int:
        async with self.pool.connection() as conn:
            return (await conn.execute(FORGET_BYTES_BEFORE, (cutoff,))).rowcount

    async def _queue(self, conn: AsyncConnection, chosen: Sequence[StoredDeadLetter]) -> None:
        if chosen:
            await add_to_outbox(conn, SCHEMA, [d.redrive_record() for d in chosen])
            await conn.execute(MARK_REDRIVEN, ([d.id for d in chosen],))
