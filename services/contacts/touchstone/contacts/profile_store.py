"""Profiles in Postgres: register, update and consent, each with its event in the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from touchstone.contacts.identity_keys import IdentityKeys
from touchstone.contacts.key_store import customer_key
from touchstone.contacts.merge_store import link, lock_merges, root_of
from touchstone.contacts.ports import EventFor, ProfileChange
from touchstone.contacts.profile_events import new_merge
from touchstone.contacts.profiles import Identity, Owner, check_not_absorbed, linking, registration
from touchstone.contacts.store import SCHEMA
from touchstone.platform.messaging.outbox import add_to_outbox

SELECT_OWNERS = """
WITH owners AS MATERIALIZED (  -- each root once, not once for every row a join compares
    SELECT i.kind, i.value, contacts.customer_root(i.customer_id) AS root
    FROM contacts.identities i
    WHERE (i.kind, i.value) IN (SELECT * FROM unnest(%(kind)b::text[], %(value)b::text[]))
    FOR UPDATE OF i
)
SELECT o.kind, o.value, o.root, coalesce(c.status = 'registered', false)
FROM owners o LEFT JOIN contacts.customers c ON c.customer_id = o.root
"""

UPSERT_REGISTERED = """
INSERT INTO contacts.customers (customer_id, status, profile, consent)
VALUES (%(customer_id)s, 'registered', %(profile)s, %(consent)s)
ON CONFLICT (customer_id) DO UPDATE SET
    status = 'registered', profile = excluded.profile, consent = excluded.consent
"""

UPDATE_CUSTOMER = """
UPDATE contacts.customers SET profile = coalesce(%(profile)s, profile),
                              consent = coalesce(%(consent)s, consent)
WHERE customer_id = %(customer_id)s AND status = 'registered'
"""

CLAIM_IDENTITIES = """
INSERT INTO contacts.identities (kind, value, customer_id)
SELECT kind, value, %(customer_id)s
FROM unnest(%(kind)b::text[], %(value)b::text[]) AS t(kind, value)
ON CONFLICT (kind, value) DO NOTHING
"""

SELECT_PROFILE = """
SELECT status, profile, consent FROM contacts.customers WHERE customer_id = %s
"""


def _identity_params(identities: Sequence[Identity]) -> dict[str, Any]:
    return {"kind": [k for k, _ in identities], "value": [v for _, v in identities]}


async def _owners(conn: AsyncConnection, identities: Sequence[Identity]) -> dict[Identity, Owner]:
    rows = await (await conn.execute(SELECT_OWNERS, _identity_params(identities))).fetchall()
    return {(kind, value): Owner(owner, registered) for kind, value, owner, registered in rows}


class PostgresProfiles:
    """ProfileStore on Postgres (contacts.customers and contacts.identities)."""

    pool: AsyncConnectionPool
    identity_keys: IdentityKeys  # a registration's customer id is keyed like a touchpoint's

    async def owners(self, identities: Sequence[Identity]) -> dict[Identity, Owner]:
        async with self.pool.connection() as conn:
            return await _owners(conn, identities)

    async def register(self, requested: str, change: ProfileChange, event: EventFor) -> str:
        async with self.pool.connection() as conn, conn.transaction():
            await lock_merges(conn)
            owners = await _owners(conn, change.identities)
            customer_id = registration(
                requested, change.identities, owners, self.identity_keys
            ).customer_id
            check_not_absorbed(customer_id, await root_of(conn, customer_id))
            await conn.execute(
                UPSERT_REGISTERED,
                {
                    "customer_id": customer_id,
                    "profile": change.profile,
                    "consent": change.consent,
                },
            )
            await self._claim(conn, customer_id, change, owners, event)
        return customer_id

    async def update(self, customer_id: str, change: ProfileChange, event: EventFor) -> bool:
        async with self.pool.connection() as conn, conn.transaction():
            await lock_merges(conn)  # first, as register does: the same lock order, no deadlock
            root = await root_of(conn, customer_id)  # a merged customer's profile is the root's
            updated = await conn.execute(
                UPDATE_CUSTOMER,
                {"customer_id": root, "profile": change.profile, "consent": change.consent},
            )
            if updated.rowcount == 0:
                return False
            owners = await _owners(conn, change.identities)
            await self._claim(conn, root, change, owners, event)
        return True

    async def _claim(
        self,
        conn: AsyncConnection,
        customer_id: str,
        change: ProfileChange,
        owners: dict[Identity, Owner],
        event: EventFor,
    ) -> None:
        """Give the customer (a root) the identities nobody holds, merge in the provisional
        customers holding the others, and queue the command's event, then the merges'."""
        known = {i: owners[i] for i in change.identities if i in owners}
        absorbed = linking(customer_id, known)
        merges = [new_merge(customer_id, a, change.reason) for a in absorbed]
        if change.identities:
            params = {**_identity_params(change.identities), "customer_id": customer_id}
            await conn.execute(CLAIM_IDENTITIES, params)
        key = await customer_key(conn, customer_id)
        await add_to_outbox(conn, SCHEMA, [event(customer_id, key)])
        await link(conn, merges)

    async def profile_of(self, customer_id: str) -> tuple[str, bytes | None, bytes | None] | None:
        async with self.pool.connection() as conn:
            row = await (await conn.execute(SELECT_PROFILE, (customer_id,))).fetchone()
        if row is None:
            return None
        status, profile, consent = row
        return status, bytes(profile) if profile else None, bytes(consent) if consent else None
