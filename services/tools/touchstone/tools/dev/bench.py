"""`make bench`: end-to-end throughput and latency on the embedded stack, as a ratio to the broker.

Phases:
1. throughput, three times, each on a fresh stack, the median reported: N simulated touchpoints
   published at once, timed until all four services have handled every record (every consumer
   group's lag 0 on every input topic, twice a second apart, with every touchpoint scored and
   every expected recovery case queryable over gRPC). The CPU time of every process (broker,
   Postgres and its backends, each service, the load generator) over the phase is read from
   /proc and reported as µs per touchpoint, beside the records produced and consumed and the
   Postgres rows written per touchpoint (traffic.py);
2. on the last throughput stack, with its N touchpoints of history: queries under load
   (query_load.py: front-ends calling GetCustomer, ListMoments, GetCustomerValue and ListCases
   while touchpoints are offered at the ingest rate), then replay (journey stopped and rebuilt
   from its whole input log, as `touchstone replay journey` does: events/s);
3. sustained (sustained.py): on a fresh stack, the highest rate all four keep up with when it
   is offered steadily;
4. raw hop (raw_hop.py: the machine's ceiling, and the CPU a record costs client and broker at
   best, so what the median burst's records would cost at the least) and latency
   (latency_phase.py: touchpoints at a steady rate; publish → MomentScored and → CaseOpened,
   and WatchMoments' delay);
5. idle and trickle, on the latency stack once it has settled: each process's share of one core
   with no traffic at all, and with TRICKLE_PER_S touchpoints a second (what a quiet shop costs).
The last line printed is one JSON object.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.bench_load import (
    Workload,
    all_lags,
    customer_of,
    lost_visits,
    send_all,
    simulated_touchpoints,
    wait_until_handled,
    workload,
)
from touchstone.tools.dev.cpu_use import CpuMeter, Part, core_shares, micros_per
from touchstone.tools.dev.latency_phase import latency_phase
from touchstone.tools.dev.query_load import QueryLoad, QueryPlan
from touchstone.tools.dev.raw_hop import raw_hop
from touchstone.tools.dev.simulator import Record, records
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.dev.sustained import RateStep, sustained_phase, sustained_rate
from touchstone.tools.dev.traffic import kafka_floor_us, read_traffic
from touchstone.tools.ops.client import Clients
from touchstone.tools.ops.progress_bar import ProgressBar
from touchstone.tools.ops.replay import ReplayOptions, replay
from touchstone.tools.ops.service_specs import service_spec

HANDLED_TIMEOUT_S = 1800


def stack_parts(stack: LocalStack) -> dict[str, Part]:
    """The processes a throughput phase accounts for: broker, Postgres (with its backends), each
    service, and the bench itself as the load generator (alone: it started the others)."""
    parts = {name: Part(proc.pid) for name, proc in stack.services.procs.items()}
    for name, server in (("broker", stack.infra.broker), ("postgres", stack.infra.postgres)):
        if server is not None and server.pid is not None:
            parts[name] = Part(server.pid)
    return {**parts, "load generator": Part(os.getpid(), with_children=False)}


@dataclass(frozen=True)
class Throughput:
    """One throughput phase: the rate all four services kept, and the CPU each part spent."""

    per_s: float
    cpu_us: dict[str, float]  # CPU µs per touchpoint, by part, and their total
    traffic: dict[str, float]  # records produced and consumed, row writes, per touchpoint
    after: dict[str, Any] = field(default_factory=dict)  # what ran on its stack afterwards


# What runs on a throughput stack once it has handled its load (its clients and lag reader)
After = Callable[[LocalStack, Clients], dict[str, Any]]


def throughput_phase(
    settings: Settings, load: Workload, events: int, run: int, after: After | None = None
) -> Throughput:
    """A fresh stack; the load published at once; timed until all four have handled it."""
    run_settings = replace(settings, state_dir=settings.state_dir / f"run-{run}")
    with LocalStack(run_settings) as stack:
        live = stack.settings
        lags = all_lags(live)
        try:
            with Clients(live) as clients:
                before = read_traffic(lags, live.database_url, settle=True)
                meter = CpuMeter(stack_parts(stack))
                started = time.perf_counter()
                send_all(live.kafka, load.records)
                bar = ProgressBar(f"run {run}", sys.stdout, "moments scored")
                done = wait_until_handled(
                    clients, lags, events, load.expected_cases, HANDLED_TIMEOUT_S, bar.show
                )
                spent = meter.spent()
                bar.finish()
                elapsed = done - started
                traffic = read_traffic(lags, live.database_url, settle=True).since(before)
                result = Throughput(
                    events / elapsed, micros_per(spent, events), traffic.per(events)
                )
                shown = ", ".join(f"{name} {us:,.0f}" for name, us in result.cpu_us.items())
                moved = ", ".join(f"{what} {n}" for what, n in result.traffic.items())
                print(
                    f"run {run}: {events:,} touchpoints through all four in {elapsed:.1f}s = "
                    f"{result.per_s:,.0f}/s; CPU µs per touchpoint: {shown}; "
                    f"per touchpoint: {moved}",
                    flush=True,
                )
                if after is not None:
                    result = replace(result, after=after(stack, clients))
        finally:
            lags.close()
    return result


@dataclass(frozen=True)
class QueriesUnderLoad:
    """Queries offered while touchpoints are: whom to look up, and what to ingest meanwhile."""

    plan: QueryPlan
    ingest: Workload  # offered at ingest_per_s for the plan's seconds
    ingest_per_s: float
    scored: int  # touchpoints the stack will have been given once the ingest is in
    cases: int  # recovery cases it will hold then


def queries_then_replay(queries: QueriesUnderLoad) -> After:
    """On a stack that has handled its load: queries under load, then journey's replay."""

    def run(stack: LocalStack, clients: Clients) -> dict[str, Any]:
        return {**queries_phase(stack, clients, queries), **replay_phase(stack)}

    return run


