"""A customer's value over time: given purchases, a lost moment and its recovery, then each
change with its cause, its effect on lifetime value and churn risk, newest first."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from tests.unit.test_valuation import A_YEAR_OF_VISITS, MODEL, YEAR_END, lose
from touchstone.loyalty.history import LOST_MOMENT, PURCHASE, RECOVERY, happenings_of, value_history
from touchstone.loyalty.valuation import standing

RECOVERED_AT = YEAR_END + timedelta(days=1)


def recovered(n: int, after: timedelta):
    return replace(lose(n, after), recovered=True, recovered_at=RECOVERED_AT)


def test_each_change_says_its_cause_and_what_it_moved_newest_first() -> None:
    moment = replace(recovered(1, timedelta(minutes=5)), site_id="hcm-01")
    recovery, lost, purchase = value_history(A_YEAR_OF_VISITS, [moment], MODEL, limit=3)

    assert (recovery.cause, recovery.cause_id, recovery.at) == (RECOVERY, "m1", RECOVERED_AT)
    assert (recovery.churn_risk_before, recovery.churn_risk_after) == (
        Decimal("0.44"),
        Decimal("0.213333"),  # 1 - 0.8 x (1 - 0.05 / 3)
    )
    assert recovery.lifetime_value_before_minor == 45_454_000
    assert recovery.lifetime_value_after_minor == 93_750_000  # 500,000 x 40 x 4.6875

    assert (lost.cause, lost.cause_id, lost.site_id) == (LOST_MOMENT, "m1", "hcm-01")
    assert (lost.churn_risk_before, lost.churn_risk_after) == (Decimal("0.2"), Decimal("0.44"))
    assert (lost.lifetime_value_before_minor, lost.lifetime_value_after_minor) == (
        100_000_000,
        45_454_000,
    )
    assert lost.amount_minor == 0 and lost.currency == "VND"

    assert (purchase.cause, purchase.cause_id, purchase.amount_minor) == (PURCHASE, "p0", 500_000)
    assert purchase.lifetime_value_after_minor == 100_000_000
    assert purchase.churn_risk_before == purchase.churn_risk_after == Decimal("0.2")


def test_the_history_is_as_long_as_asked_and_as_the_customer_has_lived() -> None:
    moment = recovered(1, timedelta(minutes=5))
    assert len(value_history(A_YEAR_OF_VISITS, [moment], MODEL, limit=10)) == 10
    everything = value_history(A_YEAR_OF_VISITS, [moment], MODEL, limit=200)
    assert len(everything) == 42  # 40 purchases, the lose, its recovery
    first = everything[-1]
    assert (first.cause_id, first.lifetime_value_before_minor, first.currency) == ("p39", 0, "VND")


def test_a_lose_before_any_purchase_moves_the_risk_of_a_customer_worth_nothing_yet() -> None:
    first_visit = A_YEAR_OF_VISITS[0].occurred_at
    early = replace(lose(1, timedelta()), occurred_at=first_visit - timedelta(minutes=1))
    purchase, lost = value_history(A_YEAR_OF_VISITS[:1], [early], MODEL, limit=5)
    assert lost.cause == LOST_MOMENT and lost.currency == "" and lost.churn_risk_after > 0.2
    assert lost.lifetime_value_before_minor == lost.lifetime_value_after_minor == 0
    assert purchase.cause == PURCHASE and purchase.churn_risk_before == lost.churn_risk_after


def test_the_history_is_the_same_whatever_order_the_facts_come_in() -> None:
    moments = [recovered(1, timedelta(minutes=5)), lose(2, timedelta(hours=3), "procedural")]
    forward = value_history(A_YEAR_OF_VISITS, moments, MODEL, limit=50)
    backward = value_history(A_YEAR_OF_VISITS[::-1], moments[::-1], MODEL, limit=50)
    assert forward == backward


def plainly(purchases, lost, limit):
    """value_history's definition, state by state: everything before a change, valued at its
    time (valuation.standing), then with it."""
    happened = happenings_of(purchases, lost)

    def state(before, at):
        seen = happened[:before]
        recovered = {h.cause_id for h in seen if h.cause == RECOVERY}
        bought = [h.purchase for h in seen if h.purchase is not None]
        moments = [
            replace(h.moment, recovered=h.moment.moment_id in recovered)
            for h in seen
            if h.cause == LOST_MOMENT
        ]
        value, risk = standing(bought, moments, at, MODEL)
        return (value.currency, value.lifetime_value_minor, risk) if value else ("", 0, risk)

    changes = []
    for n in range(len(happened) - 1, max(-1, len(happened) - 1 - limit), -1):
        h = happened[n]
        before, after = state(n, h.at), state(n + 1, h.at)
        changes.append((h.cause, h.cause_id, before, after))
    return changes


def test_the_history_is_its_plain_definition_for_random_histories() -> None:
    rng = random.Random(5)
    for _ in range(25):
        purchases = [
            replace(p, occurred_at=p.occurred_at + timedelta(days=rng.randrange(-200, 200)))
            for p in rng.sample(A_YEAR_OF_VISITS, rng.randrange(0, len(A_YEAR_OF_VISITS)))
        ]
        lost = []
        for n in range(rng.randrange(0, 12)):
            moment = lose(n, timedelta(days=rng.randrange(-300, 60), minutes=n))
            if rng.random() < 0.4:
                moment = replace(
                    moment,
                    recovered=True,
                    recovered_at=moment.occurred_at + timedelta(days=rng.randrange(0, 9)),
                )
            lost.append(moment)
        limit = rng.randrange(1, 30)
        told = value_history(purchases, lost, MODEL, limit)
        expected = plainly(purchases, lost, limit)
        assert len(told) == len(expected)
        for change, (cause, cause_id, before, after) in zip(told, expected, strict=True):
            assert (change.cause, change.cause_id) == (cause, cause_id)
            assert (change.lifetime_value_before_minor, change.churn_risk_before) == before[1:]
            assert (
                change.currency,
                change.lifetime_value_after_minor,
                change.churn_risk_after,
            ) == after
