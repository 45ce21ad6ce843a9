"""Merges in Postgres: contacts' ledger (customer_links), each change with its event in the outbox.

History is never rewritten: touchpoints, identities and profiles stay under the id they were
recorded with, and every read follows the live links (customer_root / customer_group), here
and in every service that folds CustomersMerged. An unmerge flips one row back.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from touchstone.contacts.ports import UnknownCustomer
from touchstone.contacts.profile_events import merged_event, new_merge, unmerged_event
from touchstone.contacts.profiles import Merge, Party, check_group_size, merge_roots
from touchstone.contacts.store import SCHEMA
from touchstone.platform.messaging.outbox import add_to_outbox
from touchstone.platform.persistence.pg import columns

# Merges are rare and each decides from the links as they stand: one at a time, so two
# concurrent merges can never close a cycle.
LOCK_MERGES = "SELECT pg_advisory_xact_lock(hashtext('contacts.customer_links'))"

SELECT_PARTIES = """
WITH parties AS MATERIALIZED (  -- each root once, not once for every row a join compares
    SELECT c.customer_id, contacts.customer_root(c.customer_id) AS root
    FROM contacts.customers c WHERE c.customer_id = ANY(%b)
)
SELECT p.customer_id, r.customer_id, r.status
FROM parties p JOIN contacts.customers r ON r.customer_id = p.root
"""

INSERT_LINKS = """
INSERT INTO contacts.customer_links (merge_id, survivor_id, absorbed_id, reason)
SELECT * FROM unnest(
    %(merge_id)b::text[], %(survivor_id)b::text[], %(absorbed_id)b::text[], %(reason)b::text[]
)
"""

UNMERGE = """
UPDATE contacts.customer_links
SET unmerged = true, unmerged_at = now(), unmerge_reason = %(reason)s
WHERE absorbed_id = %(absorbed_id)s AND NOT unmerged
RETURNING merge_id, survivor_id, absorbed_id, reason
"""

MERGE_COLUMNS = ("merge_id", "survivor_id", "absorbed_id", "reason")

SELECT_ROOT = "SELECT contacts.customer_root(%s)"
SELECT_GROUPS_SIZE = """
SELECT count(*) FROM unnest(%b::text[]) AS i(id) CROSS JOIN LATERAL contacts.customer_group(i.id)
"""


async def lock_merges(conn: AsyncConnection) -> None:
    """Hold the merge lock until the transaction ends."""
    await conn.execute(LOCK_MERGES)


async def root_of(conn: AsyncConnection, customer_id: str) -> str:
    """The customer an id belongs to now (itself unless merged)."""
    row = await (await conn.execute(SELECT_ROOT, (customer_id,))).fetchone()
    return str(row[0]) if row else customer_id


async def link(conn: AsyncConnection, merges: Sequence[Merge]) -> None:
    """Record the merges and queue their CustomersMerged events, in the caller's transaction."""
    if merges:
        ids = [merges[0].survivor_id, *(m.absorbed_id for m in merges)]
        row = await (await conn.execute(SELECT_GROUPS_SIZE, (ids,))).fetchone()
        check_group_size(merges[0].survivor_id, row[0] if row else 0)
        await conn.execute(INSERT_LINKS, columns(merges, MERGE_COLUMNS))
        await add_to_outbox(conn, SCHEMA, [merged_event(m) for m in merges])


class PostgresMerges:
    """MergeStore on Postgres."""

    pool: AsyncConnectionPool

    async def merge(self, survivor_id: str, absorbed_id: str, reason: str) -> Merge:
        async with self.pool.connection() as conn, conn.transaction():
            await lock_merges(conn)
            rows = await (
                await conn.execute(SELECT_PARTIES, ([survivor_id, absorbed_id],))
            ).fetchall()
            parties = {row[0]: Party(*row) for row in rows}
            for customer_id in (survivor_id, absorbed_id):
                if customer_id not in parties:
                    raise UnknownCustomer(f"customer {customer_id} not found")
            survivor, absorbed = merge_roots(parties[survivor_id], parties[absorbed_id])
            merge = new_merge(survivor, absorbed, reason)
            await link(conn, [merge])
        return merge

    async def unmerge(self, absorbed_id: str, reason: str) -> Merge | None:
        async with self.pool.connection() as conn, conn.transaction():
            await lock_merges(conn)
            params = {"absorbed_id": absorbed_id, "reason": reason}
            row = await (await conn.execute(UNMERGE, params)).fetchone()
            if row is None:
                return None
            merge = Merge(*row)
            await add_to_outbox(conn, SCHEMA, [unmerged_event(merge)])
        return merge
