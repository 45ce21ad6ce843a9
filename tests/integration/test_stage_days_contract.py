"""The journey map's figures, on the in-memory fake and on Postgres alike: each stored moment is
added once to its stage on its site's local day; a redelivered batch adds nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.builders import record, recorded, touchpoint
from tests.integration.store_contract_support import STORE_KINDS, make_store, run
from touchstone.journey.handlers import ScoreMoments
from touchstone.journey.stage_days import StageFigures
from touchstone.journey.standards import default_standards

MONDAY = date(2026, 11, 16)
NINE_AM = datetime(2026, 11, 16, 2, tzinfo=UTC)  # in Ho Chi Minh City


@pytest.fixture(params=STORE_KINDS)
def journey_store(request: pytest.FixtureRequest) -> Any:
    return make_store(request, "journey")


def greeting(n: int, seconds: float, at: datetime, site: str = "hcm-01") -> Any:
    tp = touchpoint(
        "enter_store",
        at,
        measurements={"greeting_seconds": seconds},
        event_id=f"greet-{n}",
        site_id=site,
    )
    return record(recorded(tp, f"customer-{n}", f"visit-{n}"), n, "contacts.recorded.v1")


def test_stage_figures_sum_new_moments_once_by_site_and_local_day(journey_store) -> None:
    batch = [
        greeting(1, 5, NINE_AM),  # won, and beaten by the surprise margin
        greeting(2, 45, NINE_AM + timedelta(minutes=1)),  # lost
        greeting(3, 50, NINE_AM + timedelta(hours=16)),  # lost, Tuesday 01:00 local
        greeting(4, 50, NINE_AM, site="hn-02"),
    ]

    async def scenario(store: Any) -> None:
        handler = ScoreMoments(store, default_standards())
        await handler.handle(batch)
        await handler.handle(batch[:2])  # redelivered: adds nothing
        monday = await store.stage_figures("supermarket", "hcm-01", MONDAY, MONDAY)
        assert set(monday) == {"enter_store"}
        greeted = monday["enter_store"]
        assert (greeted.moments, greeted.wins, greeted.losses, greeted.unscored) == (2, 1, 1, 0)
        assert (greeted.procedural_weight, greeted.procedural_met) == (2.0, 1.0)
        assert dict(greeted.broken) == {"supermarket.enter_store.greeted_within_30s": 1}
        assert dict(greeted.labels) == {
            ("area", "timeliness"): (2.0, 1.0),
            ("dimension", "responsiveness"): (2.0, 1.0),
        }
        tuesday = MONDAY + timedelta(days=1)
        both = await store.stage_figures("supermarket", "", MONDAY, tuesday)
        assert (both["enter_store"].moments, both["enter_store"].losses) == (4, 3)
        assert await store.stage_figures("phone", "", MONDAY, tuesday) == {}
        assert await store.stage_figures("supermarket", "hcm-01", tuesday, tuesday) == {
            "enter_store": StageFigures(
                moments=1,
                losses=1,
                procedural_weight=1.0,
                broken={"supermarket.enter_store.greeted_within_30s": 1},
                labels={
                    ("area", "timeliness"): (1.0, 0.0),
                    ("dimension", "responsiveness"): (1.0, 0.0),
                },
            )
        }

    run(journey_store, scenario)


def test_fractional_weights_sum_to_the_same_figures_however_batched(journey_store) -> None:
    weights = {"supermarket.enter_store.greeted_within_30s": 0.1}
    standards = [
        replace(s, weight=weights.get(s.standard_id, s.weight)) for s in default_standards()
    ]
    moments = [greeting(n, 5, NINE_AM + timedelta(minutes=n)) for n in range(1, 8)]

    async def scenario(store: Any) -> None:
        handler = ScoreMoments(store, standards)
        for batch in (moments[:1], moments[1:3], moments[3:]):
            await handler.handle(batch)
        figures = (await store.stage_figures("supermarket", "", MONDAY, MONDAY))["enter_store"]
        assert (figures.procedural_weight, figures.procedural_met) == (0.7, 0.7)

    run(journey_store, scenario)
