"""LoyaltyStore contract: each purchase once, every affected customer revalued from full history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from loyalty.domain import Purchase, lifetime_value
from tests.builders import T0
from tests.integration.store_contract_support import STORE_KINDS, make_store, run


@pytest.fixture(params=STORE_KINDS)
def loyalty_store(request: pytest.FixtureRequest) -> Any:
    return make_store(request, "loyalty")


def bought(n: int, customer: str = "c1", minor: int = 100_000) -> Purchase:
    return Purchase(f"p{n}", customer, f"v{n}", T0 + timedelta(days=n), "VND", minor)


def test_loyalty_values_nobody_for_no_purchases(loyalty_store) -> None:
    async def scenario(store) -> None:
        assert await store.fold_purchases([], lifetime_value) == []
        assert await store.get_value("c1", lifetime_value) is None

    run(loyalty_store, scenario)


def test_loyalty_values_each_customer_from_their_own_full_history(loyalty_store) -> None:
    seen: dict[str, list[str]] = {}

    def valuer(history):
        seen[history[0].customer_id] = sorted(p.event_id for p in history)
        return lifetime_value(history)

    async def scenario(store) -> None:
        await store.fold_purchases([bought(1), bought(2, "c2")], lifetime_value)
        values = await store.fold_purchases([bought(3, "c2"), bought(4), bought(1)], valuer)
        assert seen == {"c1": ["p1", "p4"], "c2": ["p2", "p3"]}
        assert [v.customer_id for v in values] == ["c1", "c2"]
        assert await store.get_value("c2", lifetime_value) == values[1]

    run(loyalty_store, scenario)


def test_loyalty_keeps_the_first_version_of_a_purchase(loyalty_store) -> None:
    async def scenario(store) -> None:
        await store.fold_purchases([bought(1, minor=100_000)], lifetime_value)
        (value,) = await store.fold_purchases([bought(1, minor=999_999)], lifetime_value)
        assert value.average_spend_minor == 100_000

    run(loyalty_store, scenario)


def test_loyalty_stores_no_value_when_the_valuer_gives_none(loyalty_store) -> None:
    async def scenario(store) -> None:
        assert await store.fold_purchases([bought(1)], lambda history: None) == []
        assert await store.get_value("c1", lifetime_value) is None

    run(loyalty_store, scenario)
