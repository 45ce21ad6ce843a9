"""Contacts' Postgres adapter: each event id recorded once; repeats classified, kept apart."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from touchstone.contacts.domain import (
    Outcome,
    classify_repeat,
)
from touchstone.contacts.identity_keys import IdentityKeys
from touchstone.contacts.ports import (
    Arrival,
    CustomerRow,
    DeadLetter,
    RecordedTouchpoint,
    StoredTouchpoint,
    VocabularyGapCount,
    conflict_letter,
    gaps_recorded,
)
from touchstone.contacts.queries import (
    SAVE_CONFLICTS,
    SAVE_DEAD_LETTERS,
    SAVE_IDENTITIES,
    SAVE_TOUCHPOINTS,
    SAVE_VOCABULARY_GAPS,
    SELECT_CUSTOMER,
    SELECT_IDENTITIES,
    SELECT_IDENTITY_OWNERS,
    SELECT_PAYLOADS,
    SELECT_SEEN_AT,
    SELECT_STATS,
    SELECT_TOUCHPOINTS,
    SELECT_VOCABULARY_GAPS,
    TOUCHPOINT_COLUMNS,
)
from touchstone.platform.messaging.customer_links_store import customer_group
from touchstone.platform.messaging.outbox import add_to_outbox
from touchstone.platform.messaging.topics import Outgoing, headers_to_json
from touchstone.platform.persistence.pg import columns
from touchstone.platform.runtime.time_bounds import BEGINNING, END_OF_TIME

SCHEMA = "contacts"
GAP_COLUMNS = ("source", "journey_map", "stage", "kind", "name", "touchpoints")


def dead_letter_columns(letters: Sequence[DeadLetter]) -> dict[str, list[object]]:
    """Column arrays for SAVE_DEAD_LETTERS."""
    arrivals = [d.arrival for d in letters]
    return {
        **columns(arrivals, ("topic", "partition", "offset", "received_at", "key", "value")),
        "source": [a.source for a in arrivals],
        "headers": [headers_to_json(a.headers) for a in arrivals],
        **columns(letters, ("reason", "field")),
    }


class PostgresContactsStore:
    """ContactsStore on Postgres (schema contacts)."""

    def __init__(self, pool: AsyncConnectionPool, identity_keys: IdentityKeys) -> None:
        self.pool = pool
        self.identity_keys = identity_keys  # erased identities are found by their keyed hash

    async def record(
        self,
        rows: Sequence[RecordedTouchpoint],
        arrivals: Sequence[Arrival | None],
        dead: Sequence[DeadLetter],
        announce: Sequence[Outgoing] = (),
    ) -> list[Outcome]:
        async with self.pool.connection() as conn, conn.transaction():
            outcomes = await self._record(conn, rows, arrivals) if rows else []
            if announce:
                new = zip(announce, outcomes, strict=True)
                await add_to_outbox(conn, SCHEMA, [e for e, o in new if o is Outcome.RECORDED])
            letters = [
                *dead,
                *(
                    conflict_letter(r, a)
                    for r, a, o in zip(rows, arrivals, outcomes, strict=True)
                    if o is Outcome.CONFLICT and a is not None
                ),
            ]
            if letters:
                await conn.execute(SAVE_DEAD_LETTERS, dead_letter_columns(letters))
        return outcomes

    async def _record(
        self,
        conn: AsyncConnection,
        rows: Sequence[RecordedTouchpoint],
        arrivals: Sequence[Arrival | None],
    ) -> list[Outcome]:
        first: dict[str, int] = {}  # event id -> index of its first row in the batch
        for index, row in enumerate(rows):
            first.setdefault(row.event_id, index)
        unique = [rows[i] for i in first.values()]
        cursor = await conn.execute(SAVE_TOUCHPOINTS, columns(unique, TOUCHPOINT_COLUMNS))
        inserted = {event_id for (event_id,) in await cursor.fetchall()}
        recorded = {e: rows[first[e]].payload for e in inserted}
        if repeats := [e for e in first if e not in inserted]:
            found = await (await conn.execute(SELECT_PAYLOADS, (repeats,))).fetchall()
            recorded.update({event_id: bytes(payload) for event_id, payload in found})
        outcomes = [
            Outcome.RECORDED
            if first[row.event_id] == index and row.event_id in inserted
            else classify_repeat(row.payload, recorded[row.event_id])
            for index, row in enumerate(rows)
        ]
        await self._quarantine(conn, rows, arrivals, outcomes, recorded)
        await self._save_identities(conn, [rows[i] for i in sorted(first[e] for e in inserted)])
        if gaps := gaps_recorded(rows, outcomes):
            await conn.execute(SAVE_VOCABULARY_GAPS, columns(gaps, GAP_COLUMNS))
        return outcomes

    async def _quarantine(
        self,
        conn: AsyncConnection,
        rows: Sequence[RecordedTouchpoint],
        arrivals: Sequence[Arrival | None],
        outcomes: Sequence[Outcome],
        recorded: dict[str, bytes],
    ) -> None:
        conflicts = [
            (row, arrival)
            for row, arrival, outcome in zip(rows, arrivals, outcomes, strict=True)
            if outcome is Outcome.CONFLICT
        ]
        if conflicts:
            await conn.execute(
                SAVE_CONFLICTS,
                {
                    "event_id": [r.event_id for r, _ in conflicts],
                    "recorded": [recorded[r.event_id] for r, _ in conflicts],
                    "conflicting": [r.payload for r, _ in conflicts],
                    "received_at": [a.received_at if a else r.occurred_at for r, a in conflicts],
                },
            )

    async def _save_identities(
        self, conn: AsyncConnection, rows: Sequence[RecordedTouchpoint]
    ) -> None:
        first: dict[tuple[str, str], str] = {}  # the first in log order holds the identity
        for row in rows:
            if row.identity is not None:
                first.setdefault(row.identity, row.customer_id)
        identified = list(first.items())
        if identified:
            await conn.execute(
                SAVE_IDENTITIES,
                {
                    "kind": [i[0] for i, _ in identified],
                    "value": [i[1] for i, _ in identified],
                    "customer_id": [c for _, c in identified],
                },
            )

    async def identity_owners(
        self, identities: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        if not identities:
            return {}
        hashed = [(i, d) for i in identities for d in self.identity_keys.digests(*i)]
        params = {
            "kind": [k for k, _ in identities],
            "value": [v for _, v in identities],
            "hashed_kind": [k for (k, _), _ in hashed],
            "hashed_value": [v for (_, v), _ in hashed],
            "digest": [d for _, d in hashed],
        }
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(SELECT_IDENTITY_OWNERS, params)).fetchall()
        return {(kind, value): owner for kind, value, owner in rows}

    async def get_customer(self, customer_id: str) -> CustomerRow | None:
        async with self.pool.connection() as conn:
            root, *merged = await customer_group(conn, SCHEMA, customer_id)
            members = [root, *merged]
            params = {"root": root, "members": members}
            row = await (await conn.execute(SELECT_CUSTOMER, params)).fetchone()
            if row is None:
                return None
            identities = await (await conn.execute(SELECT_IDENTITIES, (members,))).fetchall()
        customer_id_, first_seen, last_seen, count, status, profile, consent = row
        return CustomerRow(
            customer_id_,
            first_seen,
            last_seen,
            count,
            tuple((k, v) for k, v in identities),
            status,
            bytes(profile) if profile else None,
            bytes(consent) if consent else None,
            tuple(merged),
        )

    async def list_touchpoints(
        self,
        customer_id: str,
        after: tuple[datetime, str] | None,
        limit: int,
        until: datetime | None = None,
    ) -> list[StoredTouchpoint]:
        after_time, after_id = after or (BEGINNING, "")
        params = {
            "customer_id": customer_id,
            "after_time": after_time,
            "after_id": after_id,
            "limit": limit,
            "until": until or END_OF_TIME,
        }
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(SELECT_TOUCHPOINTS, params)).fetchall()
        return [StoredTouchpoint(*row) for row in rows]

    async def seen_at(self, customer_id: str, sites: Collection[str]) -> bool:
        params = {"customer_id": customer_id, "sites": list(sites)}
        async with self.pool.connection() as conn:
            row = await (await conn.execute(SELECT_SEEN_AT, params)).fetchone()
        return bool(row and row[0])

    async def vocabulary_gaps(self) -> list[VocabularyGapCount]:
        """Every gap counted so far, most touchpoints first."""
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(SELECT_VOCABULARY_GAPS)).fetchall()
        return [VocabularyGapCount(*row) for row in rows]

    async def stats(self, sites: Sequence[str] | None = None) -> tuple[int, int]:
        async with self.pool.connection() as conn:
            row = await (await conn.execute(SELECT_STATS, {"sites": sites})).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])
