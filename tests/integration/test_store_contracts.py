"""Store contracts, run against the in-memory fakes and the Postgres adapters on a real server.

The fakes stand in for Postgres in the unit tests, so they must keep the same promises:
idempotent writes, roll-ups of new rows only, keyset paging.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.builders import valued
from tests.fakes.contacts import MemoryContactsStore
from tests.fakes.journey import MemoryJourneyStore
from tests.fakes.loyalty import MemoryLoyaltyStore
from tests.fakes.notify import MemoryNotifyStore
from touchstone.contacts.domain import Outcome
from touchstone.contacts.identity_keys import DEVELOPMENT_KEYS
from touchstone.contacts.ports import Arrival, ContactsStore, DeadLetter, RecordedTouchpoint
from touchstone.contacts.store import PostgresContactsStore
from touchstone.journey.ports import JourneyStore, MomentFilter, MomentRow
from touchstone.journey.store import PostgresJourneyStore
from touchstone.loyalty.domain import Purchase
from touchstone.loyalty.ports import LoyaltyStore
from touchstone.loyalty.store import PostgresLoyaltyStore
from touchstone.loyalty.valuation import Facts
from touchstone.notify.domain import LostMoment, opening_for
from touchstone.notify.openings import lay_out_openings
from touchstone.notify.ports import NotifyStore
from touchstone.notify.rows import CaseFilter
from touchstone.notify.store import PostgresNotifyStore
from touchstone.platform.persistence.pg import open_pool
from touchstone.platform.runtime.settings import Settings

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Stores:
    """One store of each service, all of one kind."""

    contacts: ContactsStore
    journey: JourneyStore
    loyalty: LoyaltyStore
    notify: NotifyStore


Work = Callable[[Stores], Awaitable[None]]
Runner = Callable[[Work], None]


def run_on_postgres(settings: Settings, work: Work) -> None:
    """Run the work against the Postgres adapters over an opened pool."""

    async def run() -> None:
        pool = open_pool(settings.database_url)
        await pool.open(wait=True)
        try:
            await work(
                Stores(
                    PostgresContactsStore(pool, DEVELOPMENT_KEYS),
                    PostgresJourneyStore(pool),
                    PostgresLoyaltyStore(pool),
                    PostgresNotifyStore(pool),
                )
            )
        finally:
            await pool.close()

    asyncio.run(run())


def run_in_memory(work: Work) -> None:
    """Run the work against the in-memory fakes."""
    asyncio.run(
        work(
            Stores(
                MemoryContactsStore(),
                MemoryJourneyStore(),
                MemoryLoyaltyStore(),
                MemoryNotifyStore(),
            )
        )
    )


@pytest.fixture(params=["memory", "postgres"])
def run_with_stores(request: pytest.FixtureRequest) -> Runner:
    """Runs a contract's work against one kind of store."""
    if request.param == "memory":
        return run_in_memory
    settings = request.getfixturevalue("fresh_database")
    return lambda work: run_on_postgres(settings, work)


RECORDED, DUPLICATE, CONFLICT = Outcome.RECORDED, Outcome.DUPLICATE, Outcome.CONFLICT


def arrival(offset: int) -> Arrival:
    return Arrival("touchpoints.v1", 0, offset, T0, b"k", b"raw", (("ce_source", b"till"),))


async def record(store: ContactsStore, rows: list[RecordedTouchpoint]) -> list[Outcome]:
    return await store.record(rows, [None] * len(rows), [])


def touchpoint_row(
    n: int, customer: str = "c1", identity: tuple[str, str] | None = None
) -> RecordedTouchpoint:
    return RecordedTouchpoint(
        event_id=f"e{n}",
        customer_id=customer,
        visit_id="v1",
        occurred_at=T0 + timedelta(minutes=n),
        source="till",
        journey_map="supermarket",
        stage="pay",
        site_id="s1",
        payload=b"\x0a\x01x",
        identity=identity,
    )


def test_contacts_records_each_event_once_and_counts_only_new_ones(
    run_with_stores: Runner,
) -> None:
    async def work(stores: Stores) -> None:
        store = stores.contacts
        rows = [touchpoint_row(n, identity=("phone", "+8490")) for n in range(3)]
        assert await record(store, rows) == [RECORDED] * 3
        again = await record(store, [*rows, touchpoint_row(3)])  # redelivery plus one new
        assert again == [DUPLICATE, DUPLICATE, DUPLICATE, RECORDED]
        customer = await store.get_customer("c1")
        assert customer is not None
        assert customer.touchpoint_count == 4
        assert (customer.first_seen, customer.last_seen) == (T0, T0 + timedelta(minutes=3))
        assert customer.identities == (("phone", "+8490"),)
        assert await store.stats() == (4, 0)
        assert await store.stats(["s9"]) == (0, 0)  # another site's caller counts none

    run_with_stores(work)


def test_contacts_pages_touchpoints_in_event_time_order(
    run_with_stores: Runner,
) -> None:
    async def work(stores: Stores) -> None:
        store = stores.contacts
        await record(store, [touchpoint_row(n) for n in (4, 1, 3, 0, 2)])
        first = await store.list_touchpoints("c1", None, 2)
        rest = await store.list_touchpoints("c1", (first[-1].occurred_at, first[-1].event_id), 10)
        assert [t.event_id for t in first + rest] == ["e0", "e1", "e2", "e3", "e4"]

    run_with_stores(work)


