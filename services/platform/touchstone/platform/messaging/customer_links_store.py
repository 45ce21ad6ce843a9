"""Customer links in Postgres: each service's copy of contacts' merges, folded as they come, and
a customer's group read from it (customer_links.py says what a link is and how groups form)."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from touchstone.contacts.v1.profile_pb2 import CustomerEvent
from touchstone.platform.messaging.consumers import BatchHandler
from touchstone.platform.messaging.customer_links import (
    CustomerLinks,
    LinkChange,
    collapsed,
    link_change_of,
)
from touchstone.platform.messaging.decoding import (
    UnusableRecord,
    dead_letter_unusable,
    parse_record,
)
from touchstone.platform.messaging.topics import CONTACTS_PROFILES, Incoming, Outgoing

FOLD_LINKS = """
INSERT INTO {schema}.customer_links AS l (merge_id, survivor_id, absorbed_id, unmerged)
SELECT * FROM unnest(
    %(merge_id)b::text[], %(survivor_id)b::text[], %(absorbed_id)b::text[], %(unmerged)b::bool[]
)
ON CONFLICT (merge_id) DO UPDATE SET unmerged = l.unmerged OR excluded.unmerged
"""


SELECT_GROUP = """
SELECT {schema}.customer_root(%(customer_id)s),
       array(SELECT {schema}.customer_group(%(customer_id)s))
"""


def in_schema(template: str, schema: str) -> sql.Composed:
    """A statement over one service's schema."""
    return sql.SQL(template).format(schema=sql.Identifier(schema))


class PostgresCustomerLinks:
    """CustomerLinks on Postgres, mixed into a service's store (schema: its own)."""

    pool: AsyncConnectionPool
    links_schema: str

    async def fold_links(self, changes: Sequence[LinkChange]) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await fold_links_in(conn, self.links_schema, changes)

    async def customer_group(self, customer_id: str) -> tuple[str, ...]:
        async with self.pool.connection() as conn:
            return await customer_group(conn, self.links_schema, customer_id)


async def fold_links_in(conn: AsyncConnection, schema: str, changes: Sequence[LinkChange]) -> None:
    """Store merges and unmerges, idempotently, in the connection's transaction."""
    folded = collapsed(changes)
    if not folded:
        return
    params = {
        name: [getattr(c, name) for c in folded]
        for name in ("merge_id", "survivor_id", "absorbed_id", "unmerged")
    }
    await conn.execute(in_schema(FOLD_LINKS, schema), params)


async def customer_group(conn: AsyncConnection, schema: str, customer_id: str) -> tuple[str, ...]:
    """Every id whose history counts as the customer's now, the root first, in schema."""
    query = in_schema(SELECT_GROUP, schema)
    row = await (await conn.execute(query, {"customer_id": customer_id})).fetchone()
    assert row is not None
    root, members = row
    return (root, *sorted(m for m in members if m != root))


class FollowCustomerLinks:
    """A service's batch handler that also folds contacts' merges from contacts.profiles.v1."""

    def __init__(self, links: CustomerLinks, handler: BatchHandler, dead_letter_topic: str) -> None:
        self.links = links
        self.handler = handler
        self.dead_letter_topic = dead_letter_topic

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        """Fold the profile records' links, hand the rest to the service's handler."""
        profiles = [r for r in batch if r.topic == CONTACTS_PROFILES]
        rest = [r for r in batch if r.topic != CONTACTS_PROFILES]
        outgoing = await self.handler.handle(rest) if rest else []
        changes: list[LinkChange] = []
        for record in profiles:
            try:
                change = link_change_of(parse_record(record, CustomerEvent))
            except UnusableRecord as error:
                outgoing.append(dead_letter_unusable(record, self.dead_letter_topic, error))
                continue
            if change is not None:
                changes.append(change)
        await self.links.fold_links(changes)
        return outgoing


def equality_filters(where: object, names: Sequence[str], schema: str) -> sql.Composable:
    """`AND name = %(name)s` for each of the filter's non-empty fields, where customer_id means
    the customer and everyone merged into them."""
    clauses = [
        sql.SQL("AND {} IN (SELECT {}.customer_group({}))").format(
            sql.Identifier(name), sql.Identifier(schema), sql.Placeholder(name)
        )
        if name == "customer_id"
        else sql.SQL("AND {} = {}").format(sql.Identifier(name), sql.Placeholder(name))
        for name in names
        if getattr(where, name)
    ]
    return sql.SQL(" ").join(clauses)
