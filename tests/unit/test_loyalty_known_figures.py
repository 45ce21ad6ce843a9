"""A long history costs only its new moments: what a lost moment was valued at is kept while the
history before it is unchanged, and the figures are those valuing the whole history afresh
gives, whatever order the facts arrive in."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from tests.builders import T0, valued
from touchstone.loyalty.at_risk import NOTHING_CHANGED, Known, Stored
from touchstone.loyalty.churn import LostMoment
from touchstone.loyalty.domain import DEFAULT_POLICY, Purchase, spending_of
from touchstone.loyalty.so_far import SpendingSoFar
from touchstone.loyalty.valuation import Facts, Loss, Recovery, Reopening, known_figures
from touchstone.platform.messaging.customer_links import LinkChange


def bought(n: int, days: float, customer: str = "c1") -> Purchase:
    return Purchase(f"p{n}", customer, f"v{n}", T0 + timedelta(days=days), "VND", 100_000, "s1")


def lost(n: int, days: float, recovered: bool = False) -> LostMoment:
    at = T0 + timedelta(days=days, minutes=5)
    return LostMoment(f"m{n}", at, "personal", Decimal(2), recovered, "s1")


PURCHASES = [bought(n, 3 * n) for n in range(12)]
MOMENTS = [lost(n, 3 * n, recovered=n % 3 == 0) for n in range(12)]


def bogus(figures: dict) -> dict:
    """Figures no valuation would give: kept ones show through."""
    return {m: replace(r, value_at_risk_minor=-1) for m, r in figures.items()}


def test_figures_before_the_earliest_change_are_kept_and_the_rest_valued_again() -> None:
    fresh = valued(PURCHASES, MOMENTS)
    stored = bogus({r.moment_id: r for r in fresh.at_risk})
    changed_from = MOMENTS[5].occurred_at
    again = valued(PURCHASES, MOMENTS, known=Known(stored, changed_from))
    assert again.kept == {f"m{n}" for n in range(5)}
    assert [r.value_at_risk_minor == -1 for r in again.at_risk] == [n < 5 for n in range(12)]
    assert again.at_risk[5:] == fresh.at_risk[5:]
    assert (again.value, again.churn_risk) == (fresh.value, fresh.churn_risk)


def test_figures_whose_moment_no_longer_matches_them_are_valued_again() -> None:
    fresh = valued(PURCHASES, MOMENTS)
    stored = {r.moment_id: r for r in fresh.at_risk}
    stored["m1"] = replace(stored["m1"], recovered=True, value_at_risk_minor=-1)
    stored["m2"] = replace(stored["m2"], site_id="s9", value_at_risk_minor=-1)
    again = valued(PURCHASES, MOMENTS, known=Known(stored))
    assert again.kept == {f"m{n}" for n in range(12)} - {"m1", "m2"}
    assert again.at_risk == fresh.at_risk


def test_figures_known_only_as_stored_are_kept_unread_and_the_rest_valued_again() -> None:
    fresh = valued(PURCHASES, MOMENTS)
    stored = {r.moment_id: Stored(r.occurred_at, r.recovered, r.site_id) for r in fresh.at_risk}
    stored["m1"] = replace(stored["m1"], recovered=not stored["m1"].recovered)  # stale: again
    again = valued(PURCHASES, MOMENTS, known=Known(stored, MOMENTS[5].occurred_at))
    assert again.kept == {"m0", "m2", "m3", "m4"}
    assert again.at_risk == tuple(r for r in fresh.at_risk if r.moment_id not in again.kept)
    assert replace(again, at_risk=()) == replace(fresh, at_risk=())


def test_each_lost_moment_is_valued_with_the_purchases_before_it_whatever_their_order() -> None:
    rng = random.Random(5)
    purchases = [
        replace(bought(n, rng.choice([1, 2, 2, 5, 9, 9, 14])), currency=rng.choice(["VND", "USD"]))
        for n in range(14)
    ]
    rng.shuffle(purchases)
    so_far = SpendingSoFar(purchases, DEFAULT_POLICY)
    for day in (0, 1, 2, 3, 9, 13.5, 14, 30):
        at = T0 + timedelta(days=day)
        assert so_far.by(at) == spending_of([p for p in purchases if p.occurred_at <= at])
    assert so_far.by(None) == spending_of(purchases)
    assert SpendingSoFar([], DEFAULT_POLICY).by(None) is None


def test_the_history_changes_from_the_earliest_purchase_loss_or_recovery_the_facts_bring() -> None:
    group, moments = ("c1", "c2"), MOMENTS
    stored = {r.moment_id: r for r in valued(PURCHASES, MOMENTS).at_risk}

    def changed_from(facts: Facts, recovery_changed: frozenset[str] = frozenset()) -> object:
        known = known_figures(facts, group, moments, set(recovery_changed), stored)
        return known and known.changed_from

    assert changed_from(Facts()) == NOTHING_CHANGED
    assert changed_from(Facts(purchases=[bought(20, 10, "c2"), bought(21, 7)])) == (
        T0 + timedelta(days=7)
    )
    assert changed_from(Facts(purchases=[bought(22, 1, "someone-else")])) == NOTHING_CHANGED
    assert changed_from(Facts(losses=[Loss("c2", lost(20, 4))])) == MOMENTS[0].occurred_at + (
        timedelta(days=4)
    )
    assert changed_from(Facts(), frozenset({"m6", "m4"})) == MOMENTS[4].occurred_at
    assert changed_from(Facts(), frozenset({"m-not-theirs"})) == NOTHING_CHANGED
    merge = LinkChange("merge-1", "c1", "c3")
    assert changed_from(Facts(links=[merge])) is None
    assert changed_from(Facts(erased=["c2"])) is None


def test_folding_a_history_batch_by_batch_gives_the_figures_of_valuing_it_whole() -> None:
    """As the store folds: each batch's known figures from the last batch's, late purchases and
    moments, recoveries and reopenings in random order; after every batch the figures are
    exactly those of valuing the history so far afresh."""
    seeds_keeping = 0
    for seed in range(40):
        rng = random.Random(seed)
        purchases = [bought(n, rng.uniform(0, 400)) for n in range(rng.randint(0, 30))]
        moments = [lost(n, rng.uniform(0, 400)) for n in range(rng.randint(1, 30))]
        arrivals: list[object] = [*purchases, *moments]
        rng.shuffle(arrivals)
        have_p: list[Purchase] = []
        have_m: dict[str, LostMoment] = {}
        stored: dict = {}
        kept = 0
        while arrivals:
            size = rng.randint(1, 4)
            batch, arrivals = arrivals[:size], arrivals[size:]
            new_p = [x for x in batch if isinstance(x, Purchase)]
            new_m = [x for x in batch if isinstance(x, LostMoment)]
            have_p += new_p
            have_m.update({m.moment_id: m for m in new_m})
            flipped = set(rng.sample(sorted(have_m), k=min(len(have_m), rng.randint(0, 2))))
            for moment_id in flipped:  # recovered, or its case reopened
                was = have_m[moment_id]
                have_m[moment_id] = replace(was, recovered=not was.recovered)
            facts = Facts(
                purchases=new_p,
                losses=[Loss("c1", m) for m in new_m],
                recoveries=[Recovery(m, "c1", "case", T0) for m in flipped if have_m[m].recovered],
                reopened=[Reopening("case", "c1")] if flipped else [],
            )
            reopened = {m for m in flipped if not have_m[m].recovered}
            history = list(have_m.values())
            known = known_figures(facts, ("c1",), history, facts.moment_ids | reopened, stored)
            folded = valued(have_p, history, known=known)
            fresh = valued(have_p, history)
            assert folded.at_risk == fresh.at_risk, seed
            assert (folded.value, folded.churn_risk) == (fresh.value, fresh.churn_risk), seed
            kept += len(folded.kept)
            stored.update({r.moment_id: r for r in folded.at_risk})
        seeds_keeping += kept > 0
    assert seeds_keeping >= 30  # the figures kept were many, not a vacuous pass
