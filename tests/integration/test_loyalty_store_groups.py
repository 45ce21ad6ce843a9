"""LoyaltyStore contract, who is valued and where they rank: merged groups, erasure, silence,
tiers and home sites; in memory as on Postgres."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.builders import T0, valued
from tests.integration.loyalty_contract_support import (
    bought,
    loss,
    tiers_of,
)
from tests.integration.store_contract_support import STORE_KINDS, make_store, run
from touchstone.loyalty.churn import LostMoment
from touchstone.loyalty.domain import Purchase
from touchstone.loyalty.ports import Standing
from touchstone.loyalty.tiers import Tier
from touchstone.loyalty.valuation import ContactSeen, Facts, Loss
from touchstone.platform.messaging.customer_links import LinkChange


@pytest.fixture(params=STORE_KINDS)
def loyalty_store(request: pytest.FixtureRequest) -> Any:
    return make_store(request, "loyalty")


def test_a_sites_customers_are_ranked_by_lifetime_value(loyalty_store) -> None:
    purchases = [
        Purchase(f"p{n}", f"c{n}", f"v{n}", T0, "VND", minor, site)
        for n, (minor, site) in enumerate([(300, "s1"), (100, "s1"), (200, "s1"), (999, "s2")])
    ]

    async def scenario(store) -> None:
        await store.fold(Facts(purchases), valued)
        assert await store.site_customers("s1") == 3
        ranked = await store.ranked("s1", 1, 5)
        assert [r.customer_id for r in ranked] == ["c2", "c1"]
        assert ranked[0].currency == "VND"
        assert await store.site_customers("s3") == 0 and await store.ranked("s3", 0, 5) == []
        assert await store.standing("c2") == Standing("s1", 2, 3)
        assert await store.standing("c3") == Standing("s2", 1, 1)
        assert await store.standing("c404") is None

    run(loyalty_store, scenario)


def test_a_merged_group_is_valued_and_ranked_once_until_it_is_unmerged(loyalty_store) -> None:
    merge = LinkChange("merge-1", survivor_id="c1", absorbed_id="c2")
    unmerge = LinkChange("merge-1", survivor_id="c1", absorbed_id="c2", unmerged=True)

    async def scenario(store) -> None:
        await store.fold(Facts([bought(1), bought(2, "c2", 300_000)]), valued)
        assert await store.site_customers("") == 2
        merged = (await store.fold(Facts(links=[merge]), valued)).valued
        assert list(merged) == ["c1"] and merged["c1"].value.visits == 2
        assert await store.site_customers("") == 1
        assert await store.standing("c1") == Standing("", 1, 1)
        assert await store.standing("c2") is None
        later = (
            await store.fold(Facts([bought(3, "c2")]), valued)
        ).valued  # bought under the old id
        assert list(later) == ["c1"] and later["c1"].value.visits == 3
        apart = (await store.fold(Facts(links=[unmerge]), valued)).valued
        assert sorted(apart) == ["c1", "c2"] and apart["c2"].value.visits == 2
        assert await store.site_customers("") == 2

    run(loyalty_store, scenario)


def test_an_erased_customer_keeps_only_anonymous_amounts(loyalty_store) -> None:
    week = (T0, T0 + timedelta(days=7))

    async def scenario(store) -> None:
        await store.fold(Facts([bought(0), bought(5, "c2")], [loss(1, days=1)]), valued)
        totals = await store.value_at_risk("hcm-01", *week)
        assert (await store.fold(Facts(erased=["c1"]), valued)).valued == {}
        assert await store.is_erased("c1") and not await store.is_erased("c2")
        assert [r.customer_id for r in await store.ranked("", 0, 5)] == ["c2"]
        assert await store.standing("c1") is None
        assert await store.value_at_risk("hcm-01", *week) == totals  # the amounts stay
        assert (
            await store.fold(Facts([bought(2)]), valued)
        ).valued == {}  # late: kept, never valued
        assert await store.site_customers("") == 1

    run(loyalty_store, scenario)


def test_every_tier_that_moves_at_a_touched_site_is_kept_and_reported(loyalty_store) -> None:
    # five customers at one site: ranks 1 top, 2-3 middle, 4-5 rest (tiers.yaml: 20%, 50%)
    first = [bought(n, f"c{n}", 100_000 * n) for n in range(1, 6)]

    async def scenario(store) -> None:
        ranked = await store.fold(Facts(first), valued)
        assert tiers_of(ranked.tier_changes) == [
            ("c5", "", "top", 1),
            ("c4", "", "middle", 2),
            ("c3", "", "middle", 3),
            ("c2", "", "rest", 4),
            ("c1", "", "rest", 5),
        ]
        again = await store.fold(Facts(first), valued)  # redelivered: nothing moves
        assert again.tier_changes == [] and await store.retier() == []
        big = await store.fold(Facts([bought(9, "c1", 10_000_000)]), valued)
        assert tiers_of(big.tier_changes) == [
            ("c1", "rest", "top", 1),
            ("c5", "top", "middle", 2),
            ("c3", "middle", "rest", 4),
        ]
        assert big.tier_changes[0].site_customers == 5
        assert (
            big.tier_changes[0].lifetime_value_minor == big.valued["c1"].value.lifetime_value_minor
        )
        # a sixth customer: the top 20% is now 2 customers, so c5 moves up without buying
        grown = await store.fold(Facts([bought(10, "c9", 1)]), valued)
        assert tiers_of(grown.tier_changes) == [("c5", "middle", "top", 2), ("c9", "", "rest", 6)]

    run(loyalty_store, scenario)


def test_silence_fires_on_the_lanes_clock_and_ends_when_the_customer_is_back(
    loyalty_store,
) -> None:
    every = timedelta(days=365) / 40
    year = [
        Purchase(f"p{n}", "c1", f"v{n}", T0 + every * n, "VND", 500_000, "hcm-01")
        for n in range(40)
    ]
    lost_at = T0 + every * 39 + timedelta(minutes=5)
    lose = Loss("c1", LostMoment("m1", lost_at, "personal", Decimal(1), site_id="hcm-01"))
    seen = [ContactSeen("c1", 0, p.occurred_at) for p in year]

    async def scenario(store) -> None:
        await store.fold(Facts(year, [lose], contacts=seen), valued)
        quiet = await store.fold(
            Facts(contacts=[ContactSeen("c2", 0, lost_at + timedelta(days=10))]), valued
        )
        assert "c1" not in quiet.valued
        due = await store.fold(
            Facts(contacts=[ContactSeen("c2", 0, lost_at + timedelta(days=19))]), valued
        )
        assert due.valued["c1"].silent and due.valued["c1"].churn_risk == Decimal("0.72")
        assert (await store.standing("c1")) is not None
        later = await store.fold(
            Facts(contacts=[ContactSeen("c2", 0, lost_at + timedelta(days=40))]), valued
        )
        assert "c1" not in later.valued  # fired once
        back = await store.fold(
            Facts(contacts=[ContactSeen("c1", 0, lost_at + timedelta(days=41))]), valued
        )
        assert not back.valued["c1"].silent and back.valued["c1"].churn_risk == Decimal("0.44")

    run(loyalty_store, scenario)


def test_a_merge_cycle_folded_for_a_moment_values_the_pair_once(loyalty_store) -> None:
    # c1 into c2, then (its unmerge still on another partition) c2 into c1: for a moment each
    # id looks like the root of both
    there = LinkChange("merge-1", survivor_id="c2", absorbed_id="c1")
    back = LinkChange("merge-2", survivor_id="c1", absorbed_id="c2")

    async def scenario(store) -> None:
        await store.fold(Facts([bought(1), bought(2, "c2")], [loss(3, days=3)]), valued)
        cycled = await store.fold(Facts(links=[there, back]), valued)
        assert list(cycled.valued) == ["c1"] and cycled.valued["c1"].value.visits == 2
        assert await store.site_customers("") == 1
        undone = LinkChange("merge-1", survivor_id="c2", absorbed_id="c1", unmerged=True)
        settled = await store.fold(Facts(links=[undone]), valued)
        assert list(settled.valued) == ["c1"] and await store.site_customers("") == 1

    run(loyalty_store, scenario)


def test_a_customer_who_moves_home_site_is_ranked_afresh_there(loyalty_store) -> None:
    def paid(n: int, customer: str, site: str) -> Purchase:
        return Purchase(f"p{n}", customer, f"v{n}", T0 + timedelta(days=n), "VND", 100_000, site)

    async def scenario(store) -> None:
        first = await store.fold(Facts([paid(1, "c1", "s1"), paid(2, "c9", "s2")]), valued)
        assert tiers_of(first.tier_changes) == [("c1", "", "top", 1), ("c9", "", "top", 1)]
        moved = await store.fold(Facts([paid(3, "c1", "s2"), paid(4, "c1", "s2")]), valued)
        (c1,) = [t for t in moved.tier_changes if t.customer_id == "c1"]
        assert (c1.site_id, c1.previous_tier) == ("s2", "")  # not "top" at s1
        assert await store.site_customers("s1") == 0

    run(loyalty_store, scenario)


def test_a_single_tier_holds_everyone(loyalty_store) -> None:
    everyone = (Tier("all", Decimal(1)),)

    async def scenario(store) -> None:
        store.tiers = everyone
        folded = await store.fold(Facts([bought(1), bought(2, "c2")]), valued)
        assert {(t.customer_id, t.tier) for t in folded.tier_changes} == {
            ("c1", "all"),
            ("c2", "all"),
        }

    run(loyalty_store, scenario)
