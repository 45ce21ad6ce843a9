"""Erased identities on real Postgres are remembered by a keyed hash: nothing in the table gives
the identity back without the key, the identity is still recognised after the key ring rotates,
and rows remembered by a bare SHA-256 (before migration 009) are rekeyed at start."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg
import pytest

from touchstone.contacts.identity_keys import IdentityKeys, identity_sha256
from touchstone.contacts.ports import ProfileChange
from touchstone.contacts.service import PostgresContacts
from touchstone.platform.messaging.topics import Outgoing
from touchstone.platform.persistence.pg import open_pool
from touchstone.platform.runtime.settings import Settings

pytestmark = pytest.mark.integration
T = TypeVar("T")
OLD = IdentityKeys.parse("old:" + base64.urlsafe_b64encode(b"o" * 32).decode())
NEW = IdentityKeys.parse(
    "new:" + base64.urlsafe_b64encode(b"n" * 32).decode() + ",old:"
    + base64.urlsafe_b64encode(b"o" * 32).decode()
)  # fmt: skip
PHONE = ("phone", "+84901234567")
EMAIL = ("email", "lan@example.com")


def no_event(customer_id: str, *_key: bytes) -> Outgoing:
    return Outgoing("contacts.profiles.v1", customer_id.encode(), b"")


def unchanged(payload: bytes) -> bytes:
    return payload


async def on(
    settings: Settings, keys: IdentityKeys, work: Callable[[PostgresContacts], Awaitable[T]]
) -> T:
    pool = open_pool(settings.database_url, max_size=4)
    await pool.open(wait=True)
    try:
        return await work(PostgresContacts(pool, keys))
    finally:
        await pool.close()


def remembered(settings: Settings) -> list[tuple[bytes, str | None, str]]:
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute(
            "SELECT identity_sha256, key_id, customer_id FROM contacts.erased_identities"
            " ORDER BY customer_id, key_id"
        ).fetchall()
    return [(bytes(d), k, c) for d, k, c in rows]


def test_an_erased_identity_is_kept_by_keyed_hash_and_found_after_the_keys_rotate(
    fresh_database: Settings,
) -> None:
    async def erase_lan(store: PostgresContacts) -> None:
        await store.register("lan", ProfileChange(identities=(PHONE,)), no_event)
        assert await store.erase("lan", unchanged, unchanged, no_event) is not None

    asyncio.run(on(fresh_database, OLD, erase_lan))
    ((digest, key_id, customer),) = remembered(fresh_database)
    assert (key_id, customer) == ("old", "lan")
    assert digest == OLD.digest(*PHONE) != identity_sha256(*PHONE)  # not the bare hash

    async def after_rotation(store: PostgresContacts) -> dict[tuple[str, str], str]:
        await store.register("mai", ProfileChange(identities=(EMAIL,)), no_event)
        await store.erase("mai", unchanged, unchanged, no_event)
        return await store.identity_owners([PHONE, EMAIL, ("phone", "+84900000000")])

    owners = asyncio.run(on(fresh_database, NEW, after_rotation))
    assert owners == {PHONE: "lan", EMAIL: "mai"}  # under the old key and the new
    assert [k for _, k, _ in remembered(fresh_database)] == ["old", "new"]


def test_identities_remembered_by_a_bare_sha256_are_found_then_rekeyed_at_start(
    fresh_database: Settings,
) -> None:
    with psycopg.connect(fresh_database.database_url) as conn:  # as 005's rows were kept
        conn.execute(
            "INSERT INTO contacts.erased_identities (identity_sha256, customer_id)"
            " VALUES (%s, 'lan'), (%s, 'hoa-before')",
            (identity_sha256(*PHONE), identity_sha256(*EMAIL)),
        )
        conn.execute(  # the address was erased again since, under the key
            "INSERT INTO contacts.erased_identities (identity_sha256, key_id, customer_id)"
            " VALUES (%s, 'new', 'hoa')",
            (NEW.digest(*EMAIL),),
        )

    async def start(store: PostgresContacts) -> list[object]:
        before = await store.identity_owners([PHONE])  # a worker starting, not yet rekeyed
        first, again = await store.rekey_erased(), await store.rekey_erased()
        return [before, first, again, await store.identity_owners([PHONE, EMAIL])]

    before, first, again, after = asyncio.run(on(fresh_database, NEW, start))
    assert before == {PHONE: "lan"}
    assert (first, again) == (2, 0)
    assert after == {PHONE: "lan", EMAIL: "hoa"}
    assert sorted(remembered(fresh_database)) == sorted(
        [(NEW.digest(*PHONE), "new", "lan"), (NEW.digest(*EMAIL), "new", "hoa")]
    )
