"""`make bench`: end-to-end throughput and latency on the embedded stack, as a ratio to the broker.

Phases:
1. raw hop: a plain aiokafka consume → produce loop on the same broker (the machine's ceiling);
2. throughput, three times, each on a fresh stack, the median reported: N simulated touchpoints
   published at once, timed until all four services have handled every record (every consumer
   group's lag 0 on every input topic, twice a second apart, with every touchpoint scored and
   every expected recovery case queryable over gRPC). The CPU time of every process (broker,
   Postgres and its backends, each service, the load generator) over the phase is read from
   /proc and reported as µs per touchpoint;
3. latency: touchpoints offered at a steady rate; publish → MomentScored and → CaseOpened,
   measured from the records' own timestamps (no consumer delay in the figure);
4. idle and trickle, on the same stack once it has settled: each process's share of one core
   with no traffic at all, and with TRICKLE_PER_S touchpoints a second (what a quiet shop costs).
The last line printed is one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import statistics
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import grpc
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from touchstone.client import Clients
from touchstone.common.ids import derived_id
from touchstone.common.kafka_admin import ensure_topics
from touchstone.common.kafka_connection import KafkaConnection
from touchstone.common.settings import SERVICES, Settings
from touchstone.common.topics import JOURNEY_MOMENTS, NOTIFY_CASES, TOUCHPOINTS
from touchstone.contacts.v1.touchpoint_pb2 import Touchpoint
from touchstone.cpu_use import CpuMeter, Part, core_shares, micros_per
from touchstone.journey.v1.journey_service_pb2 import GetScoreStatsRequest, WatchMomentsRequest
from touchstone.lag import LagReader
from touchstone.notify.v1.events_pb2 import CaseEvent
from touchstone.notify.v1.notify_service_pb2 import ListCasesRequest
from touchstone.simulator import Record, generate_visits, records
from touchstone.stack import LocalStack, service_spec

RAW_IN, RAW_OUT = "bench.raw.in.v1", "bench.raw.out.v1"
VALUE_200_BYTES = b"x" * 200


@dataclass(frozen=True)
class Workload:
    """Touchpoints to publish and what the system must show once it has handled them."""

    records: list[Record]
    expected_cases: int


def simulated_touchpoints(seed: int, count: int) -> list[Touchpoint]:
    """The first count touchpoints of the simulator's seeded visits."""
    touchpoints: list[Touchpoint] = []
    for visit in generate_visits(seed, datetime(2026, 1, 5, 8, tzinfo=UTC)):
        touchpoints.extend(visit)
        if len(touchpoints) >= count:
            break
    return touchpoints[:count]


def workload(touchpoints: list[Touchpoint]) -> Workload:
    """The touchpoints as records; expected cases computed with the services' own pure rules."""
    from contacts.codec import facts_of
    from contacts.domain import resolve_customer_id, resolve_visit_id
    from contacts.identity_keys import DEVELOPMENT_KEYS  # the embedded stack's
    from journey.codec import moment_of
    from journey.domain import Verdict, score
    from journey.standards import default_standards

    lost_visits = set()
    for tp in touchpoints:
        if score(moment_of(tp), default_standards()).verdict is Verdict.LOSE:
            facts = facts_of(tp)
            customer = resolve_customer_id(facts, None, DEVELOPMENT_KEYS)
            lost_visits.add((customer, resolve_visit_id(facts, customer)))
    return Workload(list(records([touchpoints])), len(lost_visits))


def send_all(
    kafka: KafkaConnection, batch: list[Record], rate: float | None = None
) -> dict[str, float]:
    """Publish the records (paced if rate is set); each event id's send time in seconds."""
    return asyncio.run(_send_all(kafka, batch, rate))


async def _send_all(
    kafka: KafkaConnection, batch: list[Record], rate: float | None
) -> dict[str, float]:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(**kafka.client_config(linger_ms=5, max_batch_size=65536))
    await producer.start()
    sent_at: dict[str, float] = {}
    interval, next_at = (1.0 / rate if rate else 0.0), time.monotonic()
    pending = []
    for record in batch:
        if interval:
            next_at += interval
            if (delay := next_at - time.monotonic()) > 0:
                await asyncio.sleep(delay)
        stamp = time.time()
        sent_at[dict(record.headers)["ce_id"].decode()] = stamp
        pending.append(
            await producer.send(
                TOUCHPOINTS,
                record.value,
                key=record.key,
                headers=list(record.headers),
                timestamp_ms=int(stamp * 1000),
            )
        )
    await asyncio.gather(*pending)
    await producer.stop()
    return sent_at


CONFIRM_S = 1.0  # all four caught up at two readings this far apart: nothing was in flight


