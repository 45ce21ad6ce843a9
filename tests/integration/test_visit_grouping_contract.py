"""Grouping contacts with no visit id by the map's gap, on Postgres as in memory."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.store_contract_support import STORE_KINDS, make_store, run
from tests.unit.test_visit_grouping import DAY, visits_published
from touchstone.journey.handlers import ScoreMoments
from touchstone.journey.standards import default_standards


@pytest.fixture(params=STORE_KINDS)
def journey_store(request: pytest.FixtureRequest) -> Any:
    return make_store(request, "journey")


def test_contacts_are_grouped_the_same_one_by_one_on_every_store(journey_store) -> None:
    async def scenario(store: Any) -> None:
        handler = ScoreMoments(store, default_standards())
        out = [o for contact in DAY for o in await handler.handle([contact])]
        visits = visits_published(out)
        assert visits["c1"] == visits["c2"] == visits["c3"]
        assert len({visits["c1"], visits["c4"], visits["c5"], visits["c6"]}) == 4
        visit, moments = await store.get_visit(visits["c1"])
        assert (visit.site_id, len(moments)) == ("hcm-01", 3)

    run(journey_store, scenario)
