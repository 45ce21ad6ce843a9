"""The rules of `make bench`'s sustained and queries-under-load phases: given steps or calls →
then the rate reported, the next rate offered, the schedule and the figures by method."""

from __future__ import annotations

import pytest

from touchstone.tools.dev.bench_load import TouchpointSource, simulated_touchpoints
from touchstone.tools.dev.query_load import METHODS, QueryPlan, method_figures, schedule
from touchstone.tools.dev.sustained import (
    LATENCY_ALLOWANCE_S,
    SHORTFALL,
    STEP_DOWN,
    STEP_UP,
    RateStep,
    next_rate,
    sustained_rate,
)


def test_a_step_is_kept_up_with_when_all_is_handled_within_latency_and_a_small_shortfall() -> None:
    bound = LATENCY_ALLOWANCE_S + SHORTFALL * 180
    assert RateStep(1_000.0, 180, bound).kept_up
    assert not RateStep(1_000.0, 180, bound + 0.1).kept_up
    assert not RateStep(1_000.0, 15, bound).kept_up  # a short step tells less shortfall


def test_the_search_goes_up_while_kept_up_down_while_not_then_brackets() -> None:
    kept, missed = RateStep(1_000.0, 180, 1.0), RateStep(1_000.0, 180, 60.0)
    assert next_rate([kept]) == pytest.approx(1_000.0 * STEP_UP)
    assert next_rate([missed]) == pytest.approx(1_000.0 * STEP_DOWN)
    assert next_rate([missed, RateStep(700.0, 180, 1.0)]) == pytest.approx(850.0)
    assert next_rate([kept, RateStep(1_100.0, 180, 60.0)]) == pytest.approx(1_050.0)


def test_the_sustained_rate_is_the_highest_kept_up_with_and_zero_when_none_was() -> None:
    steps = [RateStep(1_000.0, 180, 2.0), RateStep(1_100.0, 180, 40.0), RateStep(1_050.0, 180, 1.0)]
    assert sustained_rate(steps) == 1_050.0
    assert sustained_rate([RateStep(1_000.0, 180, 40.0)]) == 0.0
    assert sustained_rate([]) == 0.0


def test_calls_take_the_methods_in_turn_each_due_at_its_place_in_the_rate() -> None:
    calls = schedule(QueryPlan(["a", "b", "c"], calls_per_s=100.0, seconds=2.0))
    assert len(calls) == 200
    assert [due for due, _, _ in calls[:3]] == pytest.approx([0.0, 0.01, 0.02])
    assert [method for _, method, _ in calls[:8]] == [*METHODS, *METHODS]
    assert {customer for _, _, customer in calls} <= {"a", "b", "c"}
    assert schedule(QueryPlan(["a", "b", "c"], 100.0, 2.0)) == calls  # seeded: the same calls


def test_figures_count_failures_and_their_time_and_every_method_has_its_row() -> None:
    timed = {"GetCustomer": [1.0, 2.0, 3.0, 100.0], "ListCases": [5_000.0, 5_000.0]}
    figures = method_figures(timed, {"ListCases": 2})
    assert figures["GetCustomer"].calls == 4 and figures["GetCustomer"].failed == 0
    assert figures["GetCustomer"].p50_ms == 2.5
    assert figures["ListCases"].calls == 2 and figures["ListCases"].failed == 2
    assert figures["ListCases"].p99_ms == 5_000.0  # calls out of time are slow, not missing
    assert figures["ListMoments"].calls == 0 and figures["ListMoments"].p99_ms == 0.0


def test_touchpoints_taken_in_turn_continue_the_same_simulation() -> None:
    source = TouchpointSource(7)
    taken = source.take(30) + source.take(20)
    assert taken == simulated_touchpoints(7, 50)