def wait_until_handled(
    clients: Clients, lags: LagReader, scored: int, cases: int, timeout: float
) -> float:
    """Block until journey has scored `scored` moments, notify holds `cases` cases and every
    service's consumer group has committed every record of its inputs, at two readings
    CONFIRM_S apart (a relay may still be publishing at the first); when that first held."""
    deadline = time.monotonic() + timeout
    caught_up_at: float | None = None
    while time.monotonic() < deadline:
        if caught_up_at is None and not _scored_and_cased(clients, scored, cases):
            time.sleep(0.05)
            continue
        now = time.perf_counter()
        if all(lag == 0 for lag in lags.read().values()):
            if caught_up_at is not None and now - caught_up_at >= CONFIRM_S:
                return caught_up_at
            caught_up_at = caught_up_at or now
            time.sleep(0.2)
        else:
            caught_up_at = None
            time.sleep(0.05)
    raise TimeoutError(f"not all of {scored} touchpoints handled within {timeout}s")


def _scored_and_cased(clients: Clients, scored: int, cases: int) -> bool:
    stats = clients.journey.GetScoreStats(GetScoreStatsRequest(), timeout=5)
    if stats.wins + stats.losses + stats.unscored < scored:
        return False
    return clients.notify.ListCases(ListCasesRequest(page_size=1), timeout=5).total >= cases


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


def throughput_phase(settings: Settings, load: Workload, events: int, run: int) -> Throughput:
    """A fresh stack; the load published at once; timed until all four have handled it."""
    run_settings = replace(settings, state_dir=settings.state_dir / f"run-{run}")
    with LocalStack(run_settings) as stack:
        live = stack.settings
        inputs = {name: service_spec(name).consumed_topics for name in SERVICES}
        lags = LagReader(live.kafka, inputs, live.consumer)
        try:
            with Clients(live) as clients:
                meter = CpuMeter(stack_parts(stack))
                started = time.perf_counter()
                send_all(live.kafka, load.records)
                done = wait_until_handled(clients, lags, events, load.expected_cases, 1800)
                spent = meter.spent()
        finally:
            lags.close()
    elapsed = done - started
    result = Throughput(events / elapsed, micros_per(spent, events))
    shown = ", ".join(f"{name} {us:,.0f}" for name, us in result.cpu_us.items())
    print(
        f"run {run}: {events:,} touchpoints through all four in {elapsed:.1f}s = "
        f"{result.per_s:,.0f}/s; CPU µs per touchpoint: {shown}",
        flush=True,
    )
    return result


def raw_hop_rate(kafka: KafkaConnection, count: int, partitions: int) -> float:
    """Messages/s through a plain aiokafka consume → produce loop on the same broker."""
    ensure_topics(kafka, (RAW_IN, RAW_OUT), partitions)
    producer = KafkaProducer(**kafka.client_config(linger_ms=5, batch_size=65536))
    for n in range(count):
        producer.send(RAW_IN, VALUE_200_BYTES, str(n % 1000).encode())
    producer.flush()
    producer.close()
    return asyncio.run(_hop(kafka, count, partitions))


async def _hop(kafka: KafkaConnection, count: int, partitions: int) -> float:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.structs import TopicPartition as AioTopicPartition

    consumer = AIOKafkaConsumer(**kafka.client_config(enable_auto_commit=False))
    producer = AIOKafkaProducer(**kafka.client_config(linger_ms=5))
    await consumer.start()
    await producer.start()
    consumer.assign([AioTopicPartition(RAW_IN, p) for p in range(partitions)])
    await consumer.seek_to_beginning()
    moved, started = 0, time.perf_counter()
    while moved < count:
        batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
        for messages in batches.values():
            for m in messages:
                await producer.send(RAW_OUT, m.value, key=m.key)
            moved += len(messages)
    await producer.flush()
    elapsed = time.perf_counter() - started
    await consumer.stop()
    await producer.stop()
    return count / elapsed


class OutputWatcher(threading.Thread):
    """Collects the broker timestamps of MomentScored and CaseOpened records as they appear."""

    def __init__(self, kafka: KafkaConnection, partitions: int) -> None:
        super().__init__(daemon=True)
        self.consumer = KafkaConsumer(**kafka.client_config(consumer_timeout_ms=200))
        tps = [
            TopicPartition(t, p) for t in (JOURNEY_MOMENTS, NOTIFY_CASES) for p in range(partitions)
        ]
        self.consumer.assign(tps)
        self.consumer.seek_to_end(*tps)
        for tp in tps:
            self.consumer.position(tp)  # resolve the end now, before anything is published
        self.scored_at: dict[str, float] = {}  # moment id -> ms
        self.case_opened_at: dict[str, float] = {}  # moment id -> ms
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for message in self.consumer:
                headers = dict(message.headers)
                if message.topic == JOURNEY_MOMENTS:
                    self.scored_at.setdefault(headers["ce_id"].decode(), message.timestamp)
                else:
                    event = CaseEvent.FromString(message.value)
                    if event.HasField("opened"):
                        self.case_opened_at.setdefault(event.opened.moment_id, message.timestamp)
        self.consumer.close()


