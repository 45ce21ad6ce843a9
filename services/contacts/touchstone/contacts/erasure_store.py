"""Erasure in Postgres: personal data out of every contacts table, anonymous facts kept."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from touchstone.contacts.admission import names_customer
from touchstone.contacts.identity_keys import IdentityKeys
from touchstone.contacts.key_store import destroy_key
from touchstone.contacts.merge_store import lock_merges
from touchstone.contacts.ports import Erased, Erasing, Scrub
from touchstone.contacts.store import SCHEMA
from touchstone.platform.messaging.customer_links_store import customer_group
from touchstone.platform.messaging.outbox import add_to_outbox
from touchstone.platform.messaging.topics import (
    CONTACTS_RECORDED,
    content_type_of,
    headers_from_json,
)

LOCK_CUSTOMER = "SELECT 1 FROM contacts.customers WHERE customer_id = %s FOR UPDATE"
SELECT_IDENTITIES = "SELECT kind, value FROM contacts.identities WHERE customer_id = %s"
REMEMBER_ERASED = """
INSERT INTO contacts.erased_identities (identity_sha256, key_id, customer_id)
SELECT unnest(%(digests)b::bytea[]), %(key_id)s, %(customer_id)s ON CONFLICT DO NOTHING
"""
SELECT_UNKEYED = """
SELECT identity_sha256 FROM contacts.erased_identities WHERE key_id IS NULL FOR UPDATE
"""
DROP_SUPERSEDED = """
DELETE FROM contacts.erased_identities e
USING unnest(%(old)b::bytea[], %(digest)b::bytea[]) AS n(old, digest)
WHERE e.identity_sha256 = n.old AND e.key_id IS NULL
  AND EXISTS (SELECT 1 FROM contacts.erased_identities k WHERE k.identity_sha256 = n.digest)
"""
REKEY = """
UPDATE contacts.erased_identities e SET identity_sha256 = n.digest, key_id = %(key_id)s
FROM unnest(%(old)b::bytea[], %(digest)b::bytea[]) AS n(old, digest)
WHERE e.identity_sha256 = n.old AND e.key_id IS NULL
"""
FORGET_IDENTITIES = "DELETE FROM contacts.identities WHERE customer_id = %s"
ANONYMISE_CUSTOMER = """
UPDATE contacts.customers SET profile = NULL, consent = NULL, status = 'erased'
WHERE customer_id = %s
"""
FORGET_MERGE_REASONS = """
UPDATE contacts.customer_links SET reason = '', unmerge_reason = ''
WHERE survivor_id = %(customer_id)s OR absorbed_id = %(customer_id)s
"""
SELECT_PAYLOADS = "SELECT event_id, payload FROM contacts.touchpoints WHERE customer_id = %s"
REWRITE_PAYLOADS = """
UPDATE contacts.touchpoints t SET payload = n.payload
FROM unnest(%(event_id)b::text[], %(payload)b::bytea[]) AS n(event_id, payload)
WHERE t.event_id = n.event_id
"""
DROP_CONFLICTS = "DELETE FROM contacts.conflicts WHERE event_id = ANY(%b)"
SELECT_DEAD_LETTERS = """
SELECT topic, partition, "offset", key, value, headers FROM contacts.dead_letters
WHERE value <> '' OR key <> ''
"""
SCRUB_DEAD_LETTERS = """
UPDATE contacts.dead_letters SET key = '', value = '', headers = '[]'
WHERE (topic, partition, "offset") IN (
    SELECT * FROM unnest(%(topic)b::text[], %(partition)b::int[], %(offset)b::bigint[]))
