"""Simulated customer journeys: seeded, realistic Touchpoint streams and a paced Kafka publisher."""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kafka import KafkaProducer

from touchstone.contacts.v1.contacts_service_pb2 import RegisterCustomerRequest
from touchstone.contacts.v1.profile_pb2 import CONSENT_CHANNEL_EMAIL, Consent, QuietHours
from touchstone.contacts.v1.touchpoint_pb2 import (
    Channel,
    CustomerRef,
    ExternalIdentity,
    IdentityKind,
    Touchpoint,
)
from touchstone.platform.messaging.kafka_connection import KafkaConnection
from touchstone.tools.dev.sim_visits import (
    NAMESPACE,
    Visit,
    phone_call,
    restaurant_meal,
    supermarket_trip,
)
from touchstone.tools.ops.publisher import Record, touchpoint_record

STORE_SITES = ("hcm-01", "hcm-02", "hn-01")
CALL_CENTRE = "cc-hcm"
RESTAURANT = "rs-hcm-01"
ZONE = "Asia/Ho_Chi_Minh"
BURST_S = 0.05  # how far behind schedule the pacer may catch up in a burst
GARBAGE = b"\xff" * 11 + b" not a touchpoint"  # an over-long varint: never parses


@dataclass(frozen=True)
class SimConfig:
    """Knobs of the simulation: population size, channel mix, pace of event time, staffing."""

    customers: int = 2000
    phone_share: float = 0.3
    restaurant_share: float = 0.1
    mean_gap_s: float = 90.0
    staff_per_store: int = 8
    agents: int = 12


@dataclass(frozen=True)
class Customer:
    """One simulated person: a stable reference per channel and a home store."""

    customer_id: str
    store_ref: CustomerRef
    phone_ref: CustomerRef
    home_site: str


@dataclass(frozen=True)
class World:
    """The fixed cast of a run: customers with Pareto visit weights, and staff per site."""

    customers: Sequence[Customer]
    cum_weights: Sequence[float]
    staff: Mapping[str, Sequence[str]]


def build_world(rng: random.Random, config: SimConfig) -> World:
    """Customers (a few frequent, most occasional) and staff ids for every site."""
    customers = [_make_customer(rng, i) for i in range(config.customers)]
    weights = itertools.accumulate(min(rng.paretovariate(1.16), 500.0) for _ in customers)
    staff = {
        s: [f"{s}-st{n:02d}" for n in range(1, config.staff_per_store + 1)] for s in STORE_SITES
    }
    staff[CALL_CENTRE] = [f"{CALL_CENTRE}-ag{n:02d}" for n in range(1, config.agents + 1)]
    staff[RESTAURANT] = [f"{RESTAURANT}-wt{n:02d}" for n in range(1, config.staff_per_store + 1)]
    return World(customers, list(weights), staff)


def _make_customer(rng: random.Random, index: int) -> Customer:
    customer_id = f"cust-{index:06d}"
    store_kind = rng.choices(
        (None, IdentityKind.IDENTITY_KIND_LOYALTY_CARD, IdentityKind.IDENTITY_KIND_EMAIL),
        (0.35, 0.55, 0.10),
    )[0]
    phone_kind = rng.choices((None, IdentityKind.IDENTITY_KIND_PHONE), (0.3, 0.7))[0]
    store_ref = _ref(rng, customer_id, index, store_kind)
    return Customer(
        customer_id, store_ref, _ref(rng, customer_id, index, phone_kind), rng.choice(STORE_SITES)
    )


def _ref(
    rng: random.Random, customer_id: str, index: int, kind: IdentityKind | None
) -> CustomerRef:
    if kind is None:
        return CustomerRef(customer_id=customer_id)
    ref = CustomerRef()
    ref.identity.kind = kind
    if kind == IdentityKind.IDENTITY_KIND_LOYALTY_CARD:
        ref.identity.value = f"LC{rng.randrange(10**4):04d}{index:06d}"
    elif kind == IdentityKind.IDENTITY_KIND_PHONE:
        ref.identity.value = f"+84 9{rng.randrange(10)} {index // 10**4:03d} {index % 10**4:04d}"
    else:
        ref.identity.value = f"khach.{index:06d}@example.vn"
    return ref


REGISTERED_SHARE = 0.6  # customers who signed up (with an email address) before the run
EMAIL_CONSENT_SHARE = 0.7  # of them, who agreed to be written to
QUIET_HOURS_SHARE = 0.5  # of them, who asked for quiet nights (21:00-08:00 local)
LANGUAGES = (("vi", 0.7), ("en", 0.2), ("zh", 0.1))


