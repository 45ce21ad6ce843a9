"""What the store contract modules share: which adapters they run on, and how to run one.

Each test_<service>_store_contract module takes its store from a `<service>_store` fixture
parametrised over STORE_KINDS. Add "postgres" to run the same contracts on the Postgres adapters
(it needs the `fresh_database` fixture from tests/conftest.py, i.e. a real server).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.fakes.contacts import MemoryContactsStore
from tests.fakes.journey import MemoryJourneyStore
from tests.fakes.loyalty import MemoryLoyaltyStore
from tests.fakes.notify import MemoryNotifyStore
from touchstone.contacts.identity_keys import DEVELOPMENT_KEYS
from touchstone.contacts.store import PostgresContactsStore
from touchstone.journey.service import PostgresJourney
from touchstone.loyalty.store import PostgresLoyaltyStore
from touchstone.notify.store import PostgresNotifyStore
from touchstone.platform.persistence.pg import open_pool

STORE_KINDS = ("memory", "postgres")
MEMORY = {
    "contacts": MemoryContactsStore,
    "journey": MemoryJourneyStore,
    "loyalty": MemoryLoyaltyStore,
    "notify": MemoryNotifyStore,
}
POSTGRES = {
    "contacts": lambda pool: PostgresContactsStore(pool, DEVELOPMENT_KEYS),
    "journey": PostgresJourney,
    "loyalty": PostgresLoyaltyStore,
    "notify": PostgresNotifyStore,
}


def make_store(request: pytest.FixtureRequest, service: str) -> Any:
    if request.param == "memory":
        return MEMORY[service]()
    database = request.getfixturevalue("fresh_database")
    return POSTGRES[service](open_pool(database.database_url))


def run(store: Any, scenario: Callable[[Any], Awaitable[None]]) -> None:
    """Run the scenario in one event loop; an adapter's pool opens and closes inside it."""

    async def within() -> None:
        pool = getattr(store, "pool", None)
        if pool is not None:
            await pool.open(wait=True)
        try:
            await scenario(store)
        finally:
            if pool is not None:
                await pool.close()

    asyncio.run(within())