def queries_phase(stack: LocalStack, clients: Clients, queries: QueriesUnderLoad) -> dict[str, Any]:
    """Each query method's p50 and p99 while the ingest is offered; then everything handled."""
    load = QueryLoad(stack.settings, queries.plan)
    load.start()
    send_all(stack.settings.kafka, queries.ingest.records, queries.ingest_per_s)
    figures = load.figures()
    plan = queries.plan
    shown = ", ".join(f"{m} p50 {f.p50_ms:.0f} / p99 {f.p99_ms:.0f} ms" for m, f in figures.items())
    print(
        f"queries at {plan.calls_per_s:,.0f}/s while ingesting {queries.ingest_per_s:,.0f}/s "
        f"for {plan.seconds:.0f}s: {shown}",
        flush=True,
    )
    lags = all_lags(stack.settings)
    try:
        wait_until_handled(clients, lags, queries.scored, queries.cases, HANDLED_TIMEOUT_S)
    finally:
        lags.close()
    return {
        "queries_under_load": {method: f.as_json() for method, f in figures.items()},
        "query_calls_per_s": plan.calls_per_s,
        "query_ingest_per_s": queries.ingest_per_s,
    }


def replay_phase(stack: LocalStack) -> dict[str, Any]:
    """journey stopped and its state rebuilt from its whole input log: events a second."""
    stack.services.stop(("journey",))
    report = replay(service_spec("journey"), stack.settings, ReplayOptions())
    same = "identical" if report.identical else "DIFFERENT"
    print(
        f"replay journey: {report.events:,} events in {report.seconds:.1f}s = "
        f"{report.rate:,.0f}/s (rebuilt state {same})",
        flush=True,
    )
    return {
        "replay_events_per_s": round(report.rate, 1),
        "replay_events": report.events,
        "replay_identical": report.identical,
    }


SETTLE_S = 10.0  # after the latency phase: relays, senders and sweepers finish what it left
IDLE_S = 20.0
TRICKLE_PER_S = 50.0


def quiet_phases(stack: LocalStack, trickle: list[Record]) -> dict[str, dict[str, float]]:
    """Each process's share of one core with no traffic, then with the trickle offered at
    TRICKLE_PER_S (the load generator's own share left out of both: it is not the stack)."""
    parts = {name: part for name, part in stack_parts(stack).items() if name != "load generator"}
    time.sleep(SETTLE_S)
    meter, started = CpuMeter(parts), time.perf_counter()
    time.sleep(IDLE_S)
    idle = core_shares(meter.spent(), time.perf_counter() - started)
    meter, started = CpuMeter(parts), time.perf_counter()
    send_all(stack.settings.kafka, trickle, TRICKLE_PER_S)
    trickling = core_shares(meter.spent(), time.perf_counter() - started)
    shown = ", ".join(f"{name} {share:.0%}" for name, share in idle.items())
    print(f"idle, share of a core: {shown}", flush=True)
    shown = ", ".join(f"{name} {share:.0%}" for name, share in trickling.items())
    print(f"at {TRICKLE_PER_S:.0f}/s, share of a core: {shown}", flush=True)
    return {"idle_core_share": idle, "trickle_core_share": trickling}