def registrations(seed: int, config: SimConfig | None = None) -> Iterator[RegisterCustomerRequest]:
    """RegisterCustomer requests for the share of the run's customers who signed up: their ids
    and identities as the visits use them, an email address, their language and consent."""
    world = build_world(random.Random(seed), config or SimConfig())
    rng = random.Random(f"{seed}/registrations")
    for index, customer in enumerate(world.customers):
        if rng.random() >= REGISTERED_SHARE:
            continue
        identities = [
            ref.identity
            for ref in (customer.store_ref, customer.phone_ref)
            if ref.WhichOneof("ref") == "identity"
        ]
        email = f"khach.{index:06d}@example.vn"
        if email not in {i.value for i in identities}:
            identities.append(ExternalIdentity(kind=IdentityKind.IDENTITY_KIND_EMAIL, value=email))
        language = rng.choices([code for code, _ in LANGUAGES], [w for _, w in LANGUAGES])[0]
        consent = Consent(preferred_language=language)
        if rng.random() < EMAIL_CONSENT_SHARE:
            consent.channels.add(channel=CONSENT_CHANNEL_EMAIL, granted=True)
        if rng.random() < QUIET_HOURS_SHARE:
            consent.quiet_hours.CopyFrom(QuietHours(start="21:00", end="08:00", time_zone=ZONE))
        yield RegisterCustomerRequest(
            customer_id=customer.customer_id, identities=identities, consent=consent
        )


def generate_visits(
    seed: int, start: datetime, count: int | None = None, config: SimConfig | None = None
) -> Iterator[list[Touchpoint]]:
    """Visits from `start` on, each its touchpoints in event-time order; endless if no count."""
    config = config or SimConfig()
    rng = random.Random(seed)
    world = build_world(rng, config)
    clock = start if start.tzinfo else start.replace(tzinfo=UTC)
    for number in itertools.count() if count is None else range(count):
        yield _visit(rng, world, config, f"{seed}/{number}", clock)
        clock += timedelta(seconds=rng.expovariate(1.0 / config.mean_gap_s))


def _visit(
    rng: random.Random, world: World, config: SimConfig, name: str, at: datetime
) -> list[Touchpoint]:
    customer = rng.choices(world.customers, cum_weights=world.cum_weights)[0]
    template = Touchpoint(visit_id=str(uuid.uuid5(NAMESPACE, name)))
    draw = rng.random()
    walk: Callable[[random.Random, Visit, Sequence[str]], None]
    if draw < config.phone_share:
        template.customer.CopyFrom(customer.phone_ref)
        template.channel, template.journey_map = Channel.CHANNEL_PHONE, "phone"
        template.site_id, walk = CALL_CENTRE, phone_call
    elif draw < config.phone_share + config.restaurant_share:
        template.customer.CopyFrom(customer.store_ref)
        template.channel, template.journey_map = Channel.CHANNEL_IN_STORE, "restaurant"
        template.site_id, walk = RESTAURANT, restaurant_meal
    else:
        template.customer.CopyFrom(customer.store_ref)
        template.channel, template.journey_map = Channel.CHANNEL_IN_STORE, "supermarket"
        template.site_id = customer.home_site if rng.random() < 0.9 else rng.choice(STORE_SITES)
        walk = supermarket_trip
    visit = Visit(name, template, at)
    walk(rng, visit, world.staff[template.site_id])
    return visit.touchpoints


def records(
    visits: Iterable[list[Touchpoint]], bad_share: float = 0.0, seed: int = 0
) -> Iterator[Record]:
    """Kafka records for the visits' touchpoints; a `bad_share` of them deliberately broken."""
    return (record for _, record in timed_records(visits, bad_share, seed))


def timed_records(
    visits: Iterable[list[Touchpoint]], bad_share: float = 0.0, seed: int = 0
) -> Iterator[tuple[datetime, Record]]:
    """Each touchpoint's event time and its Kafka record (a `bad_share` deliberately broken)."""
    rng = random.Random(seed)
    for touchpoint in itertools.chain.from_iterable(visits):
        at = touchpoint.occurred_at.ToDatetime(UTC)
        if not (bad_share and rng.random() < bad_share):
            yield at, touchpoint_record(touchpoint)
        elif rng.random() < 0.5:
            yield at, touchpoint_record(touchpoint, GARBAGE)
        else:
            broken = Touchpoint()
            broken.CopyFrom(touchpoint)
            broken.ClearField("event_id")
            yield at, touchpoint_record(broken)


