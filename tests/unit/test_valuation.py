"""A customer valued from their whole history: given purchases and lost moments in any order,
then the lifetime value moved by churn risk, and what each lost moment put at risk."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from tests.builders import T0
from touchstone.journey.v1.events_pb2 import (
    SIDE_PERSONAL,
    SIDE_PROCEDURAL,
    VERDICT_LOSE,
    VERDICT_WIN,
    MomentScored,
    StandardResult,
)
from touchstone.loyalty.churn import LostMoment, load_model
from touchstone.loyalty.domain import Purchase
from touchstone.loyalty.valuation import Presence, lost_moment_of, valuation

MODEL = load_model()
YEAR_END = T0 + timedelta(days=365) - timedelta(seconds=1)
SPACING = timedelta(days=365) / 40
A_YEAR_OF_VISITS = [  # a visit every 9.125 days (40 a year) of 500,000 VND, the last at YEAR_END
    Purchase(f"p{n}", "lan", f"v{n}", YEAR_END - SPACING * n, "VND", 500_000) for n in range(40)
]


def lose(n: int, after: timedelta, side: str = "personal", recovered: bool = False):
    return LostMoment(f"m{n}", YEAR_END + after, side, Decimal(1), recovered)


def test_the_worked_example_then_one_unrecovered_personal_lose() -> None:
    assert valuation(A_YEAR_OF_VISITS, [], MODEL).value.lifetime_value_minor == 100_000_000
    valued = valuation(A_YEAR_OF_VISITS, [lose(1, timedelta(minutes=5))], MODEL)
    (moment,) = valued.at_risk
    assert (moment.lifetime_value_minor, moment.currency) == (100_000_000, "VND")
    assert (moment.risk_before, moment.risk_after) == (Decimal("0.2"), Decimal("0.44"))
    assert moment.value_at_risk_minor == 24_000_000
    assert valued.churn_risk == Decimal("0.44")
    assert valued.value is not None
    assert valued.value.expected_years == Decimal("2.2727")  # 1 / 0.44
    assert valued.value.lifetime_value_minor == 45_454_000  # 500,000 x 40 x 2.2727


def test_a_recovered_lose_keeps_what_it_put_at_stake_and_says_what_recovery_saved() -> None:
    recovered = lose(1, timedelta(minutes=5), recovered=True)
    valued = valuation(A_YEAR_OF_VISITS, [recovered], MODEL)
    (moment,) = valued.at_risk
    assert moment.recovered and moment.value_at_risk_minor == 24_000_000  # as if unrecovered
    # 1 - 0.8 x (1 - 0.05 / 3) = 0.213333: 100,000,000 x 0.013333 stays at stake
    assert moment.remaining_minor == 1_333_300
    assert moment.saved_minor == 22_666_700
    assert valued.churn_risk == Decimal("0.213333")


def test_a_recovered_lose_lowers_what_later_ones_put_at_risk() -> None:
    second = lose(2, timedelta(minutes=9))
    unrecovered = valuation(A_YEAR_OF_VISITS, [lose(1, timedelta(minutes=5)), second], MODEL)
    recovered = valuation(
        A_YEAR_OF_VISITS, [lose(1, timedelta(minutes=5), recovered=True), second], MODEL
    )
    assert recovered.at_risk[1].risk_before == Decimal("0.213333")
    assert recovered.at_risk[1].lifetime_value_minor > unrecovered.at_risk[1].lifetime_value_minor


def test_each_lost_moment_is_valued_against_what_came_before_it() -> None:
    first, second = lose(1, timedelta(minutes=5)), lose(2, timedelta(minutes=9), "procedural")
    one, two = valuation(A_YEAR_OF_VISITS, [second, first], MODEL).at_risk
    assert (one.moment_id, two.moment_id) == ("m1", "m2")
    assert two.risk_before == one.risk_after == Decimal("0.44")
    assert two.risk_after == Decimal("0.524")  # 1 - 0.8 x 0.7 x 0.85
    assert two.lifetime_value_minor == 45_454_000  # the value the first lose left
    assert two.value_at_risk_minor == 3_818_136  # 45,454,000 x 0.084


def test_late_and_out_of_order_events_give_what_in_order_ones_would() -> None:
    moments = [lose(n, timedelta(hours=n)) for n in range(1, 4)]
    purchases = [
        *A_YEAR_OF_VISITS,
        *(  # and more shopping between the losses
            Purchase(
                f"late{n}",
                "lan",
                f"lv{n}",
                YEAR_END + timedelta(hours=n, minutes=30),
                "VND",
                300_000,
            )
            for n in range(1, 4)
        ),
    ]
    in_order = valuation(purchases, moments, MODEL)
    rng = random.Random(7)
    for _ in range(5):
        shuffled = valuation(
            rng.sample(purchases, len(purchases)), rng.sample(moments, len(moments)), MODEL
        )
        assert shuffled == in_order
    assert in_order.at_risk[1].lifetime_value_minor != in_order.at_risk[0].lifetime_value_minor


def test_a_customer_who_never_bought_risks_nothing_yet() -> None:
    valued = valuation([], [lose(1, timedelta(0))], MODEL)
    assert valued.value is None and valued.churn_risk == Decimal("0.44")
    (moment,) = valued.at_risk
    assert (moment.currency, moment.value_at_risk_minor) == ("", 0)


def scored(verdict: int, *broken: tuple[int, float]) -> MomentScored:
    moment = MomentScored(
        moment_id="m",
        verdict=verdict,
        results=[
            StandardResult(standard_id=f"s{n}", met=False, side=side, weight=weight)
            for n, (side, weight) in enumerate(broken)
        ],
    )
    moment.occurred_at.FromDatetime(T0)
    return moment


def test_a_lost_moment_weighs_what_it_broke_on_the_side_of_its_heaviest_standard() -> None:
    assert lost_moment_of(scored(VERDICT_WIN)) is None
    one = lost_moment_of(scored(VERDICT_LOSE, (SIDE_PERSONAL, 1.0)))
    assert one is not None and (one.side, one.weight, one.occurred_at) == ("personal", 1, T0)
    two = lost_moment_of(scored(VERDICT_LOSE, (SIDE_PROCEDURAL, 2.0), (SIDE_PERSONAL, 0.5)))
    assert two is not None and (two.side, two.weight) == ("procedural", Decimal("2.5"))
    tie = lost_moment_of(scored(VERDICT_LOSE, (SIDE_PROCEDURAL, 1.0), (SIDE_PERSONAL, 1.0)))
    assert tie is not None and tie.side == "personal"


def test_silence_after_an_unrecovered_lose_raises_the_risk_once_its_time_has_come() -> None:
    lost = lose(1, timedelta(minutes=5))
    last_seen = YEAR_END  # their last contact was the visit before the lose
    quiet = timedelta(days=18.25)  # silence.after_visits 2 x 365 / 40 visits a year
    early = valuation(
        A_YEAR_OF_VISITS,
        [lost],
        MODEL,
        presence=Presence(last_seen, lost.occurred_at + timedelta(days=10)),
    )
    assert not early.silent and early.churn_risk == Decimal("0.44")
    assert early.silence_due == (("m1", lost.occurred_at + quiet),)
    late = valuation(
        A_YEAR_OF_VISITS, [lost], MODEL, presence=Presence(last_seen, lost.occurred_at + quiet)
    )
    assert late.silent and late.value is not None and late.value.silent
    assert late.churn_risk == Decimal("0.72")  # 1 - 0.8 x 0.7 x (1 - silence.departs 0.5)
    assert late.at_risk == early.at_risk  # what the lose put at risk when it happened stays


def test_a_customer_back_in_contact_or_recovered_is_not_silent() -> None:
    lost = lose(1, timedelta(minutes=5))
    long_after = lost.occurred_at + timedelta(days=60)
    back = valuation(
        A_YEAR_OF_VISITS,
        [lost],
        MODEL,
        presence=Presence(lost.occurred_at + timedelta(days=1), long_after),
    )
    assert not back.silent and back.silence_due == ()
    recovered = replace(lost, recovered=True)
    quiet = valuation(A_YEAR_OF_VISITS, [recovered], MODEL, presence=Presence(YEAR_END, long_after))
    assert not quiet.silent and quiet.silence_due == ()
    assert valuation(A_YEAR_OF_VISITS, [lost], MODEL).silence_due == ()  # presence unknown
