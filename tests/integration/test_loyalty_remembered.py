"""Loyalty on Postgres goes on from what it remembered of each customer group: a fold whose facts
come after the group's latest lost moment reads only the moments since, and gives and stores
the figures valuing the whole history afresh gives; late facts, recoveries, reopenings, merges,
unmerges and erasures read the whole history; two folds of one group never interleave."""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tests.builders import T0, valued
from tests.integration.store_contract_support import run
from touchstone.loyalty.churn import LostMoment
from touchstone.loyalty.domain import Purchase
from touchstone.loyalty.remembered import Kept
from touchstone.loyalty.remembered_sql import SELECT_REMEMBERED, kept_of
from touchstone.loyalty.store import PostgresLoyaltyStore
from touchstone.loyalty.valuation import ContactSeen, Facts, Loss, Recovery, Reopening
from touchstone.loyalty.valued import value_as
from touchstone.platform.messaging.customer_links import LinkChange
from touchstone.platform.persistence.pg import open_pool


@pytest.fixture
def store(fresh_database: Any) -> PostgresLoyaltyStore:
    return PostgresLoyaltyStore(open_pool(fresh_database.database_url))


def bought(n: int, customer: str, hours: float) -> Purchase:
    at = T0 + timedelta(hours=hours)
    return Purchase(f"p{n}", customer, f"v{n}", at, "VND", 100_000 + 1_000 * n, "hcm-01")


def lost(n: int, customer: str, hours: float, weight: int = 1) -> Loss:
    at = T0 + timedelta(hours=hours, minutes=1)
    side = "personal" if n % 2 else "procedural"
    return Loss(customer, LostMoment(f"m{n}", at, side, Decimal(weight), site_id="hcm-01"))


