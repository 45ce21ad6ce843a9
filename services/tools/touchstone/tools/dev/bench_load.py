"""What the benchmarks publish: the simulator's touchpoints as records, what the services must
show once they have handled them, and how to publish them (at once or paced)."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from touchstone.contacts.v1.touchpoint_pb2 import Touchpoint
from touchstone.journey.v1.journey_service_pb2 import GetScoreStatsRequest
from touchstone.notify.v1.notify_service_pb2 import ListCasesRequest
from touchstone.platform.messaging.kafka_connection import KafkaConnection
from touchstone.platform.messaging.topics import TOUCHPOINTS
from touchstone.platform.runtime.settings import SERVICES, Settings
from touchstone.platform.runtime.work_progress import Reporter, WorkProgress, unreported
from touchstone.tools.dev.simulator import Record, generate_visits, records
from touchstone.tools.ops.client import Clients
from touchstone.tools.ops.lag import LagReader


@dataclass(frozen=True)
class Workload:
    """Touchpoints to publish and what the system must show once it has handled them."""

    records: list[Record]
    expected_cases: int


SIMULATION_START = datetime(2026, 1, 5, 8, tzinfo=UTC)


class TouchpointSource:
    """The simulator's seeded touchpoints, taken in turn (a visit may straddle two takes)."""

    def __init__(self, seed: int) -> None:
        visits = generate_visits(seed, SIMULATION_START)
        self._touchpoints: Iterator[Touchpoint] = itertools.chain.from_iterable(visits)

    def take(self, count: int) -> list[Touchpoint]:
        """The next count touchpoints."""
        return list(itertools.islice(self._touchpoints, count))


def simulated_touchpoints(seed: int, count: int) -> list[Touchpoint]:
    """The first count touchpoints of the simulator's seeded visits."""
    return TouchpointSource(seed).take(count)


def workload(touchpoints: list[Touchpoint]) -> Workload:
    """The touchpoints as records; expected cases computed with the services' own pure rules."""
    return Workload(list(records([touchpoints])), len(lost_visits(touchpoints)))


def lost_visits(touchpoints: Sequence[Touchpoint]) -> set[tuple[str, str]]:
    """(customer, visit) of every visit with a lost moment among the touchpoints: the recovery
    cases notify opens for them, by journey's and contacts' own pure rules."""
    from touchstone.contacts.codec import facts_of
    from touchstone.contacts.domain import resolve_visit_id
    from touchstone.journey.codec import moment_of
    from touchstone.journey.domain import Verdict, score
    from touchstone.journey.standards import default_standards

    lost = set()
    for tp in touchpoints:
        if score(moment_of(tp), default_standards()).verdict is Verdict.LOSE:
            customer = customer_of(tp)
            lost.add((customer, resolve_visit_id(facts_of(tp), customer)))
    return lost


def customer_of(touchpoint: Touchpoint) -> str:
    """The customer id contacts gives the touchpoint on the embedded stack (its development
    identity keys), with no profile known before it."""
    from touchstone.contacts.codec import facts_of
    from touchstone.contacts.domain import resolve_customer_id
    from touchstone.contacts.identity_keys import DEVELOPMENT_KEYS

    return resolve_customer_id(facts_of(touchpoint), None, DEVELOPMENT_KEYS)


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


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) of the samples, 0 when there are none."""
    if len(samples) < 2:
        return (samples[0], samples[0]) if samples else (0.0, 0.0)
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return round(cuts[49], 1), round(cuts[98], 1)


CONFIRM_S = 1.0  # all four caught up at two readings this far apart: nothing was in flight


def wait_until_handled(
    clients: Clients,
    lags: LagReader,
    scored: int,
    cases: int,
    timeout: float,
    progress: Reporter = unreported,
) -> float:
    """Block until journey has scored `scored` moments, notify holds `cases` cases and every
    service's consumer group has committed every record of its inputs, at two readings
    CONFIRM_S apart (a relay may still be publishing at the first); when that first held.
    The moments scored so far are told to progress."""
    started = time.monotonic()
    deadline = started + timeout
    caught_up_at: float | None = None
    while time.monotonic() < deadline:
        if caught_up_at is None:
            so_far = _scored_so_far(clients)
            progress(WorkProgress(so_far, scored, time.monotonic() - started))
            if so_far < scored or not _cases_open(clients, cases):
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


def _scored_so_far(clients: Clients) -> int:
    stats = clients.journey.GetScoreStats(GetScoreStatsRequest(), timeout=5)
    return int(stats.wins + stats.losses + stats.unscored)


def _cases_open(clients: Clients, cases: int) -> bool:
    return clients.notify.ListCases(ListCasesRequest(page_size=1), timeout=5).total >= cases


def all_lags(settings: Settings) -> LagReader:
    """A lag reader over every service's input topics (close it when done)."""
    from touchstone.tools.ops.service_specs import service_spec

    inputs = {name: service_spec(name).consumed_topics for name in SERVICES}
    return LagReader(settings.kafka, inputs, settings.consumer)
