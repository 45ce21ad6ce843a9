"""LoyaltyStore contract, values: each purchase and lost moment once, every affected customer
revalued from their whole history, what each lost moment put at risk kept, recoveries counted
in any order; in memory as on Postgres."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.builders import T0, valued
from tests.integration.loyalty_contract_support import (
    bought,
    loss,
)
from tests.integration.store_contract_support import STORE_KINDS, make_store, run
from touchstone.loyalty.churn import LostMoment
from touchstone.loyalty.store import PostgresLoyaltyStore
from touchstone.loyalty.valuation import Facts, Loss, Recovery, Reopening
from touchstone.loyalty.valued import valued_history
from touchstone.platform.messaging.customer_links import LinkChange


@pytest.fixture(params=STORE_KINDS)
def loyalty_store(request: pytest.FixtureRequest) -> Any:
    return make_store(request, "loyalty")


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
