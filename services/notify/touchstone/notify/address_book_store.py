"""Notify's address book in Postgres: how to reach each customer (contact_book.folded folds what
contacts tells) and their keys; an erased customer's contact, keys, message hashes and staff
notes dropped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection

from touchstone.notify.contact_book import Contact, ContactChange, KeyChange, folded
from touchstone.platform.persistence.pg import columns

CONTACTS_OF = """
SELECT customer_id, email, language, channels, quiet_start, quiet_end, time_zone, sealed_email
FROM notify.contacts WHERE customer_id = ANY(%b)
"""
SAVE_CONTACTS = """
INSERT INTO notify.contacts AS c (customer_id, email, language, channels, quiet_start, quiet_end,
                                  time_zone, sealed_email)
SELECT customer_id, email, language, string_to_array(channels, ','), quiet_start, quiet_end,
       time_zone, sealed_email
FROM unnest(%(customer_id)b::text[], %(email)b::text[], %(language)b::text[],
            %(channels)b::text[], %(quiet_start)b::text[], %(quiet_end)b::text[],
            %(time_zone)b::text[], %(sealed_email)b::bytea[])
    AS t(customer_id, email, language, channels, quiet_start, quiet_end, time_zone, sealed_email)
ON CONFLICT (customer_id) DO UPDATE
SET email = excluded.email, language = excluded.language, channels = excluded.channels,
    quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,
    time_zone = excluded.time_zone, sealed_email = excluded.sealed_email
"""
SAVE_KEYS = """
INSERT INTO notify.customer_keys (customer_id, key)
SELECT * FROM unnest(%(customer_id)b::text[], %(key)b::bytea[])
ON CONFLICT (customer_id) DO UPDATE SET key = excluded.key
"""
DESTROY_KEYS = "DELETE FROM notify.customer_keys WHERE customer_id = ANY(%b)"
ERASE_CONTACTS = """
WITH gone AS (DELETE FROM notify.contacts WHERE customer_id = ANY(%(ids)b))
INSERT INTO notify.erased_customers SELECT unnest(%(ids)b::text[]) ON CONFLICT DO NOTHING
"""

# A hash of an address and a known text would let a guess of the address be confirmed.
FORGET_HASHES = "UPDATE notify.deliveries SET content_hash = '' WHERE customer_id = ANY(%b)"
# staff's free text on an erased customer's cases (it may say anything about them); who did what
# and when stays: those are staff's records, not the customer's
FORGET_NOTES = """
WITH steps AS (
    UPDATE notify.case_steps s SET note = '' FROM notify.cases c
    WHERE s.case_id = c.case_id AND c.customer_id = ANY(%(ids)b) AND s.note <> ''
)
UPDATE notify.cases SET resolved_note = '' WHERE customer_id = ANY(%(ids)b) AND resolved_note <> ''
"""


async def fold_contacts(conn: AsyncConnection, changes: Sequence[ContactChange]) -> None:
    """Fold the changes into the contacts they name, in order (NotifyStore.fold_contacts)."""
    if not changes:
        return
    ids = sorted({c.customer_id for c in changes})
    rows = await (await conn.execute(CONTACTS_OF, (ids,))).fetchall()
    known = {row[0]: contact_row(row) for row in rows}
    erased: set[str] = set()
    for change in changes:
        if change.erased:
            known.pop(change.customer_id, None)
            erased.add(change.customer_id)
        else:
            erased.discard(change.customer_id)
            contact = known.get(change.customer_id, Contact(change.customer_id))
            known[change.customer_id] = folded(contact, change)
    if erased:
        await conn.execute(ERASE_CONTACTS, {"ids": sorted(erased)})
        await conn.execute(FORGET_HASHES, (sorted(erased),))
        await conn.execute(FORGET_NOTES, {"ids": sorted(erased)})
        await conn.execute(DESTROY_KEYS, (sorted(erased),))
    kept = [c for c in known.values() if c.customer_id not in erased]
    if kept:
        params = columns(kept, [f for f in vars(kept[0]) if f != "channels"])
        params["channels"] = [",".join(c.channels) for c in kept]
        await conn.execute(SAVE_CONTACTS, params)


async def fold_keys(conn: AsyncConnection, changes: Sequence[KeyChange]) -> None:
    """Keep the customers' latest keys; a destroyed key is deleted."""
    latest = {c.customer_id: c.key for c in changes}  # in order: the last one holds
    kept = sorted((c, k) for c, k in latest.items() if k)
    destroyed = sorted(c for c, k in latest.items() if not k)
    if kept:
        params = {"customer_id": [c for c, _ in kept], "key": [k for _, k in kept]}
        await conn.execute(SAVE_KEYS, params)
    if destroyed:
        await conn.execute(DESTROY_KEYS, (destroyed,))


def contact_row(row: Sequence[Any]) -> Contact:
    """A contact as CONTACTS_OF reads it."""
    customer_id, email, language, channels, quiet_start, quiet_end, time_zone, sealed = row
    return Contact(
        customer_id,
        email,
        language,
        tuple(channels),
        quiet_start,
        quiet_end,
        time_zone,
        bytes(sealed),
    )
