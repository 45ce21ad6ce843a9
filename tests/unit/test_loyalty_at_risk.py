"""Loyalty takes journey's lost moments: given a customer's purchases and a LOSE on
journey.moments.v1, then a ValueUpdated naming the moment and what it put at risk, and the
customer's value moved by their churn risk; in whatever order the events arrive."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

from tests.builders import T0, handled, payment, record, recorded, value_records, valued
from tests.fakes.loyalty import MemoryLoyaltyStore
from touchstone.journey.v1.events_pb2 import (
    SIDE_PERSONAL,
    VERDICT_LOSE,
    VERDICT_WIN,
    MomentScored,
    StandardResult,
)
from touchstone.loyalty.handlers import ValueCustomers
from touchstone.loyalty.v1.events_pb2 import ValueUpdated
from touchstone.notify.v1.events_pb2 import CaseEvent, CaseOpened, CaseRecovered
from touchstone.platform.messaging.topics import (
    JOURNEY_MOMENTS,
    LOYALTY_DLQ,
    NOTIFY_CASES,
    Incoming,
)


def moment(n: int, verdict: int, minutes: int, customer: str = "cust-1") -> Incoming:
    scored = MomentScored(
        moment_id=f"m{n}",
        customer_id=customer,
        site_id="hcm-01",
        verdict=verdict,
        results=[
            StandardResult(
                standard_id="greet", met=verdict != VERDICT_LOSE, side=SIDE_PERSONAL, weight=1.0
            )
        ],
    )
    scored.occurred_at.FromDatetime(T0 + timedelta(minutes=minutes))
    return record(scored.SerializeToString(), n, JOURNEY_MOMENTS, key=customer.encode())


def paid(n: int, minor: int, minutes: int) -> Incoming:
    tp = payment(minor, T0 + timedelta(minutes=minutes), f"visit-{n}")
    return record(recorded(tp, "cust-1", f"visit-{n}"), 100 + n)


def case_recovered(n: int, *moment_ids: str, customer: str = "cust-1") -> Incoming:
    recovered = CaseRecovered(
        case_id="case-1", customer_id=customer, moment_ids=moment_ids, how="win"
    )
    recovered.recovered_at.FromDatetime(T0 + timedelta(days=1))
    event = CaseEvent(event_id=f"rec-{n}", recovered=recovered)
    return record(event.SerializeToString(), 200 + n, NOTIFY_CASES, key=customer.encode())


def events(out) -> list[ValueUpdated]:
    return [
        ValueUpdated.FromString(o.value)
        for o in value_records(out)
        if o.topic == "loyalty.values.v1"
    ]


def test_a_lost_moment_publishes_what_it_put_at_risk() -> None:
    store = MemoryLoyaltyStore()
    handler = ValueCustomers(store)
    (bought,) = events(handled(handler, [paid(1, 250_000, 0)]))
    before = bought.value.lifetime_value_minor
    out = handled(handler, [moment(1, VERDICT_WIN, 5), moment(2, VERDICT_LOSE, 9)])
    (lost,) = events(out)
    assert lost.at_risk.moment_id == "m2" and lost.at_risk.site_id == "hcm-01"
    assert (lost.at_risk.risk_before, lost.at_risk.risk_after) == (0.2, 0.44)
    assert lost.at_risk.lifetime_value_minor == before
    assert lost.at_risk.value_at_risk_minor == round(before * 0.24)
    assert lost.value.churn_risk == 0.44 and lost.value.lifetime_value_minor < before


def test_late_and_out_of_order_events_value_as_in_order_ones_would() -> None:
    log = [
        paid(1, 250_000, 0),
        moment(1, VERDICT_LOSE, 10),
        paid(2, 90_000, 20),
        moment(2, VERDICT_LOSE, 30),
        paid(3, 40_000, 40),
    ]
    in_order = MemoryLoyaltyStore()
    for r in log:
        handled(ValueCustomers(in_order), [r])
    expected = asyncio.run(in_order.get_value("cust-1", valued))
    rng = random.Random(5)
    for _ in range(4):
        shuffled = MemoryLoyaltyStore()
        for batch in (rng.sample(log, 3), log):  # some arrive early, all arrive (again)
            handled(ValueCustomers(shuffled), batch)
        assert asyncio.run(shuffled.get_value("cust-1", valued)) == expected
    assert [r.moment_id for r in expected.at_risk] == ["m1", "m2"]


def test_a_recovered_case_lowers_what_its_moments_put_at_stake_and_says_so() -> None:
    store = MemoryLoyaltyStore()
    handler = ValueCustomers(store)
    handled(handler, [paid(1, 250_000, 0), moment(2, VERDICT_LOSE, 9)])
    (update,) = events(handled(handler, [case_recovered(1, "m2")]))
    at_risk = update.at_risk
    assert at_risk.moment_id == "m2" and at_risk.recovered and at_risk.site_id == "hcm-01"
    assert 0 < at_risk.remaining_minor < at_risk.value_at_risk_minor
    assert update.value.churn_risk == 0.213333  # 1 - 0.8 x (1 - 0.05 / 3)
    (total,) = asyncio.run(store.value_at_risk("hcm-01", T0, T0 + timedelta(days=1)))
    assert total.saved_minor == at_risk.value_at_risk_minor - at_risk.remaining_minor
    assert (total.at_stake_minor, total.recovered_moments) == (at_risk.remaining_minor, 1)


def test_a_recovery_that_arrives_before_its_moment_counts_all_the_same() -> None:
    log = [paid(1, 250_000, 0), moment(2, VERDICT_LOSE, 9), case_recovered(1, "m2")]
    in_order, reversed_ = MemoryLoyaltyStore(), MemoryLoyaltyStore()
    for r in log:
        handled(ValueCustomers(in_order), [r])
    for r in reversed(log):
        handled(ValueCustomers(reversed_), [r])
    expected = asyncio.run(in_order.get_value("cust-1", valued))
    assert asyncio.run(reversed_.get_value("cust-1", valued)) == expected
    assert expected.at_risk[0].recovered


def test_other_case_events_change_nothing_and_a_broken_recovery_is_dead_lettered() -> None:
    opened = CaseEvent(event_id="o1", opened=CaseOpened(case_id="case-1", moment_id="m2"))
    other = record(opened.SerializeToString(), 300, NOTIFY_CASES)
    broken = case_recovered(2, customer="")
    out = handled(ValueCustomers(MemoryLoyaltyStore()), [other, broken])
    (dead,) = out
    assert (
        dead.topic == LOYALTY_DLQ and b"moment_ids are required" in dict(dead.headers)["dlq_reason"]
    )


def test_a_moment_without_its_customer_is_dead_lettered() -> None:
    bad = moment(1, VERDICT_LOSE, 0, customer="")
    (out,) = handled(ValueCustomers(MemoryLoyaltyStore()), [bad])
    assert out.topic == LOYALTY_DLQ and b"customer id" in dict(out.headers)["dlq_reason"]


def test_what_a_batch_changed_is_told_even_if_the_worker_died_before_publishing() -> None:
    """A purchase before a lost moment, heard after it, changes what the moment put at risk.
    Loyalty writes that news to its outbox in the transaction that changes it: a worker killed
    after the commit and before its publish loses nothing, though the redelivered batch itself
    finds nothing new to tell."""
    store = MemoryLoyaltyStore()
    handler = ValueCustomers(store)
    handled(handler, [paid(2, 90_000, 20), moment(2, VERDICT_LOSE, 30)])
    asyncio.run(handler.handle([paid(1, 250_000, 0)]))  # committed; killed before publishing
    asyncio.run(handler.handle([paid(1, 250_000, 0)]))  # redelivered after the restart
    told = [e.at_risk.moment_id for e in events(store.relayed()) if e.HasField("at_risk")]
    assert told == ["m2"]  # the news of the first delivery, relayed from the outbox


def test_each_moments_risks_are_churn_risks_of_the_moments_remembered_before_it() -> None:
    """What a lost moment put at risk is read off churn_risk: the risk before it (the earlier
    moments the model remembers), after it unrecovered, and after it as it stands. valuation
    walks the history once; here each figure is computed from the rule directly."""
    from dataclasses import replace
    from decimal import Decimal

    from touchstone.loyalty.churn import LostMoment, churn_risk, load_model
    from touchstone.loyalty.valuation import valuation

    model = load_model()
    rng = random.Random(11)
    lost = [
        LostMoment(
            f"m{n}",
            T0 + timedelta(days=rng.uniform(0, 900)),
            rng.choice(["personal", "procedural"]),
            Decimal(rng.randint(1, 6)),
            rng.random() < 0.3,
        )
        for n in range(80)
    ]
    ordered = sorted(lost, key=lambda m: (m.occurred_at, m.moment_id))
    figures = valuation([], lost, model).at_risk
    for n, (moment, risk) in enumerate(zip(ordered, figures, strict=True)):
        earlier, at = ordered[:n], moment.occurred_at
        assert risk.moment_id == moment.moment_id
        assert risk.risk_before == churn_risk(model, earlier, at)
        assert risk.risk_after == churn_risk(
            model, [*earlier, replace(moment, recovered=False)], at
        )
