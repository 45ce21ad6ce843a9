"""Customers' keys on real Postgres: registering a customer with an address makes their key and
tells it (contacts.keys.v1) before the profile event that seals the address with it, in the same
transaction; erasure deletes the key, drops a record of it not yet relayed, and tells it
destroyed, so the sealed address opens for nobody."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from tests.integration.test_keyed_identities import NEW, unchanged
from touchstone.contacts.ports import ProfileChange
from touchstone.contacts.profile_events import profile_event, registered_event
from touchstone.contacts.service import PostgresContacts
from touchstone.contacts.v1 import profile_pb2 as profile_pb
from touchstone.contacts.v1.touchpoint_pb2 import IDENTITY_KIND_EMAIL, ExternalIdentity
from touchstone.platform.messaging.topics import CONTACTS_KEYS, CONTACTS_PROFILES, Outgoing
from touchstone.platform.persistence.pg import open_pool
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.security.sealing import unsealed

pytestmark = pytest.mark.integration
EMAIL = ExternalIdentity(kind=IDENTITY_KIND_EMAIL, value="lan@example.com")


def outbox(settings: Settings) -> list[tuple[str, bytes, bytes]]:
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute("SELECT topic, key, value FROM contacts.outbox ORDER BY id").fetchall()
    return [(t, bytes(k), bytes(v)) for t, k, v in rows]


def keys_held(settings: Settings) -> list[tuple[str, bytes]]:
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute("SELECT customer_id, key FROM contacts.customer_keys").fetchall()
    return [(c, bytes(k)) for c, k in rows]


def test_a_customers_key_is_told_before_what_it_seals_and_destroyed_at_erasure(
    fresh_database: Settings,
) -> None:
    def registered(customer_id: str, key: bytes) -> Outgoing:
        return registered_event(customer_id, key, [EMAIL], profile_pb.Consent())

    def erased(customer_id: str) -> Outgoing:
        return profile_event(customer_id, erased=profile_pb.CustomerErased(customer_id=customer_id))

    async def work() -> None:
        pool = open_pool(fresh_database.database_url, max_size=4)
        await pool.open(wait=True)
        try:
            store = PostgresContacts(pool, NEW)
            change = ProfileChange(identities=(("email", "lan@example.com"),))
            await store.register("lan", change, registered)
            ((customer_id, key),) = keys_held(fresh_database)
            told_key, told_profile = outbox(fresh_database)
            assert (told_key[0], told_key[1]) == (CONTACTS_KEYS, b"lan")
            assert profile_pb.CustomerKey.FromString(told_key[2]).key == key
            event = profile_pb.CustomerEvent.FromString(told_profile[2])
            (sealed,) = event.registered.sealed_identities
            assert (customer_id, unsealed(key, "lan", sealed)) == ("lan", "lan@example.com")

            await store.update("lan", ProfileChange(), registered)  # the same key, told once
            assert keys_held(fresh_database) == [("lan", key)]
            assert [t for t, _, _ in outbox(fresh_database)].count(CONTACTS_KEYS) == 1

            assert await store.erase("lan", unchanged, unchanged, erased) is not None
            assert keys_held(fresh_database) == []
            after = outbox(fresh_database)
            keys_told = [v for t, _, v in after if t == CONTACTS_KEYS]
            assert keys_told == [profile_pb.CustomerKey(customer_id="lan").SerializeToString()]
            assert key not in b"".join(v for _, _, v in after)  # the unrelayed record dropped
            assert [t for t, _, _ in after][-1] == CONTACTS_PROFILES  # then: erased
        finally:
            await pool.close()

    asyncio.run(work())