class Seeing:
    """A valuer that counts the lost moments each fold gave it."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def __call__(
        self, purchases: Any, moments: Any, presence: Any = None, known: Any = None
    ) -> Any:
        self.seen.append(len(moments))
        return valued(purchases, moments, presence, known)


async def remembered(store: PostgresLoyaltyStore, *roots: str) -> dict[str, Kept]:
    async with store.pool.connection() as conn:
        return kept_of(await (await conn.execute(SELECT_REMEMBERED, (list(roots),))).fetchall())


async def check_against_afresh(store: PostgresLoyaltyStore, folded: Any) -> None:
    """Each customer's fold valued as the whole history afresh, its new figures stored, and
    what is remembered of them what valuing afresh remembers."""
    for customer, valuation in folded.valued.items():
        history = await store.get_history(customer)
        afresh = value_as(customer, valued(history.purchases, history.lost, history.presence))
        assert replace(valuation, at_risk=()) == replace(afresh, at_risk=()), customer
        figured = {r.moment_id: r for r in afresh.at_risk}
        assert [figured[r.moment_id] for r in valuation.at_risk] == list(valuation.at_risk)
        stored = await store.get_value(customer, valued)
        assert stored.at_risk == afresh.at_risk, customer
        (kept,) = (await remembered(store, customer)).values()
        assert kept.remembered == afresh.remembered, customer


def valuations(read: str) -> float:
    return REGISTRY.get_sample_value("touchstone_loyalty_valuations_total", {"read": read}) or 0


def test_a_fold_after_the_latest_moment_reads_only_the_recent_history(store) -> None:
    seeing = Seeing()
    recent, whole = valuations("recent"), valuations("whole")

    async def scenario(store: PostgresLoyaltyStore) -> None:
        for n in range(40):  # a visit every 6 hours: a purchase, sometimes a lost moment
            facts = Facts([bought(n, "c1", 6 * n)], [lost(n, "c1", 6 * n)] if n % 2 else [])
            seeing.seen.clear()
            folded = await store.fold(
                replace(facts, contacts=[ContactSeen("c1", 0, T0 + timedelta(hours=6 * n))]), seeing
            )
            await check_against_afresh(store, folded)
            if n > 2:  # the latest moment remembered, and this visit's: not the whole history
                assert seeing.seen == [2 if n % 2 else 1], n

    run(store, scenario)
    assert (valuations("recent") - recent, valuations("whole") - whole) == (38, 2)  # the metric


def test_late_facts_recoveries_reopenings_merges_and_erasures_read_the_whole_history(
    store,
) -> None:
    rng = random.Random(11)
    seeing = Seeing()
    late = [lost(90, "c1", 30), bought(91, "c2", 20)]
    steps = [Facts([bought(n, rng.choice(["c1", "c2"]), 10 * n)]) for n in range(12)]
    steps += [
        Facts(losses=[lost(n, rng.choice(["c1", "c2"]), 10 * n + 3, n % 3 + 1)]) for n in range(12)
    ]
    steps.sort(
        key=lambda f: (
            ((f.purchases or [None])[0] and f.purchases[0].occurred_at)
            or f.losses[0].moment.occurred_at
        )
    )
    steps.insert(14, Facts(losses=[late[0]]))
    steps.insert(16, Facts([late[1]]))
    steps.insert(18, Facts(recoveries=[Recovery("m4", "c1", "case-4", T0 + timedelta(days=3))]))
    steps.insert(20, Facts(links=[LinkChange("merge-1", survivor_id="c1", absorbed_id="c2")]))
    steps.insert(22, Facts(reopened=[Reopening("case-4", "c1")]))
    steps.insert(24, Facts(links=[LinkChange("merge-1", "c1", "c2", unmerged=True)]))
    whole_reads = 0

    async def scenario(store: PostgresLoyaltyStore) -> None:
        nonlocal whole_reads
        for facts in steps:
            seeing.seen.clear()
            folded = await store.fold(facts, seeing)
            await check_against_afresh(store, folded)
            for customer in folded.valued:
                history = await store.get_history(customer)
                whole_reads += len(history.lost) in seeing.seen and len(history.lost) > 2
        assert set(await remembered(store, "c1", "c2")) == {"c1", "c2"}  # apart again
        await store.fold(Facts(links=[LinkChange("merge-2", "c1", "c2")]), valued)
        assert set(await remembered(store, "c1", "c2")) == {"c1"}  # c2 is c1's now
        await store.fold(Facts(erased=["c2"]), valued)
        assert await remembered(store, "c1", "c2") == {}  # nothing of theirs is valued

    run(store, scenario)
    assert whole_reads >= 5


def fold_in_a_thread(
    database_url: str, facts: Facts, valuer: Any, done: threading.Event | None = None
) -> threading.Thread:
    """Another worker's fold: its own thread, event loop and pool."""

    async def within() -> None:
        store = PostgresLoyaltyStore(open_pool(database_url))
        await store.pool.open(wait=True)
        try:
            await store.fold(facts, valuer)
        finally:
            await store.pool.close()
        if done is not None:
            done.set()

    thread = threading.Thread(target=asyncio.run, args=(within(),))
    thread.start()
    return thread


def test_two_folds_of_one_group_at_once_take_turns(store, fresh_database) -> None:
    """One worker folds c1's later moment and, holding it, waits up to a second for another to
    fold c2's earlier one: the other waits its turn, then goes on from both (without turns
    it would finish first and be overwritten by what the first remembered without it)."""
    valuing, other_done = threading.Event(), threading.Event()

    def waiting(*history: Any) -> Any:
        valuing.set()
        other_done.wait(timeout=1.0)
        return valued(*history)

    async def before(store: PostgresLoyaltyStore) -> None:
        await store.fold(Facts(links=[LinkChange("merge-1", "c1", "c2")]), valued)
        await store.fold(
            Facts([bought(0, "c1", 1), bought(1, "c2", 2)], [lost(0, "c1", 3)]), valued
        )

    run(store, before)
    first = fold_in_a_thread(
        fresh_database.database_url, Facts(losses=[lost(2, "c1", 12)]), waiting
    )
    assert valuing.wait(timeout=30)
    other = Facts(losses=[lost(1, "c2", 11)])  # earlier than the first's
    second = fold_in_a_thread(fresh_database.database_url, other, valued, other_done)
    first.join(timeout=60)
    second.join(timeout=60)

    async def after(store: PostgresLoyaltyStore) -> None:
        later = Facts([bought(3, "c1", 20)], [lost(3, "c1", 21)])
        folded = await store.fold(later, valued)  # goes on from what the two remembered
        await check_against_afresh(store, folded)

    run(PostgresLoyaltyStore(open_pool(fresh_database.database_url)), after)
