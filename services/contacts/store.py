"""Contacts' Postgres adapter: one statement per table per batch, idempotent by event id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from touchstone.common.pg import BEGINNING, columns


@dataclass(frozen=True)
class RecordedTouchpoint:
    """A valid touchpoint with its resolved customer and visit, ready to store."""

    event_id: str
    customer_id: str
    visit_id: str
    occurred_at: datetime
    source: str
    journey_map: str
    stage: str
    site_id: str
    payload: bytes
    identity: tuple[str, str] | None  # (kind, canonical value) when the producer sent one


@dataclass(frozen=True)
class DeadLetter:
    """Where a rejected record sits in its topic, and why it was rejected."""

    topic: str
    partition: int
    offset: int
    reason: str
    field: str
    source: str
    received_at: datetime


@dataclass(frozen=True)
class CustomerRow:
    """A customer as contacts knows them."""

    customer_id: str
    first_seen: datetime
    last_seen: datetime
    touchpoint_count: int
    identities: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class StoredTouchpoint:
    """A recorded touchpoint as it is read back."""

    event_id: str
    customer_id: str
    visit_id: str
    occurred_at: datetime
    payload: bytes


class ContactsStore(Protocol):
    """What the contacts handler and API need from storage."""

    async def save(
        self, recorded: Sequence[RecordedTouchpoint], dead: Sequence[DeadLetter]
    ) -> None:
        """Store a batch in one transaction; rows already stored are left as they are."""

    async def get_customer(self, customer_id: str) -> CustomerRow | None:
        """The customer, or None."""

    async def list_touchpoints(
        self, customer_id: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[StoredTouchpoint]:
        """The customer's touchpoints in event-time order, after a keyset position."""

    async def stats(self) -> tuple[int, int]:
        """(touchpoints recorded, records dead-lettered)."""


SAVE_TOUCHPOINTS = """
WITH incoming AS (
    SELECT * FROM unnest(
        %(event_id)b::text[], %(customer_id)b::text[], %(visit_id)b::text[],
        %(occurred_at)b::timestamptz[], %(source)b::text[], %(journey_map)b::text[],
        %(stage)b::text[], %(site_id)b::text[], %(payload)b::bytea[]
    ) AS t(event_id, customer_id, visit_id, occurred_at, source, journey_map, stage, site_id,
           payload)
), inserted AS (
    INSERT INTO contacts.touchpoints SELECT * FROM incoming
    ON CONFLICT (event_id) DO NOTHING
    RETURNING customer_id, occurred_at
)
INSERT INTO contacts.customers (customer_id, first_seen, last_seen, touchpoint_count)
SELECT customer_id, min(occurred_at), max(occurred_at), count(*) FROM inserted
GROUP BY customer_id ORDER BY customer_id
ON CONFLICT (customer_id) DO UPDATE SET
    first_seen = least(customers.first_seen, excluded.first_seen),
    last_seen = greatest(customers.last_seen, excluded.last_seen),
    touchpoint_count = customers.touchpoint_count + excluded.touchpoint_count
"""

SAVE_IDENTITIES = """
INSERT INTO contacts.identities (kind, value, customer_id)
SELECT DISTINCT * FROM unnest(%(kind)b::text[], %(value)b::text[], %(customer_id)b::text[])
ORDER BY 1, 2
ON CONFLICT (kind, value) DO NOTHING
"""

SAVE_DEAD_LETTERS = """
INSERT INTO contacts.dead_letters
SELECT * FROM unnest(
    %(topic)b::text[], %(partition)b::int[], %(offset)b::bigint[], %(reason)b::text[],
    %(field)b::text[], %(source)b::text[], %(received_at)b::timestamptz[]
)
ON CONFLICT DO NOTHING
"""

SELECT_CUSTOMER = """
SELECT customer_id, first_seen, last_seen, touchpoint_count
FROM contacts.customers WHERE customer_id = %s
"""

SELECT_IDENTITIES = """
SELECT kind, value FROM contacts.identities WHERE customer_id = %s ORDER BY kind, value
"""

SELECT_TOUCHPOINTS = """
SELECT event_id, customer_id, visit_id, occurred_at, payload
FROM contacts.touchpoints
WHERE customer_id = %(customer_id)s
  AND (occurred_at, event_id) > (%(after_time)s::timestamptz, %(after_id)s::text)
ORDER BY occurred_at, event_id
LIMIT %(limit)s
"""

SELECT_STATS = """
SELECT (SELECT count(*) FROM contacts.touchpoints), (SELECT count(*) FROM contacts.dead_letters)
"""


class PostgresContactsStore:
    """ContactsStore on Postgres (schema contacts)."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def save(
        self, recorded: Sequence[RecordedTouchpoint], dead: Sequence[DeadLetter]
    ) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            if recorded:
                await self._save_recorded(conn, recorded)
            if dead:
                names = ("topic", "partition", "offset", "reason", "field", "source", "received_at")
                await conn.execute(SAVE_DEAD_LETTERS, columns(dead, names))

    async def _save_recorded(
        self, conn: AsyncConnection, recorded: Sequence[RecordedTouchpoint]
    ) -> None:
        names = (
            "event_id",
            "customer_id",
            "visit_id",
            "occurred_at",
            "source",
            "journey_map",
            "stage",
            "site_id",
            "payload",
        )
        await conn.execute(SAVE_TOUCHPOINTS, columns(recorded, names))
        identified = [r for r in recorded if r.identity is not None]
        if identified:
            await conn.execute(
                SAVE_IDENTITIES,
                {
                    "kind": [r.identity[0] for r in identified if r.identity],
                    "value": [r.identity[1] for r in identified if r.identity],
                    "customer_id": [r.customer_id for r in identified],
                },
            )

    async def get_customer(self, customer_id: str) -> CustomerRow | None:
        async with self.pool.connection() as conn:
            row = await (await conn.execute(SELECT_CUSTOMER, (customer_id,))).fetchone()
            if row is None:
                return None
            identities = await (await conn.execute(SELECT_IDENTITIES, (customer_id,))).fetchall()
        customer_id_, first_seen, last_seen, count = row
        return CustomerRow(
            customer_id_, first_seen, last_seen, count, tuple((k, v) for k, v in identities)
        )

    async def list_touchpoints(
        self, customer_id: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[StoredTouchpoint]:
        after_time, after_id = after or (BEGINNING, "")
        params = {
            "customer_id": customer_id,
            "after_time": after_time,
            "after_id": after_id,
            "limit": limit,
        }
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(SELECT_TOUCHPOINTS, params)).fetchall()
        return [StoredTouchpoint(*row) for row in rows]

    async def stats(self) -> tuple[int, int]:
        async with self.pool.connection() as conn:
            row = await (await conn.execute(SELECT_STATS)).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])