def test_contacts_dead_letters_are_counted_once_per_record(run_with_stores: Runner) -> None:
    async def work(stores: Stores) -> None:
        store = stores.contacts
        letter = DeadLetter(arrival(7), "value: bad", "value")
        await store.record([], [], [letter])
        await store.record([], [], [letter])
        assert await store.stats() == (0, 1)

    run_with_stores(work)


def test_contacts_quarantines_a_conflict_and_never_overwrites(run_with_stores: Runner) -> None:
    async def work(stores: Stores) -> None:
        store = stores.contacts
        original = touchpoint_row(1)
        changed = replace(original, payload=b"\x0a\x01y")
        assert await record(store, [original]) == [RECORDED]
        outcomes = await store.record([changed, original], [arrival(8), arrival(9)], [])
        assert outcomes == [CONFLICT, DUPLICATE]
        (stored,) = await store.list_touchpoints("c1", None, 10)
        assert stored.payload == original.payload
        assert await store.stats() == (1, 1)  # the conflict is dead-lettered, once

    run_with_stores(work)


def test_contacts_classifies_repeats_inside_one_batch(run_with_stores: Runner) -> None:
    async def work(stores: Stores) -> None:
        row = touchpoint_row(1)
        outcomes = await record(stores.contacts, [row, row, replace(row, payload=b"other")])
        assert outcomes == [RECORDED, DUPLICATE, CONFLICT]

    run_with_stores(work)


def moment_row(n: int, verdict: str, visit: str = "v1") -> MomentRow:
    return MomentRow(
        moment_id=f"m{n}",
        source_event_id=f"e{n}",
        customer_id="c1",
        visit_id=visit,
        site_id="s1",
        journey_map="supermarket",
        stage="enter_store",
        occurred_at=T0 + timedelta(minutes=n),
        verdict=verdict,
        payload=b"",
    )


def test_journey_rolls_each_moment_into_its_visit_once(
    run_with_stores: Runner,
) -> None:
    async def work(stores: Stores) -> None:
        store = stores.journey
        moments = [moment_row(0, "win"), moment_row(1, "lose"), moment_row(2, "unscored")]
        await store.save_moments(moments)
        await store.save_moments(moments)
        found = await store.get_visit("v1")
        assert found is not None
        visit, rows = found
        assert (visit.wins, visit.losses) == (1, 1)
        assert [r.moment_id for r in rows] == ["m0", "m1", "m2"]
        assert await store.verdict_counts() == {"win": 1, "lose": 1, "unscored": 1}
        assert await store.verdict_counts(["s1", "s9"]) == {"win": 1, "lose": 1, "unscored": 1}
        assert await store.verdict_counts(["s9"]) == {"win": 0, "lose": 0, "unscored": 0}
        lost = await store.list_moments(MomentFilter(verdict="lose"), None, 10)
        assert [m.moment_id for m in lost] == ["m1"]

    run_with_stores(work)


def test_loyalty_values_a_customer_from_full_history_once(
    run_with_stores: Runner,
) -> None:
    purchases = [
        Purchase(f"p{n}", "c1", f"v{n}", T0 + timedelta(days=30 * n), "VND", 100_000 * (n + 1))
        for n in range(3)
    ]

    async def work(stores: Stores) -> None:
        store = stores.loyalty
        await store.fold(Facts(purchases[:2], []), valued)
        values = (await store.fold(Facts(purchases), valued)).valued  # p0, p1 again + p2
        assert values == {"c1": valued(purchases)}
        assert await store.get_value("c1", valued) == valued(purchases)

    run_with_stores(work)


def lost(n: int, visit: str) -> LostMoment:
    return LostMoment(f"m{n}", "c1", visit, "s1", "enter_store", "slow", T0 + timedelta(minutes=n))


def test_notify_opens_one_case_per_visit_and_joins_later_losses(
    run_with_stores: Runner,
) -> None:
    async def work(stores: Stores) -> None:
        store = stores.notify
        moments = [lost(0, "v1"), lost(1, "v1"), lost(2, "v2")]
        openings = [opening_for(m) for m in moments]
        first = await store.open_or_join(openings, moments, lay_out_openings)
        again = await store.open_or_join(openings, moments, lay_out_openings)
        assert first == again
        assert first["m0"].case_id == first["m1"].case_id != first["m2"].case_id
        assert first["m1"].opening_moment_id == "m0"
        cases, total = await store.list_cases(CaseFilter(status="open"), None, 1)
        assert total == 2 and [c.opening_moment_id for c in cases] == ["m0"]
        after = (cases[0].opened_at, cases[0].case_id)
        rest, _ = await store.list_cases(CaseFilter(status="open"), after, 10)
        assert [c.opening_moment_id for c in rest] == ["m2"]
        case = await store.get_case(first["m0"].case_id)
        assert case is not None and case.moment_ids == ("m0", "m1")

    run_with_stores(work)
