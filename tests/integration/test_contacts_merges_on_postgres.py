"""Contacts' merge ledger on real Postgres: merges never close a cycle, groups stay bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from touchstone.contacts.identity_keys import DEVELOPMENT_KEYS
from touchstone.contacts.ports import ProfileChange
from touchstone.contacts.profiles import MAX_GROUP, CannotMerge
from touchstone.contacts.service import PostgresContacts
from touchstone.platform.messaging.topics import Outgoing
from touchstone.platform.persistence.pg import open_pool
from touchstone.platform.runtime.settings import Settings

pytestmark = pytest.mark.integration
T = TypeVar("T")


def no_event(customer_id: str, *_key: bytes) -> Outgoing:
    return Outgoing("contacts.profiles.v1", customer_id.encode(), b"")


async def with_contacts(
    settings: Settings, scenario: Callable[[PostgresContacts], Awaitable[T]]
) -> T:
    """The scenario over contacts' store, with registered customers a and b."""
    pool = open_pool(settings.database_url, max_size=8)
    await pool.open(wait=True)
    try:
        store = PostgresContacts(pool, DEVELOPMENT_KEYS)
        for name in ("a", "b"):
            await store.register(name, ProfileChange(), no_event)
        return await scenario(store)
    finally:
        await pool.close()


def test_two_opposite_merges_at_once_make_one_customer_not_a_cycle(
    fresh_database: Settings,
) -> None:
    async def scenario(store: PostgresContacts) -> tuple[list[object], tuple[str, ...]]:
        outcomes = await asyncio.gather(
            store.merge("a", "b", "same person"),
            store.merge("b", "a", "same person"),
            return_exceptions=True,
        )
        customer = await store.get_customer("a")
        assert customer is not None
        return outcomes, (customer.customer_id, *customer.merged_ids)

    outcomes, group = asyncio.run(with_contacts(fresh_database, scenario))
    refused = [o for o in outcomes if isinstance(o, CannotMerge)]
    assert len(refused) == 1 and "already one customer" in str(refused[0])
    assert sorted(group) == ["a", "b"]


def test_a_customer_holds_at_most_max_group_ids(fresh_database: Settings) -> None:
    async def scenario(store: PostgresContacts) -> str:
        for n in range(MAX_GROUP - 2):  # a and b, plus these, make MAX_GROUP
            await store.register(f"c{n}", ProfileChange(), no_event)
            await store.merge("a", f"c{n}", "")
        await store.merge("b", "a", "")  # a chain: every c -> a -> b, MAX_GROUP ids in all
        customer = await store.get_customer("c0")
        assert customer is not None and customer.customer_id == "b"
        assert len(customer.merged_ids) == MAX_GROUP - 1
        await store.register("one-too-many", ProfileChange(), no_event)
        with pytest.raises(CannotMerge, match=f"at most {MAX_GROUP}"):
            await store.merge("b", "one-too-many", "")
        return customer.customer_id

    assert asyncio.run(with_contacts(fresh_database, scenario)) == "b"
