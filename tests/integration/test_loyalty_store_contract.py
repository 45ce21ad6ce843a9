"""LoyaltyStore contract: each purchase and lost moment once, every affected customer revalued
from their whole history, what each lost moment put at risk kept; in memory as on Postgres."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.builders import T0, valued
from tests.integration.store_contract_support import STORE_KINDS, make_store, run
from touchstone.loyalty.churn import LostMoment
from touchstone.loyalty.domain import Purchase
from touchstone.loyalty.ports import Standing
from touchstone.loyalty.store import PostgresLoyaltyStore
from touchstone.loyalty.tiers import Tier
from touchstone.loyalty.valuation import ContactSeen, Facts, Loss, Recovery, Reopening
from touchstone.loyalty.valued import valued_history
from touchstone.platform.messaging.customer_links import LinkChange


@pytest.fixture(params=STORE_KINDS)
def loyalty_store(request: pytest.FixtureRequest) -> Any:
    return make_store(request, "loyalty")


def bought(n: int, customer: str = "c1", minor: int = 100_000) -> Purchase:
    return Purchase(f"p{n}", customer, f"v{n}", T0 + timedelta(days=n), "VND", minor)


def loss(n: int, customer: str = "c1", days: float = 0) -> Loss:
    at = T0 + timedelta(days=days)
    return Loss(customer, LostMoment(f"m{n}", at, "personal", Decimal(1), site_id="hcm-01"))


def test_loyalty_values_nobody_for_nothing(loyalty_store) -> None:
    async def scenario(store) -> None:
        assert (await store.fold(Facts(), valued)).valued == {}
        assert await store.get_value("c1", valued) is None

    run(loyalty_store, scenario)


def test_loyalty_values_each_customer_from_their_own_full_history(loyalty_store) -> None:
    seen: dict[str, tuple[list[str], list[str]]] = {}

    def valuer(history, lost, presence=None, known=None):
        customer = (history or [None])[0]
        key = customer.customer_id if customer else "c3"
        seen[key] = (sorted(p.event_id for p in history), sorted(m.moment_id for m in lost))
        return valued(history, lost, presence, known)

    async def scenario(store) -> None:
        await store.fold(Facts([bought(1), bought(2, "c2")], [loss(1)]), valued)
        again = Facts([bought(3, "c2"), bought(4), bought(1)], [loss(1)])
        values = (await store.fold(again, valuer)).valued
        assert seen == {"c1": (["p1", "p4"], ["m1"]), "c2": (["p2", "p3"], [])}
        assert sorted(values) == ["c1", "c2"]
        assert await store.get_value("c2", valued) == values["c2"]

    run(loyalty_store, scenario)


def test_a_lost_moment_is_kept_once_and_moves_the_value(loyalty_store) -> None:
    async def scenario(store) -> None:
        before = (await store.fold(Facts([bought(1)]), valued)).valued["c1"]
        after = (await store.fold(Facts(losses=[loss(7, days=1)]), valued)).valued["c1"]
        again = (await store.fold(Facts(losses=[loss(7, days=1)]), valued)).valued[
            "c1"
        ]  # redelivered
        assert before.churn_risk == Decimal("0.2") and after.churn_risk == Decimal("0.44")
        assert again == after == valued([bought(1)], [loss(7, days=1).moment])
        (at_risk,) = after.at_risk
        assert at_risk.lifetime_value_minor == before.value.lifetime_value_minor
        assert at_risk.value_at_risk_minor == round(before.value.lifetime_value_minor * 0.24)
        assert await store.get_value("c1", valued) == after

    run(loyalty_store, scenario)


def test_the_store_names_the_moments_whose_value_at_risk_is_new_or_moved(loyalty_store) -> None:
    async def scenario(store) -> None:
        first = await store.fold(Facts(losses=[loss(7, days=3)]), valued)
        assert first.revalued == {"m7"}  # new
        again = await store.fold(Facts(losses=[loss(7, days=3)]), valued)
        assert again.revalued == set()  # redelivered: the same value
        late = await store.fold(Facts([bought(1)]), valued)  # bought before it, heard after
        assert late.revalued == {"m7"}
        assert late.valued["c1"].at_risk[0].lifetime_value_minor > 0
        after = await store.fold(Facts([bought(5)]), valued)  # after it: nothing moves
        assert after.revalued == set()

    run(loyalty_store, scenario)


def test_loyalty_keeps_the_first_version_of_a_purchase(loyalty_store) -> None:
    async def scenario(store) -> None:
        await store.fold(Facts([bought(1, minor=100_000)]), valued)
        value = (await store.fold(Facts([bought(1, minor=999_999)]), valued)).valued["c1"].value
        assert value.average_spend_minor == 100_000

    run(loyalty_store, scenario)


def test_a_customer_who_only_lost_moments_is_valued_at_nothing_yet(loyalty_store) -> None:
    async def scenario(store) -> None:
        valuation = (await store.fold(Facts(losses=[loss(1, "c9")]), valued)).valued["c9"]
        assert valuation.value is None and valuation.at_risk[0].value_at_risk_minor == 0
        assert (await store.get_value("c9", valued)).churn_risk == Decimal("0.44")

    run(loyalty_store, scenario)


def test_value_at_risk_sums_by_currency_over_a_site_and_period(loyalty_store) -> None:
    at = T0 + timedelta(days=2)
    elsewhere = Loss("c1", LostMoment("m3", at, "personal", Decimal(1), site_id="hn-02"))

    async def scenario(store) -> None:
        losses = [loss(1, days=1), elsewhere, loss(4, "c9")]
        valuations = (await store.fold(Facts([bought(0)], losses), valued)).valued
        by_moment = {r.moment_id: r for v in valuations.values() for r in v.at_risk}
        day = timedelta(days=1)
        here = await store.value_at_risk("hcm-01", T0, T0 + 3 * day)
        assert [(t.currency, t.at_stake_minor, t.lost_moments) for t in here] == [
            ("", 0, 1),  # c9 had bought nothing
            ("VND", by_moment["m1"].value_at_risk_minor, 1),
        ]
        everywhere = await store.value_at_risk("", T0 + day, T0 + 3 * day)
        (vnd,) = everywhere
        at_stake = by_moment["m1"].value_at_risk_minor + by_moment["m3"].value_at_risk_minor
        assert (vnd.at_stake_minor, vnd.lost_moments, vnd.saved_minor) == (at_stake, 2, 0)
        assert await store.value_at_risk("hcm-01", T0 + 3 * day, T0 + 4 * day) == []

    run(loyalty_store, scenario)


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


def test_a_recovery_counts_whether_it_comes_before_or_after_its_moment(loyalty_store) -> None:
    recovery = Recovery("m1", "c1", "case-1", T0 + timedelta(days=2))

    async def scenario(store) -> None:
        await store.fold(Facts([bought(0)], recoveries=[recovery]), valued)  # before the lose
        folded = await store.fold(Facts(losses=[loss(1, days=1)]), valued)
        (at_risk,) = folded.valued["c1"].at_risk
        assert at_risk.recovered and 0 < at_risk.remaining_minor < at_risk.value_at_risk_minor
        again = (await store.fold(Facts(recoveries=[recovery]), valued)).valued  # redelivered
        assert again["c1"].at_risk == (at_risk,)
        (vnd,) = await store.value_at_risk("hcm-01", T0, T0 + timedelta(days=3))
        assert (vnd.at_stake_minor, vnd.saved_minor) == (
            at_risk.remaining_minor,
            at_risk.saved_minor,
        )
        assert vnd.recovered_moments == 1

    run(loyalty_store, scenario)


def test_a_reopened_case_drops_its_recoveries_and_names_the_moments_it_reopened(
    loyalty_store,
) -> None:
    recovery = Recovery("m1", "c1", "case-1", T0 + timedelta(days=2))
    other = Recovery("m9", "c1", "case-9", T0 + timedelta(days=2))

    async def scenario(store) -> None:
        await store.fold(Facts([bought(0)], [loss(1, days=1), loss(9, days=1)]), valued)
        await store.fold(Facts(recoveries=[recovery, other]), valued)
        folded = await store.fold(Facts(reopened=[Reopening("case-1", "c1")]), valued)
        assert folded.reopened == {"m1"}
        recovered = {r.moment_id: r.recovered for r in folded.valued["c1"].at_risk}
        assert recovered == {"m1": False, "m9": True}  # only its own case's moment
        again = await store.fold(Facts(reopened=[Reopening("case-1", "c1")]), valued)
        assert again.reopened == set()  # redelivered: nothing left to reopen

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


def tiers_of(changes) -> list[tuple[str, str, str, int]]:
    return [(t.customer_id, t.previous_tier, t.tier, t.rank) for t in changes]


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


def test_folding_batch_by_batch_gives_and_stores_the_figures_of_the_whole_history(
    loyalty_store,
) -> None:
    """Late purchases and moments, recoveries, a reopening and a merge, folded a few at a time:
    after each fold the figures are those of valuing everything so far afresh (Postgres keeps
    the figures of moments whose history before them has not changed; both stores store them)."""
    rng = random.Random(7)
    arrivals = [Facts([bought(n, "c1" if n % 4 else "c2")]) for n in range(1, 25)]
    arrivals += [Facts(losses=[loss(n, "c1" if n % 3 else "c2", days=n * 0.7)]) for n in range(16)]
    rng.shuffle(arrivals)
    arrivals.insert(20, Facts(recoveries=[Recovery("m4", "c1", "case-4", T0 + timedelta(days=9))]))
    arrivals.insert(25, Facts(links=[LinkChange("merge-1", survivor_id="c1", absorbed_id="c2")]))
    arrivals.insert(30, Facts(reopened=[Reopening("case-4", "c1")]))
    kept = 0

    async def scenario(store) -> None:
        nonlocal kept
        for n in range(0, len(arrivals), 3):
            folded = await store.fold(Facts.combined(arrivals[n : n + 3]), valued)
            for customer, valuation in folded.valued.items():
                fresh = await store.get_value(customer, valued)  # the stored figures
                history = await store.get_history(customer)
                afresh = valued(history.purchases, history.lost, history.presence)
                assert fresh.at_risk == afresh.at_risk, (n, customer)
                # a fold gives what it valued again; what it kept is stored (and not read)
                assert replace(valuation, at_risk=()) == replace(fresh, at_risk=()), (n, customer)
                figured = {r.moment_id: r for r in fresh.at_risk}
                assert [figured[r.moment_id] for r in valuation.at_risk] == list(valuation.at_risk)
                assert {r.moment_id for r in valuation.at_risk} | valuation.kept <= set(figured)
                kept += len(valuation.kept)
        everything = await store.get_value("c1", valued)
        totals = await store.value_at_risk("hcm-01", T0, T0 + timedelta(days=30))
        assert len(everything.at_risk) == 16
        assert {t.currency: (t.at_stake_minor, t.saved_minor, t.lost_moments) for t in totals} == {
            currency: (
                sum(r.remaining_minor for r in figures),
                sum(r.saved_minor for r in figures),
                len(figures),
            )
            for currency in {r.currency for r in everything.at_risk}
            if (figures := [r for r in everything.at_risk if r.currency == currency])
        }
        if isinstance(store, PostgresLoyaltyStore):
            assert kept > 20  # the figures were kept, not valued again: the path is exercised

    run(loyalty_store, scenario)


def test_a_history_read_back_carries_each_lost_moments_figures_as_stored(loyalty_store) -> None:
    async def scenario(store) -> None:
        facts = Facts([bought(1), bought(3)], [loss(1, days=2), loss(2, days=4)])
        folded = (await store.fold(facts, valued)).valued["c1"]
        history = await store.get_history("c1")
        assert history is not None
        assert dict(history.at_risk) == {r.moment_id: r for r in folded.at_risk}
        read = valued_history(history, valued)  # what GetCustomerValue shows
        assert read == folded
        assert read is not None and read.kept == {"m1", "m2"}  # kept as stored, not revalued

    run(loyalty_store, scenario)
