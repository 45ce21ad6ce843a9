"""Tiers and a site's top customers: given customers' lifetime values at a site, then their
ranks and tiers (top 20%, docs/domain.md §7), as tiers.yaml cuts them, and each change of tier
published."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from tests.builders import T0, handled, payment, record, recorded, valued
from tests.fakes.loyalty import MemoryLoyaltyStore
from tests.unit.test_contacts_ingest_api import Aborted, call, violations
from touchstone.loyalty.api import LoyaltyApi
from touchstone.loyalty.domain import Purchase
from touchstone.loyalty.handlers import ValueCustomers
from touchstone.loyalty.tiers import Tier, TiersError, load_tiers, rank_range, retiered, tier_of
from touchstone.loyalty.v1 import loyalty_service_pb2 as pb
from touchstone.loyalty.v1.events_pb2 import VALUE_CHANGE_CAUSE_PURCHASE, ValueUpdated
from touchstone.loyalty.valuation import Facts
from touchstone.platform.messaging.topics import Incoming

TIERS = load_tiers()


def test_the_default_tiers_cut_a_site_at_20_and_50_percent() -> None:
    assert [(t.name, str(t.share)) for t in TIERS] == [
        ("top", "0.2"),
        ("middle", "0.5"),
        ("rest", "1.0"),
    ]
    assert [rank_range(TIERS, name, 10) for name in ("top", "middle", "rest")] == [
        (1, 2),
        (3, 5),
        (6, 10),
    ]
    assert [tier_of(TIERS, rank, 10) for rank in (1, 2, 3, 5, 6, 10)] == [
        "top",
        "top",
        "middle",
        "middle",
        "rest",
        "rest",
    ]
    assert rank_range(TIERS, "top", 1) == (1, 1) and rank_range(TIERS, "middle", 1) == (2, 1)


def paid_at_site(n: int, customer: str, minor: int) -> Incoming:
    tp = payment(minor, T0 + timedelta(days=n), f"visit-{customer}-{n}")
    tp.site_id = "hcm-01"
    return record(recorded(tp, customer, f"visit-{customer}-{n}"), n, key=customer.encode())


def a_site_of_ten() -> LoyaltyApi:
    store = MemoryLoyaltyStore()
    purchases = [
        Purchase(f"p{n}", f"c{n}", f"v{n}", T0 + timedelta(hours=n), "VND", 10_000 * n, "hcm-01")
        for n in range(1, 11)
    ]
    elsewhere = Purchase("p99", "c99", "v99", T0, "VND", 9_999_999, "hn-02")
    asyncio.run(store.fold(Facts([*purchases, elsewhere]), valued))
    return LoyaltyApi(store, valued)


def test_a_sites_top_customers_come_best_first_with_rank_and_tier() -> None:
    reply = call(
        a_site_of_ten().ListTopCustomers, pb.ListTopCustomersRequest(site_id="hcm-01", n=3)
    )
    assert reply.site_customers == 10
    assert [(c.customer_id, c.rank, c.tier) for c in reply.customers] == [
        ("c10", 1, "top"),
        ("c9", 2, "top"),
        ("c8", 3, "middle"),
    ]
    assert reply.customers[0].lifetime_value_minor > reply.customers[1].lifetime_value_minor


def test_one_tier_of_a_site_is_listed_by_name() -> None:
    request = pb.ListTopCustomersRequest(site_id="hcm-01", tier="middle")
    reply = call(a_site_of_ten().ListTopCustomers, request)
    assert [(c.customer_id, c.rank) for c in reply.customers] == [("c8", 3), ("c7", 4), ("c6", 5)]


def test_a_bad_ranking_request_names_its_field() -> None:
    api = a_site_of_ten()
    for request, field in [
        (pb.ListTopCustomersRequest(), "site_id"),
        (pb.ListTopCustomersRequest(site_id="hcm-01", n=501), "n"),
        (pb.ListTopCustomersRequest(site_id="hcm-01", tier="gold"), "tier"),
    ]:
        with pytest.raises(Aborted) as refused:
            call(api.ListTopCustomers, request)
        assert refused.value.status.code == grpc.StatusCode.INVALID_ARGUMENT
        assert violations(refused.value)[0][0] == field


def test_a_customers_value_says_their_tier_rank_and_what_changed_it() -> None:
    reply = call(a_site_of_ten().GetCustomerValue, pb.GetCustomerValueRequest(customer_id="c8"))
    assert (reply.customer_id, reply.site_id) == ("c8", "hcm-01")
    assert (reply.tier, reply.rank, reply.site_customers) == ("middle", 3, 10)
    (bought,) = reply.history
    assert (bought.cause, bought.cause_id, bought.amount_minor) == (
        VALUE_CHANGE_CAUSE_PURCHASE,
        "p8",
        80_000,
    )
    assert bought.lifetime_value_after_minor == reply.lifetime_value_minor


def test_a_customer_value_request_is_checked_field_by_field() -> None:
    api = a_site_of_ten()
    too_long = pb.GetCustomerValueRequest(customer_id="c8", history_limit=201)
    for request, code, field in [
        (pb.GetCustomerValueRequest(), grpc.StatusCode.INVALID_ARGUMENT, "customer_id"),
        (too_long, grpc.StatusCode.INVALID_ARGUMENT, "history_limit"),
        (pb.GetCustomerValueRequest(customer_id="c404"), grpc.StatusCode.NOT_FOUND, ""),
    ]:
        with pytest.raises(Aborted) as refused:
            call(api.GetCustomerValue, request)
        assert refused.value.status.code == code
        assert not field or violations(refused.value)[0][0] == field


def test_shares_cut_exactly_where_floats_would_not() -> None:
    thirty = (Tier("top", Decimal("0.3")), Tier("rest", Decimal(1)))
    assert rank_range(thirty, "top", 10) == (1, 3)  # 0.3 x 10 in floats is 3.0000000000000004
    assert tier_of(thirty, 4, 10) == "rest"


def test_a_change_of_tier_is_published_keyed_by_the_customer_it_moved() -> None:
    store = MemoryLoyaltyStore()
    handler = ValueCustomers(store)
    first = [paid_at_site(n, f"c{n}", 100_000 * n) for n in range(1, 6)]
    handled(handler, first)
    out = handled(handler, [paid_at_site(9, "c1", 10_000_000)])
    moved = [
        (o.key, e.tier_change)
        for o in out
        if (e := ValueUpdated.FromString(o.value)).HasField("tier_change")
    ]
    assert [(key, t.previous_tier, t.tier) for key, t in moved] == [
        (b"c1", "rest", "top"),
        (b"c5", "top", "middle"),
        (b"c3", "middle", "rest"),
    ]
    assert all(t.site_id == "hcm-01" and t.site_customers == 5 for _, t in moved)
    again = handled(handler, [paid_at_site(9, "c1", 10_000_000)])
    assert not any(ValueUpdated.FromString(o.value).HasField("tier_change") for o in again)


def test_the_service_takes_its_churn_model_and_tiers_from_the_settings(tmp_path) -> None:
    from touchstone.loyalty.churn import default_model_file
    from touchstone.loyalty.service import SPEC
    from touchstone.platform.runtime.settings import Settings

    churn = tmp_path / "churn.yaml"
    text = default_model_file().read_text(encoding="utf-8")
    churn.write_text(text.replace("base_risk: 0.2", "base_risk: 0.1"), encoding="utf-8")
    tiers = tmp_path / "tiers.yaml"
    tiers.write_text("tiers:\n  - {name: vip, share: 0.1}\n  - {name: all, share: 1}\n")
    settings = Settings.from_env(
        {"TOUCHSTONE_CHURN_MODEL_FILE": str(churn), "TOUCHSTONE_TIERS_FILE": str(tiers)}
    )
    store = SPEC.store(None, settings)
    assert [t.name for t in store.tiers] == ["vip", "all"]
    assert SPEC.handler(store, settings).model.base_risk == Decimal("0.1")


def test_a_tiers_file_with_a_mistake_names_its_line_and_what_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "tiers.yaml"
    path.write_text("tiers:\n  - {name: gold, share: 0.2}\n  - {name: silver}\n")
    with pytest.raises(TiersError, match=r"tiers.yaml:3: tiers\[1\]: needs a name and a share"):
        load_tiers(path)
    path.write_text("tiers:\n  - {name: gold, share: 0.5}\n  - {name: rest, share: 0.4}\n")
    with pytest.raises(TiersError, match=r"tiers.yaml:2: tiers: shares must rise to 1.0"):
        load_tiers(path)


def test_only_the_customers_whose_tier_moves_are_retiered() -> None:
    ranked = [(f"c{n}", "EUR", 1000 - n) for n in range(1, 11)]  # c1 best
    was = {"c1": "top", "c2": "top", "c3": "top", "c4": "rest"}
    changes = retiered(TIERS, "s1", ranked, was)
    assert [(c.customer_id, c.previous_tier, c.tier, c.rank) for c in changes][:3] == [
        ("c3", "top", "middle", 3),
        ("c4", "rest", "middle", 4),
        ("c5", "", "middle", 5),
    ]
    assert "c1" not in {c.customer_id for c in changes}
    assert all(c.site_customers == 10 and c.site_id == "s1" for c in changes)
