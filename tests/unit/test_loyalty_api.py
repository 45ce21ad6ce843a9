"""Loyalty's gRPC servicer over the in-memory store: value at risk, and its bad requests."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import grpc
import pytest

from tests.builders import T0, valued
from tests.fakes.loyalty import MemoryLoyaltyStore
from tests.unit.test_contacts_ingest_api import Aborted, call, violations
from touchstone.loyalty.api import LoyaltyApi
from touchstone.loyalty.churn import LostMoment
from touchstone.loyalty.domain import Purchase
from touchstone.loyalty.v1 import loyalty_service_pb2 as pb
from touchstone.loyalty.v1.events_pb2 import VALUE_CHANGE_CAUSE_LOST_MOMENT
from touchstone.loyalty.valuation import Facts, Loss


def request(since_days: float | None, until_days: float | None) -> pb.GetValueAtRiskRequest:
    asked = pb.GetValueAtRiskRequest(site_id="hcm-01")
    if since_days is not None:
        asked.since.FromDatetime(T0 + timedelta(days=since_days))
    if until_days is not None:
        asked.until.FromDatetime(T0 + timedelta(days=until_days))
    return asked


def test_value_at_risk_is_answered_by_currency() -> None:
    store = MemoryLoyaltyStore()
    lost = LostMoment("m1", T0 + timedelta(hours=1), "personal", Decimal(1), site_id="hcm-01")
    purchase = Purchase("p1", "c1", "v1", T0, "VND", 250_000)
    asyncio.run(store.fold(Facts([purchase], [Loss("c1", lost)]), valued))
    (total,) = call(LoyaltyApi(store, valued).GetValueAtRisk, request(0, 1)).totals
    expected = valued([purchase], [lost]).at_risk[0].value_at_risk_minor
    assert (total.currency, total.at_stake_minor, total.lost_moments) == ("VND", expected, 1)
    assert expected > 0


@pytest.mark.parametrize(
    ("since", "until", "fields"),
    [(None, None, ["since", "until"]), (0, None, ["until"]), (1, 1, ["until"])],
)
def test_a_period_that_is_missing_or_empty_is_refused_by_field(since, until, fields) -> None:
    with pytest.raises(Aborted) as refused:
        call(LoyaltyApi(MemoryLoyaltyStore(), valued).GetValueAtRisk, request(since, until))
    assert refused.value.status.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [field for field, _ in violations(refused.value)] == fields


def test_a_customer_who_only_lost_moments_shows_them_at_risk_and_no_value_yet() -> None:
    store = MemoryLoyaltyStore()
    lost = LostMoment("m1", T0, "personal", Decimal(1), site_id="hcm-01")
    asyncio.run(store.fold(Facts(losses=[Loss("c1", lost)]), valued))
    reply = call(
        LoyaltyApi(store, valued).GetCustomerValue, pb.GetCustomerValueRequest(customer_id="c1")
    )
    assert (reply.customer_id, reply.currency, reply.purchases) == ("c1", "", 0)
    assert reply.tier == "" and reply.rank == 0
    assert [r.moment_id for r in reply.at_risk] == ["m1"] and reply.at_risk[
        0
    ].value_at_risk_minor == 0
    assert [c.cause for c in reply.history] == [VALUE_CHANGE_CAUSE_LOST_MOMENT]
