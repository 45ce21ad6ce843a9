"""JourneyStore contract: each moment once, visits rolled up from new moments only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.builders import T0
from tests.integration.store_contract_support import STORE_KINDS, make_store, run
from touchstone.journey.ports import MomentFilter, MomentRow


@pytest.fixture(params=STORE_KINDS)
def journey_store(request: pytest.FixtureRequest) -> Any:
    return make_store(request, "journey")


def moment_row(n: int, verdict: str, **fields: Any) -> MomentRow:
    values = {
        "moment_id": f"m{n}",
        "source_event_id": f"e{n}",
        "customer_id": "c1",
        "visit_id": "v1",
        "site_id": "s1",
        "journey_map": "supermarket",
        "stage": "enter_store",
        "occurred_at": T0 + timedelta(minutes=n),
        "verdict": verdict,
        "payload": f"m{n}".encode(),
    }
    return MomentRow(**{**values, **fields})


def test_journey_knows_no_visit_and_no_verdicts_before_anything_is_saved(journey_store) -> None:
    async def scenario(store) -> None:
        assert await store.get_visit("v1") is None
        assert await store.verdict_counts() == {"win": 0, "lose": 0, "unscored": 0}
        await store.save_moments([])
        assert await store.list_moments(MomentFilter(), None, 10) == []

    run(journey_store, scenario)


def test_journey_rolls_up_only_the_new_moments_of_a_mixed_batch(journey_store) -> None:
    async def scenario(store) -> None:
        await store.save_moments([moment_row(0, "win")])
        await store.save_moments(
            [moment_row(0, "win"), moment_row(1, "lose"), moment_row(2, "lose")]
        )
        visit, moments = await store.get_visit("v1")
        assert (visit.customer_id, visit.site_id, visit.wins, visit.losses) == ("c1", "s1", 1, 2)
        assert [m.moment_id for m in moments] == ["m0", "m1", "m2"]
        assert await store.verdict_counts() == {"win": 1, "lose": 2, "unscored": 0}

    run(journey_store, scenario)


def test_journey_keeps_the_first_version_of_a_moment(journey_store) -> None:
    async def scenario(store) -> None:
        await store.save_moments([moment_row(0, "win")])
        await store.save_moments([moment_row(0, "lose", payload=b"rescored")])
        (kept,) = await store.list_moments(MomentFilter(), None, 10)
        assert (kept.verdict, kept.payload) == ("win", b"m0")
        assert (await store.get_visit("v1"))[0].losses == 0

    run(journey_store, scenario)


def test_journey_filters_moments_and_pages_ties_by_moment_id(journey_store) -> None:
    async def scenario(store) -> None:
        same_time = {"occurred_at": T0}
        await store.save_moments(
            [
                moment_row(3, "lose", **same_time),
                moment_row(1, "lose", **same_time),
                moment_row(2, "win", **same_time),
                moment_row(4, "lose", customer_id="c2", site_id="s2", visit_id="v2"),
            ]
        )
        first = await store.list_moments(MomentFilter(customer_id="c1"), None, 2)
        after = (first[-1].occurred_at, first[-1].moment_id)
        rest = await store.list_moments(MomentFilter(customer_id="c1"), after, 5)
        assert [m.moment_id for m in first + rest] == ["m1", "m2", "m3"]
        by_site = await store.list_moments(MomentFilter(site_id="s2", verdict="lose"), None, 5)
        assert [m.moment_id for m in by_site] == ["m4"]
        assert await store.list_moments(MomentFilter(visit_id="v2", verdict="win"), None, 5) == []

    run(journey_store, scenario)