class LiveClock:
    """Holds each touchpoint back until the wall clock reaches its event time plus a lead."""

    def __init__(self, lead: timedelta, stop: threading.Event | None = None) -> None:
        self._lead = lead
        self._stop = stop or threading.Event()

    def wait_for(self, occurred_at: datetime) -> bool:
        """Sleep until occurred_at + lead; False as soon as the stop event is set."""
        due = occurred_at + self._lead
        while not self._stop.is_set():
            ahead = (due - datetime.now(UTC)).total_seconds()
            if ahead <= 0:
                return True
            self._stop.wait(min(ahead, 1.0))  # a wall-clock step shortens the wait at once
        return False


class Pacer:
    """Sleep-based token bucket: `rate_per_s` sends a second on average, brief catch-up bursts."""

    def __init__(self, rate_per_s: float | None, stop: threading.Event | None = None) -> None:
        if rate_per_s is not None and rate_per_s <= 0:
            raise ValueError(f"rate_per_s must be positive, not {rate_per_s}")
        self._interval = 1.0 / rate_per_s if rate_per_s else 0.0
        self._stop = stop or threading.Event()
        self._next = time.monotonic()

    def wait(self) -> bool:
        """Sleep until the next send is due; False as soon as the stop event is set."""
        if self._interval:
            now = time.monotonic()
            slot = max(self._next, now - BURST_S)
            self._next = slot + self._interval
            if slot > now:
                self._stop.wait(slot - now)
        return not self._stop.is_set()


class PublishError(RuntimeError):
    """Some records were not acknowledged by the broker."""


def publish(
    kafka: KafkaConnection,
    topic: str,
    visits: Iterable[list[Touchpoint]],
    rate_per_s: float | None = None,
    stop_after: int | None = None,
    stop_event: threading.Event | None = None,
    bad_share: float = 0.0,
    seed: int = 0,
    live_lead: timedelta | None = None,
) -> int:
    """Send the visits' touchpoints to `topic`, paced; the number of records sent (bad included).

    With live_lead each goes out when the wall clock reaches its event time plus that lead, as a
    live producer's would; otherwise at rate_per_s (as fast as it can when None).
    """
    pacer = Pacer(rate_per_s, stop_event)
    live = LiveClock(live_lead, stop_event) if live_lead is not None else None
    failures: list[BaseException] = []
    producer = KafkaProducer(**kafka.producer_config(client_id="touchstone-simulator", linger_ms=5))
    sent = 0
    try:
        for at, record in itertools.islice(timed_records(visits, bad_share, seed), stop_after):
            if (live and not live.wait_for(at)) or not pacer.wait():
                break
            future = producer.send(topic, record.value, record.key, list(record.headers))
            future.add_errback(failures.append)
            sent += 1
        producer.flush()
    finally:
        producer.close()
    if failures:
        raise PublishError(f"{len(failures)} of {sent} records failed, first: {failures[0]!r}")
    return sent


TOUCHPOINTS_PER_VISIT = 9.3  # measured over the default mix: 4,000 visits, seed 1
LIVE_LEAD = timedelta(seconds=1)  # a live touchpoint goes out this long after it happened
# Live visits begin this long before the run, their past touchpoints sent at once: the run opens
# on a store already in full flow (a visit spans about half an hour) rather than an empty one.
WARM_UP = timedelta(minutes=15)


def in_event_time_order(visits: Iterable[list[Touchpoint]]) -> Iterator[list[Touchpoint]]:
    """The visits' touchpoints one by one, in the order they happen (visits start in order).

    A live producer publishes what happens when it happens: a callback a day later comes a day
    later, after the visits that started in between, not straight after its own call.
    """
    pending: list[tuple[datetime, int, Touchpoint]] = []
    order = itertools.count()
    for visit in visits:
        started = visit[0].occurred_at.ToDatetime(UTC)
        while pending and pending[0][0] <= started:
            yield [heapq.heappop(pending)[2]]
        for tp in visit:
            heapq.heappush(pending, (tp.occurred_at.ToDatetime(UTC), next(order), tp))
    while pending:
        yield [heapq.heappop(pending)[2]]


def live_visits(seed: int, rate_per_s: float, now: datetime) -> Iterator[list[Touchpoint]]:
    """Endless visits from WARM_UP before now on, about rate_per_s touchpoints a second of event
    time once under way.

    Touchpoints come in the order they happen (a callback hours after its call); published with
    publish(..., live_lead=LIVE_LEAD), the warm-up's go out at once and every later one when the
    wall clock reaches its event time, so event time never runs ahead of the wall clock however
    long the run.
    """
    config = SimConfig(mean_gap_s=TOUCHPOINTS_PER_VISIT / rate_per_s)
    return in_event_time_order(generate_visits(seed, now - WARM_UP, None, config))
