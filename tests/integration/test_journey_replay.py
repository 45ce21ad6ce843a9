"""Dropping journey's state and replaying its input gives row-for-row the same state.

A simulated day of recorded touchpoints (supermarket and phone, messages and callbacks) goes
onto the real broker's four partitions; journey's handler takes it from offset 0, partition after
partition, into a fresh Postgres database, then again into another with the partitions
interleaved and in batches of another size. Moments, visits with their verdicts,
deadlines, the event clock, the journey map's figures and the records written for publication
are identical.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.replay import DAY, recorded_day_on_broker, tables_after
from touchstone.platform.messaging.topics import Incoming
from touchstone.platform.runtime.settings import Settings

pytestmark = pytest.mark.integration
LANES = 4  # journey's input partitions
TABLES = {
    "moments": "SELECT * FROM journey.moments ORDER BY moment_id",
    "visits": "SELECT * FROM journey.visits ORDER BY visit_id",
    "deadlines": "SELECT * FROM journey.deadlines ORDER BY deadline_id",
    "clocks": "SELECT lane, watermark FROM journey.lane_clocks ORDER BY lane",
    "sources": "SELECT * FROM journey.source_clocks ORDER BY lane, source",
    "stage_days": "SELECT * FROM journey.stage_days ORDER BY site_id, journey_map, stage, day",
    "stage_day_breaks": "SELECT * FROM journey.stage_day_breaks ORDER BY 1, 2, 3, 4, 5",
    "published": "SELECT topic, key, value FROM journey.outbox ORDER BY topic, key, value",
}


def journey_state(infra: Settings, log: list[Incoming], batch: int) -> dict[str, list[Any]]:
    """Every journey table after the handler took the log in batches of this size."""
    return tables_after(infra, "journey", log, TABLES, batch)


def test_replaying_journeys_input_rebuilds_every_row_the_same(infra: Settings) -> None:
    log = recorded_day_on_broker(infra.kafka_bootstrap, 600, LANES)  # partition by partition
    assert len(log) > 3000
    # the same records, the lanes interleaved as the broker stamped them: one lane's time races
    # hours ahead of another's in the first order, not in this one
    interleaved = sorted(log, key=lambda r: (r.timestamp_ms, r.partition, r.offset))
    assert interleaved != log

    first = journey_state(infra, log, 500)
    again = journey_state(infra, interleaved, 73)
    assert {name: len(rows) for name, rows in first.items()} == {
        name: len(rows) for name, rows in again.items()
    }
    for name in TABLES:
        assert first[name] == again[name], f"journey.{name} differs after the replay"
    completed = [row for row in first["visits"] if row[9] is not None]  # completed_at
    assert len(completed) > 100 and first["deadlines"], (
        "the day completes visits and opens deadlines"
    )
    assert any(row[-2] for row in first["deadlines"]), "and misses some"  # missed
    assert [lane for lane, _ in first["clocks"]] == list(range(LANES))
    assert all(clock > DAY + timedelta(hours=6) for _, clock in first["clocks"])