"""
SELECT_PENDING = """
SELECT id, value FROM contacts.outbox WHERE topic = %s AND key = %s FOR UPDATE
"""
REWRITE_PENDING = """
UPDATE contacts.outbox o SET value = n.value
FROM unnest(%(id)b::bigint[], %(value)b::bytea[]) AS n(id, value) WHERE o.id = n.id
"""
SELECT_ERASED = """
SELECT customer_id FROM contacts.customers WHERE customer_id = ANY(%b) AND status = 'erased'
"""


class PostgresErasure:
    """ErasureStore on Postgres (every contacts table that can hold personal data)."""

    pool: AsyncConnectionPool
    identity_keys: IdentityKeys

    async def rekey_erased(self) -> int:
        """Key the erased identities remembered by a bare SHA-256 (before migration 009): each
        becomes its HMAC under the current key, which is what lookups compute. How many."""
        keys = self.identity_keys
        async with self.pool.connection() as conn, conn.transaction():
            old = [bytes(d) for (d,) in await (await conn.execute(SELECT_UNKEYED)).fetchall()]
            if old:
                params = {"old": old, "digest": [keys.rekeyed(d) for d in old]}
                # erased again since, under the key: the later erasure is the one remembered
                await conn.execute(DROP_SUPERSEDED, params)
                await conn.execute(REKEY, {**params, "key_id": keys.current_id})
        return len(old)

    async def erase(
        self, customer_id: str, scrub_touchpoint: Scrub, scrub_recorded: Scrub, event: Erasing
    ) -> Erased | None:
        async with self.pool.connection() as conn, conn.transaction():
            await lock_merges(conn)  # nobody joins the group while it is erased
            if await (await conn.execute(LOCK_CUSTOMER, (customer_id,))).fetchone() is None:
                return None
            erased = Erased(0, 0, 0)
            for member in await customer_group(conn, SCHEMA, customer_id):
                erased += await self._erase_one(conn, member, scrub_touchpoint, scrub_recorded)
                await destroy_key(conn, member)  # what profile events sealed: unreadable
                await add_to_outbox(conn, SCHEMA, [event(member)])
        return erased

    async def _erase_one(
        self,
        conn: AsyncConnection,
        customer_id: str,
        scrub_touchpoint: Scrub,
        scrub_recorded: Scrub,
    ) -> Erased:
        """Erase one customer id, inside the caller's transaction."""
        identities = await (await conn.execute(SELECT_IDENTITIES, (customer_id,))).fetchall()
        keys = self.identity_keys
        digests = [keys.digest(kind, value) for kind, value in identities]
        await conn.execute(
            REMEMBER_ERASED,
            {"digests": digests, "key_id": keys.current_id, "customer_id": customer_id},
        )
        await conn.execute(FORGET_IDENTITIES, (customer_id,))
        await conn.execute(ANONYMISE_CUSTOMER, (customer_id,))
        await conn.execute(FORGET_MERGE_REASONS, {"customer_id": customer_id})  # free text
        touchpoints = await self._scrub_touchpoints(conn, customer_id, scrub_touchpoint)
        known = {(kind, value) for kind, value in identities}
        letters = await self._scrub_dead_letters(conn, customer_id, known)
        await self._scrub_pending(conn, customer_id, scrub_recorded)
        return Erased(len(identities), touchpoints, letters)

    async def _scrub_dead_letters(
        self, conn: AsyncConnection, customer_id: str, identities: set[tuple[str, str]]
    ) -> int:
        """Dead letters naming the customer, by key or in their bytes, keep only why they died.

        This reads every dead letter that still has bytes: erasures are rare, and a record's
        key may spell an identity any way its producer liked.
        """
        doomed: list[tuple[str, int, int]] = []
        async with conn.cursor(name="erasure_dead_letters") as cursor:
            await cursor.execute(SELECT_DEAD_LETTERS)
            async for topic, partition, offset, key, value, headers in cursor:
                content_type = content_type_of(dict(headers_from_json(headers)))
                if names_customer(bytes(key), bytes(value), content_type, customer_id, identities):
                    doomed.append((topic, partition, offset))
        if doomed:
            await conn.execute(
                SCRUB_DEAD_LETTERS,
                {
                    "topic": [d[0] for d in doomed],
                    "partition": [d[1] for d in doomed],
                    "offset": [d[2] for d in doomed],
                },
            )
        return len(doomed)

    async def _scrub_touchpoints(
        self, conn: AsyncConnection, customer_id: str, scrub: Scrub
    ) -> int:
        rows = await (await conn.execute(SELECT_PAYLOADS, (customer_id,))).fetchall()
        if rows:
            await conn.execute(
                REWRITE_PAYLOADS,
                {
                    "event_id": [e for e, _ in rows],
                    "payload": [scrub(bytes(p)) for _, p in rows],
                },
            )
            await conn.execute(DROP_CONFLICTS, ([e for e, _ in rows],))
        return len(rows)

    async def _scrub_pending(self, conn: AsyncConnection, customer_id: str, scrub: Scrub) -> None:
        """Events not yet relayed must not carry the personal data out either."""
        params = (CONTACTS_RECORDED, customer_id.encode())
        rows = await (await conn.execute(SELECT_PENDING, params)).fetchall()
        if rows:
            await conn.execute(
                REWRITE_PENDING,
                {
                    "id": [i for i, _ in rows],
                    "value": [scrub(bytes(v)) for _, v in rows],
                },
            )

    async def erased_among(self, customer_ids: Sequence[str]) -> set[str]:
        if not customer_ids:
            return set()
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(SELECT_ERASED, (list(customer_ids),))).fetchall()
        return {customer_id for (customer_id,) in rows}
