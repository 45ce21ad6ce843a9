"""CustomerLinks contract, on every service that follows merges: memory fakes and Postgres alike.

Given history under two customer ids → merged: each service answers for both under either id →
unmerged: each answers for each alone again. Nothing is rewritten, so nothing is lost.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.builders import T0, valued
from tests.integration.store_contract_support import STORE_KINDS, make_store, run
from tests.integration.test_journey_store_contract import moment_row
from tests.integration.test_notify_store_contract import lost, open_or_join
from touchstone.journey.ports import MomentFilter
from touchstone.loyalty.domain import Purchase
from touchstone.loyalty.valuation import Facts
from touchstone.loyalty.valued import value_as
from touchstone.notify.rows import CaseFilter
from touchstone.platform.messaging.customer_links import LinkChange

MERGE = LinkChange("m1", survivor_id="c1", absorbed_id="c2")
UNMERGE = LinkChange("m1", survivor_id="c1", absorbed_id="c2", unmerged=True)
CHAIN = LinkChange("m2", survivor_id="c2", absorbed_id="c3")


@pytest.fixture(params=STORE_KINDS)
def kind(request: pytest.FixtureRequest) -> pytest.FixtureRequest:
    return request


def test_links_fold_idempotently_and_chain_to_the_last_survivor(kind) -> None:
    async def scenario(store) -> None:
        assert await store.customer_group("c1") == ("c1",)
        await store.fold_links([MERGE, CHAIN])
        await store.fold_links([MERGE])  # redelivered
        assert await store.customer_group("c3") == ("c1", "c2", "c3")
        await store.fold_links([UNMERGE])
        assert await store.customer_group("c3") == ("c2", "c3")
        assert await store.customer_group("c1") == ("c1",)
        await store.fold_links([MERGE])  # the merge redelivered after its unmerge stays undone
        assert await store.customer_group("c1") == ("c1",)

    run(make_store(kind, "journey"), scenario)


def test_an_unmerge_and_its_merge_in_one_batch_leave_them_apart(kind) -> None:
    async def scenario(store) -> None:
        await store.fold_links([UNMERGE, MERGE])
        assert await store.customer_group("c2") == ("c2",)

    run(make_store(kind, "notify"), scenario)


def test_journey_lists_a_merged_customers_moments_under_either_id(kind) -> None:
    async def scenario(store) -> None:
        await store.save_moments(
            [moment_row(1, "win"), moment_row(2, "lose", customer_id="c2", visit_id="v2")]
        )

        async def customers_listed(customer_id: str) -> list[str]:
            rows = await store.list_moments(MomentFilter(customer_id=customer_id), None, 10)
            return [m.customer_id for m in rows]

        await store.fold_links([MERGE])
        assert await customers_listed("c1") == await customers_listed("c2") == ["c1", "c2"]
        await store.fold_links([UNMERGE])
        assert (await customers_listed("c1"), await customers_listed("c2")) == (["c1"], ["c2"])

    run(make_store(kind, "journey"), scenario)


def test_notify_counts_a_merged_customers_cases_as_theirs(kind) -> None:
    async def scenario(store) -> None:
        await open_or_join(store, lost(1), lost(2, visit="v2", customer="c2"))
        await store.fold_links([MERGE])
        cases, total = await store.list_cases(CaseFilter(customer_id="c2"), None, 10)
        assert total == 2 and {c.customer_id for c in cases} == {"c1", "c2"}
        await store.fold_links([UNMERGE])
        assert (await store.list_cases(CaseFilter(customer_id="c2"), None, 10))[1] == 1

    run(make_store(kind, "notify"), scenario)


def bought(n: int, customer: str, minor: int) -> Purchase:
    return Purchase(f"p{n}", customer, f"v{n}", T0 + timedelta(days=n), "VND", minor)


def test_loyalty_values_a_merged_customer_from_both_histories(kind) -> None:
    async def scenario(store) -> None:
        mine, theirs = bought(1, "c1", 100_000), bought(2, "c2", 300_000)
        await store.fold(Facts([mine, theirs]), valued)
        await store.fold_links([MERGE])
        merged = await store.get_value("c2", valued)
        assert merged is not None and merged.value.customer_id == "c1"
        assert (merged.value.purchases, merged.value.average_spend_minor) == (2, 200_000)
        assert merged == value_as("c1", valued([mine, theirs]))
        await store.fold_links([UNMERGE])
        assert await store.get_value("c2", valued) == valued([theirs])
        assert await store.get_value("c1", valued) == valued([mine])

    run(make_store(kind, "loyalty"), scenario)
