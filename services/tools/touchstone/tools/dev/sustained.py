"""Sustained rate: the highest rate at which all four services keep up, offered steadily.

A burst measures how fast a backlog drains, in big batches; a shop's day is a steady offer, in
small ones. Each step offers touchpoints at one rate for a while (three minutes by default) on
one stack, history piling up as it does in production, then times how long after the last was
published all four services have handled everything. A step is kept up with when that drain
takes at most LATENCY_ALLOWANCE_S plus SHORTFALL of the step: a stack short of the rate by a
share s ends the step about s x step seconds behind, and drains no faster than it kept up. The
first step offers START_SHARE of the burst figure; then the search brackets: up by STEP_UP while
every step was kept up with, down by STEP_DOWN while none was, else halfway between the highest
rate kept up with and the lowest that was not. The figure is the highest rate kept up with.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.bench_load import (
    TouchpointSource,
    all_lags,
    lost_visits,
    send_all,
    wait_until_handled,
)
from touchstone.tools.dev.simulator import records
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients

LATENCY_ALLOWANCE_S = 3.0  # assumption: the last touchpoint's own way through all four (a case
# opens after its visit's moments are scored and valued) and the lag readings' confirmation
SHORTFALL = 0.03  # assumption: a stack 3% short of the rate still counts as keeping up (what
# a steady offer on a noisy 2-core machine can tell)
START_SHARE = 0.9  # of the burst rate: a steady offer costs a little more than a backlog
STEP_UP = 1.1
STEP_DOWN = 0.7
STEPS = 3
SIMULATION_SEED = 23  # not the burst's: the sustained stack sees its own customers' visits


@dataclass(frozen=True)
class RateStep:
    """One rate offered steadily for some seconds, and how long all four took to finish after
    it stopped."""

    offered_per_s: float
    seconds: float
    drain_s: float

    @property
    def kept_up(self) -> bool:
        return self.drain_s <= LATENCY_ALLOWANCE_S + SHORTFALL * self.seconds


def next_rate(steps: Sequence[RateStep]) -> float:
    """The rate the next step offers, after these (at least one)."""
    kept = [s.offered_per_s for s in steps if s.kept_up]
    missed = [s.offered_per_s for s in steps if not s.kept_up]
    if not missed:
        return max(kept) * STEP_UP
    if not kept:
        return min(missed) * STEP_DOWN
    return (max(kept) + min(missed)) / 2


def sustained_rate(steps: Sequence[RateStep]) -> float:
    """The highest rate kept up with; 0 if none was."""
    return max((s.offered_per_s for s in steps if s.kept_up), default=0.0)


def sustained_phase(settings: Settings, burst_per_s: float, step_s: float) -> list[RateStep]:
    """STEPS steps on one fresh stack, the first at START_SHARE of the burst rate."""
    source = TouchpointSource(SIMULATION_SEED)
    steps: list[RateStep] = []
    with LocalStack(replace(settings, state_dir=settings.state_dir / "sustained")) as stack:
        live = stack.settings
        lags = all_lags(live)
        lost: set[tuple[str, str]] = set()
        published = 0
        rate = burst_per_s * START_SHARE
        try:
            with Clients(live) as clients:
                for _ in range(STEPS):
                    touchpoints = source.take(int(rate * step_s))
                    lost |= lost_visits(touchpoints)
                    batch = list(records([touchpoints]))
                    send_all(live.kafka, batch, rate)
                    finished = time.perf_counter()
                    published += len(touchpoints)
                    done = wait_until_handled(clients, lags, published, len(lost), 3 * step_s)
                    steps.append(RateStep(rate, step_s, max(done - finished, 0.0)))
                    shown = "kept up" if steps[-1].kept_up else "fell behind"
                    print(
                        f"sustained {rate:,.0f}/s for {step_s:.0f}s: all four done "
                        f"{steps[-1].drain_s:.1f}s after the last touchpoint ({shown})",
                        flush=True,
                    )
                    rate = next_rate(steps)
        finally:
            lags.close()
    return steps