RUNS = 3


@dataclass(frozen=True)
class BenchPlan:
    """What `make bench` offers."""

    events: int = 100_000  # each throughput run's burst
    latency_per_s: float = 500.0  # offered in the latency phase (below capacity)
    query_calls_per_s: float = 1_000.0  # the four query methods together
    query_ingest_per_s: float = 2_500.0  # touchpoints offered meanwhile
    query_s: float = 20.0
    sustained_step_s: float = 180.0  # each sustained step (0: no sustained phase)
    seed: int = 7


def run_bench(settings: Settings, plan: BenchPlan) -> dict[str, Any]:
    """Every phase (see the module), each on a fresh embedded stack; print progress and the JSON
    line."""
    settings = replace(settings, state_dir=settings.state_dir / "bench", log_level="warning")
    events = plan.events
    latency_events = max(1000, min(events // 4, int(plan.latency_per_s * 10)))
    trickle_events = int(TRICKLE_PER_S * IDLE_S)
    ingest_events = int(plan.query_ingest_per_s * plan.query_s)
    print(f"generating {events + latency_events + ingest_events:,} touchpoints ...", flush=True)
    touchpoints = simulated_touchpoints(
        plan.seed, events + ingest_events + latency_events + trickle_events
    )
    throughput_load = workload(touchpoints[:events])
    with_ingest = events + ingest_events
    queries = QueriesUnderLoad(
        plan=QueryPlan(
            [customer_of(tp) for tp in touchpoints[:events]],
            plan.query_calls_per_s,
            plan.query_s,
        ),
        ingest=workload(touchpoints[events:with_ingest]),
        ingest_per_s=plan.query_ingest_per_s,
        scored=with_ingest,
        cases=len(lost_visits(touchpoints[:with_ingest])),
    )
    latency_load = workload(touchpoints[with_ingest : with_ingest + latency_events])
    trickle = list(records([touchpoints[with_ingest + latency_events :]]))
    runs = [
        throughput_phase(
            settings,
            throughput_load,
            events,
            n,
            queries_then_replay(queries) if n == RUNS else None,
        )
        for n in range(1, RUNS + 1)
    ]
    median = sorted(runs, key=lambda r: r.per_s)[len(runs) // 2]
    print(
        f"end to end (median of {RUNS}): {median.per_s:,.0f}/s "
        f"(runs: {', '.join(f'{r.per_s:,.0f}' for r in runs)})",
        flush=True,
    )
    steps: list[RateStep] = []
    if plan.sustained_step_s > 0:
        steps = sustained_phase(settings, median.per_s, plan.sustained_step_s)
    with LocalStack(replace(settings, state_dir=settings.state_dir / "latency")) as stack:
        live = stack.settings
        broker = stack.infra.broker
        hop = raw_hop(
            live.kafka,
            min(events, 50_000),
            live.topic_partitions,
            Part(broker.pid) if broker and broker.pid else None,
        )
        floor = kafka_floor_us(median.traffic, hop.record_us)
        print(
            f"raw hop: {hop.per_s:,.0f} msg/s, CPU µs a message: client {hop.client_us:.1f}, "
            f"broker {hop.broker_us:.1f}; the median run's records at that cost: {floor:,.0f} "
            "µs a touchpoint",
            flush=True,
        )
        latency = latency_phase(live, latency_load.records, plan.latency_per_s)
        quiet = quiet_phases(stack, trickle)
    result = {
        "touchpoints_per_s": round(median.per_s, 1),
        "runs_per_s": [round(r.per_s, 1) for r in runs],
        "sustained_per_s": round(sustained_rate(steps), 1),
        "sustained_steps": [
            {
                "offered_per_s": round(s.offered_per_s, 1),
                "seconds": s.seconds,
                "drain_s": round(s.drain_s, 1),
                "kept_up": s.kept_up,
            }
            for s in steps
        ],
        "raw_hop_per_s": round(hop.per_s, 1),
        "raw_hop_cpu_us": {"client": round(hop.client_us, 1), "broker": round(hop.broker_us, 1)},
        "ratio": round(median.per_s / hop.per_s, 4),
        "cpu_us_per_touchpoint": median.cpu_us,
        "per_touchpoint": median.traffic,
        "kafka_floor_us": floor,
        **latency,
        **runs[-1].after,
        **quiet,
        "events": events,
        "expected_cases": throughput_load.expected_cases,
    }
    print(json.dumps(result), flush=True)
    return result