def watch_moments(settings: Settings, ready: Any, stop: Any, out: Any) -> None:
    """A WatchMoments client in a process of its own (so the bench's load does not delay it):
    how long after journey published each moment it arrived (ms), sent to out when stopped."""
    clients = Clients(settings)
    stream = clients.journey.WatchMoments(WatchMomentsRequest())
    next(stream)  # the watch is live: what is published from now on arrives
    ready.set()
    threading.Thread(target=lambda: (stop.wait(), stream.cancel()), daemon=True).start()
    delays_ms: dict[str, float] = {}
    missed = 0
    try:
        for response in stream:
            arrived = time.time() * 1000
            published = response.published_at.ToMilliseconds()
            delays_ms.setdefault(response.moment.moment_id, arrived - published)
            missed += response.missed
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.CANCELLED:
            raise
    finally:
        clients.close()
        out.put((delays_ms, missed))


class FeedWatcher:
    """Runs watch_moments in another process; its figures once stopped."""

    def __init__(self, settings: Settings) -> None:
        context = multiprocessing.get_context("spawn")
        self.ready, self.done, self.out = context.Event(), context.Event(), context.Queue()
        self.process = context.Process(
            target=watch_moments, args=(settings, self.ready, self.done, self.out), daemon=True
        )
        self.delays_ms: dict[str, float] = {}
        self.missed = 0

    def start(self) -> None:
        self.process.start()
        if not self.ready.wait(60):
            raise RuntimeError("the WatchMoments client did not go live within 60 s")

    def stop(self) -> None:
        self.done.set()
        self.delays_ms, self.missed = self.out.get(timeout=30)
        self.process.join(10)


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) of the samples, 0 when there are none."""
    if len(samples) < 2:
        return (samples[0], samples[0]) if samples else (0.0, 0.0)
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return round(cuts[49], 1), round(cuts[98], 1)


def latency_phase(settings: Settings, batch: list[Record], rate: float) -> dict[str, float]:
    """Offer the records at `rate`; publish → scored and → case-opened latency percentiles."""
    watcher = OutputWatcher(settings.kafka, settings.topic_partitions)
    watcher.start()
    feed = FeedWatcher(settings)
    feed.start()
    sent_at = send_all(settings.kafka, batch, rate)
    deadline = time.monotonic() + 120
    moments = {derived_id("moment", e): t for e, t in sent_at.items()}
    while len(watcher.scored_at.keys() & moments.keys()) < len(moments):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    time.sleep(1.0)
    watcher.stop.set()
    watcher.join(5)
    feed.stop()
    watched = [feed.delays_ms[m] for m in moments if m in feed.delays_ms]
    scored = [watcher.scored_at[m] - s * 1000 for m, s in moments.items() if m in watcher.scored_at]
    cased = [
        watcher.case_opened_at[m] - s * 1000
        for m, s in moments.items()
        if m in watcher.case_opened_at
    ]
    p50, p99 = percentiles(scored)
    case_p50, case_p99 = percentiles(cased)
    watch_p50, watch_p99 = percentiles(watched)
    return {
        "p50_ms": p50,
        "p99_ms": p99,
        "case_p50_ms": case_p50,
        "case_p99_ms": case_p99,
        "latency_events": len(scored),
        "watch_p50_ms": watch_p50,  # journey published -> a WatchMoments client has it
        "watch_p99_ms": watch_p99,
        "watched": len(watched),
        "watch_missed": feed.missed,
        "offered_per_s": rate,
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


def run_bench(settings: Settings, events: int, rate: float, seed: int = 7) -> dict[str, Any]:
    """The raw hop, three throughput runs (median) and the latency phase, each on a fresh
    embedded stack; print progress and the JSON line."""
    settings = replace(settings, state_dir=settings.state_dir / "bench", log_level="warning")
    latency_events = max(1000, min(events // 4, int(rate * 10)))
    trickle_events = int(TRICKLE_PER_S * IDLE_S)
    print(f"generating {events:,} + {latency_events:,} touchpoints ...", flush=True)
    touchpoints = simulated_touchpoints(seed, events + latency_events + trickle_events)
    throughput_load = workload(touchpoints[:events])
    latency_load = workload(touchpoints[events : events + latency_events])
    trickle = list(records([touchpoints[events + latency_events :]]))
    runs = [throughput_phase(settings, throughput_load, events, n) for n in range(1, RUNS + 1)]
    median = sorted(runs, key=lambda r: r.per_s)[len(runs) // 2]
    print(
        f"end to end (median of {RUNS}): {median.per_s:,.0f}/s "
        f"(runs: {', '.join(f'{r.per_s:,.0f}' for r in runs)})",
        flush=True,
    )
    with LocalStack(replace(settings, state_dir=settings.state_dir / "latency")) as stack:
        live = stack.settings
        raw = raw_hop_rate(live.kafka, min(events, 50_000), live.topic_partitions)
        print(f"raw hop: {raw:,.0f} msg/s", flush=True)
        latency = latency_phase(live, latency_load.records, rate)
        quiet = quiet_phases(stack, trickle)
    result = {
        "touchpoints_per_s": round(median.per_s, 1),
        "runs_per_s": [round(r.per_s, 1) for r in runs],
        "raw_hop_per_s": round(raw, 1),
        "ratio": round(median.per_s / raw, 4),
        "cpu_us_per_touchpoint": median.cpu_us,
        **latency,
        **quiet,
        "events": events,
        "expected_cases": throughput_load.expected_cases,
    }
    print(json.dumps(result), flush=True)
    return result
