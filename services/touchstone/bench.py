"""`make bench`: end-to-end throughput and latency on the embedded stack, as a ratio to the broker.

Three phases on one fresh stack:
1. raw hop: a plain aiokafka consume → produce loop on the same broker (the machine's ceiling);
2. throughput: N simulated touchpoints published at once, timed until every one is scored and
   every expected recovery case is queryable over gRPC;
3. latency: touchpoints offered at a steady rate; publish → MomentScored and → CaseOpened,
   measured from the records' own timestamps (no consumer delay in the figure).
The last line printed is one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
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
from touchstone.common.settings import Settings
from touchstone.common.topics import JOURNEY_MOMENTS, NOTIFY_CASES, TOUCHPOINTS
from touchstone.contacts.v1.touchpoint_pb2 import Touchpoint
from touchstone.journey.v1.journey_service_pb2 import GetScoreStatsRequest, WatchMomentsRequest
from touchstone.notify.v1.events_pb2 import CaseEvent
from touchstone.notify.v1.notify_service_pb2 import ListCasesRequest
from touchstone.simulator import Record, generate_visits, records
from touchstone.stack import LocalStack

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


def wait_until_handled(clients: Clients, scored: int, cases: int, timeout: float) -> None:
    """Block until journey has scored `scored` moments and notify holds `cases` cases."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = clients.journey.GetScoreStats(GetScoreStatsRequest(), timeout=5)
        if stats.wins + stats.losses + stats.unscored >= scored:
            total = clients.notify.ListCases(ListCasesRequest(page_size=1), timeout=5).total
            if total >= cases:
                return
        time.sleep(0.05)
    raise TimeoutError(f"not all of {scored} touchpoints handled within {timeout}s")


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


def run_bench(settings: Settings, events: int, rate: float, seed: int = 7) -> dict[str, float]:
    """Run all three phases on a fresh embedded stack; print progress and the JSON line."""
    settings = replace(settings, state_dir=settings.state_dir / "bench", log_level="warning")
    latency_events = max(1000, min(events // 4, int(rate * 10)))
    print(f"generating {events:,} + {latency_events:,} touchpoints ...", flush=True)
    touchpoints = simulated_touchpoints(seed, events + latency_events)
    throughput_load = workload(touchpoints[:events])
    latency_load = workload(touchpoints[events:])
    with LocalStack(settings) as stack:
        live = stack.settings
        raw = raw_hop_rate(live.kafka, min(events, 50_000), live.topic_partitions)
        print(f"raw hop: {raw:,.0f} msg/s", flush=True)
        with Clients(live) as clients:
            started = time.perf_counter()
            send_all(live.kafka, throughput_load.records)
            wait_until_handled(clients, events, throughput_load.expected_cases, timeout=1800)
            elapsed = time.perf_counter() - started
        rate_e2e = events / elapsed
        print(
            f"end to end: {events:,} touchpoints in {elapsed:.1f}s = {rate_e2e:,.0f}/s", flush=True
        )
        latency = latency_phase(live, latency_load.records, rate)
    result = {
        "touchpoints_per_s": round(rate_e2e, 1),
        "raw_hop_per_s": round(raw, 1),
        "ratio": round(rate_e2e / raw, 4),
        **latency,
        "events": events,
        "expected_cases": throughput_load.expected_cases,
    }
    print(json.dumps(result), flush=True)
    return result
