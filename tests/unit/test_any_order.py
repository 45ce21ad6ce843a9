"""Results never depend on timing: the same touchpoints, with contacts, journey, loyalty and
notify taking their input partitions interleaved in any order and in any batches, give the same
moments (deadlines missed included), the same cases and the same values (a lagging partition
on its own: test_lagging_partition.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.pipeline import Pipeline, fed, simulated_touchpoints

START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
TOUCHPOINTS = simulated_touchpoints(11, START, visits=150, bad_share=0.01)


def outcome(pipeline: Pipeline) -> dict[str, object]:
    """What the pipeline decided, as its stores keep it."""
    journey, notify, loyalty = (pipeline.stores[n] for n in ("journey", "notify", "loyalty"))
    return {
        "moments": {m.moment_id: m.verdict for m in journey.moments.values()},
        "missed": sorted(journey.missed),
        "visits": {  # completed when, and as what: the event, byte for byte
            v: (c.completed_at, c.level, c.quadrant, c.completion)
            for v, c in journey.completed.items()
        },
        "cases": {c.case_id: (c.status, c.opening_moment_id) for c in notify.cases.values()},
        "joined": {moment: case for moment, (case, _, _) in notify.joined.items()},
        "values": {
            c: (v.lifetime_value_minor, float(v.churn_risk)) for c, v in loyalty.values.items()
        },
    }


def decided(seed: int, smallest: int, largest: int) -> dict[str, object]:
    pipeline = fed(Pipeline(), TOUCHPOINTS)
    pipeline.run(random.Random(seed), most=(smallest, largest))
    return outcome(pipeline)


IN_ORDER = decided(0, 500, 500)  # big batches: each service takes everything nearly at once


def test_the_workload_scores_opens_cases_and_values_customers_to_compare() -> None:
    assert IN_ORDER["moments"] and IN_ORDER["cases"] and IN_ORDER["values"]
    assert IN_ORDER["visits"]


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from([(1, 40), (20, 200)]))
def test_any_interleaving_and_batching_decides_the_same(seed: int, sizes: tuple[int, int]) -> None:
    assert decided(seed, *sizes) == IN_ORDER
