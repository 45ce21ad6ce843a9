"""Dropping loyalty's state and replaying its input gives row-for-row the same values.

A simulated day of recorded contacts goes onto the real broker; journey scores it into Postgres,
and its moments (lost ones included) join loyalty's input. Loyalty takes that input into a fresh
database in log order in batches of 500, then into another shuffled (moments before the
purchases they follow, late purchases after the moments they precede) in batches of 73: its
purchases, lost moments, customer values and values at risk are identical.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.replay import recorded_day_on_broker, tables_after
from touchstone.common.settings import Settings
from touchstone.common.topics import JOURNEY_MOMENTS, Incoming

pytestmark = pytest.mark.integration
TABLES = {
    "purchases": "SELECT * FROM loyalty.purchases ORDER BY event_id",
    "lost_moments": "SELECT * FROM loyalty.lost_moments ORDER BY moment_id",
    "customer_values": "SELECT * FROM loyalty.customer_values ORDER BY customer_id",
    "moments_at_risk": "SELECT * FROM loyalty.moments_at_risk ORDER BY moment_id",
}


def scored_moments(infra: Settings, recorded: list[Incoming]) -> list[Incoming]:
    """Every moment journey stores for the recorded contacts, as loyalty would consume them."""
    query = "SELECT customer_id, payload FROM journey.moments ORDER BY occurred_at, moment_id"
    rows = tables_after(infra, "journey", recorded, {"moments": query})["moments"]
    return [
        Incoming(JOURNEY_MOMENTS, 0, n, customer.encode(), bytes(payload), {}, 0)
        for n, (customer, payload) in enumerate(rows)
    ]


def loyalty_state(infra: Settings, log: list[Incoming], batch: int) -> dict[str, list[Any]]:
    return tables_after(infra, "loyalty", log, TABLES, batch)


def test_replaying_loyaltys_input_in_any_order_rebuilds_every_row_the_same(infra) -> None:
    recorded = recorded_day_on_broker(infra.kafka_bootstrap, 300, 2)
    log = recorded + scored_moments(infra, recorded)
    shuffled = random.Random(11).sample(log, len(log))

    first = loyalty_state(infra, log, 500)
    again = loyalty_state(infra, shuffled, 73)
    for name in TABLES:
        assert first[name] == again[name], f"loyalty.{name} differs after the replay"
    assert len(first["purchases"]) > 100 and len(first["lost_moments"]) > 50
    assert len(first["moments_at_risk"]) == len(first["lost_moments"])
    assert any(row[-2] > 0 for row in first["moments_at_risk"]), "some value is put at risk"
