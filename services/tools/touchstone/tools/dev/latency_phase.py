"""`make bench`'s latency phase: touchpoints offered at a steady rate; publish → MomentScored and
→ CaseOpened measured from the records' own broker timestamps (no consumer delay in the
figure), and journey published → a WatchMoments client has it."""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any

import grpc
from kafka import KafkaConsumer, TopicPartition

from touchstone.journey.v1.journey_service_pb2 import WatchMomentsRequest
from touchstone.notify.v1.events_pb2 import CaseEvent
from touchstone.platform.messaging.kafka_connection import KafkaConnection
from touchstone.platform.messaging.topics import JOURNEY_MOMENTS, NOTIFY_CASES
from touchstone.platform.runtime.ids import derived_id
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.bench_load import percentiles, send_all
from touchstone.tools.dev.simulator import Record
from touchstone.tools.ops.client import Clients


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
