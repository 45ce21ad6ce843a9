"""Customers' keys in Postgres (contacts.customer_keys): made when a profile event first needs
one, told on contacts.keys.v1 through the outbox, destroyed at erasure."""

from __future__ import annotations

from psycopg import AsyncConnection

from touchstone.contacts.profile_events import destroyed_key_event, key_event
from touchstone.contacts.store import SCHEMA
from touchstone.platform.messaging.outbox import add_to_outbox
from touchstone.platform.messaging.topics import CONTACTS_KEYS
from touchstone.platform.security.sealing import new_customer_key

ADD_KEY = """
INSERT INTO contacts.customer_keys (customer_id, key) VALUES (%s, %s)
ON CONFLICT (customer_id) DO NOTHING
"""
SELECT_KEY = "SELECT key FROM contacts.customer_keys WHERE customer_id = %s"
DELETE_KEY = "DELETE FROM contacts.customer_keys WHERE customer_id = %s"
DROP_PENDING_KEYS = "DELETE FROM contacts.outbox WHERE topic = %s AND key = %s"


async def customer_key(conn: AsyncConnection, customer_id: str) -> bytes:
    """The customer's key, inside the caller's transaction; made, and told on contacts.keys.v1
    through the outbox, if they have none yet."""
    made = await conn.execute(ADD_KEY, (customer_id, new_customer_key()))
    row = await (await conn.execute(SELECT_KEY, (customer_id,))).fetchone()
    assert row is not None  # just added, or there before
    key = bytes(row[0])
    if made.rowcount:
        await add_to_outbox(conn, SCHEMA, [key_event(customer_id, key)])
    return key


async def destroy_key(conn: AsyncConnection, customer_id: str) -> None:
    """Destroy the customer's key, inside the caller's transaction: contacts' copy is deleted, a
    record of it not yet relayed is dropped, and contacts.keys.v1 is told it is gone (so notify
    deletes its copy, and compaction the old record)."""
    await conn.execute(DELETE_KEY, (customer_id,))
    await conn.execute(DROP_PENDING_KEYS, (CONTACTS_KEYS, customer_id.encode()))
    await add_to_outbox(conn, SCHEMA, [destroyed_key_event(customer_id)])
