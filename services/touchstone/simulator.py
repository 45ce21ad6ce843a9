"""Simulated customer journeys: seeded, realistic Touchpoint streams and a paced Kafka publisher."""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from kafka import KafkaProducer

from touchstone.common.kafka_connection import KafkaConnection
from touchstone.common.prototime import to_timestamp
from touchstone.contacts.v1.contacts_service_pb2 import RegisterCustomerRequest
from touchstone.contacts.v1.profile_pb2 import CONSENT_CHANNEL_EMAIL, Consent, QuietHours
from touchstone.contacts.v1.touchpoint_pb2 import (
    Channel,
    CustomerRef,
    ExternalIdentity,
    IdentityKind,
    Touchpoint,
)
from touchstone.publisher import Record, touchpoint_record

NAMESPACE = uuid.UUID("99e3a1bf-1d2f-551c-8cc4-e17783af8e03")
STORE_SITES = ("hcm-01", "hcm-02", "hn-01")
CALL_CENTRE = "cc-hcm"
ZONE = "Asia/Ho_Chi_Minh"
# fmt: off
SUPERMARKET_STAGES = (
    "drive_in", "find_parking", "store_bag", "enter_store", "take_basket", "check_directory",
    "browse", "ask_staff", "select_goods", "prepare_checkout", "wait_in_queue", "pay",
    "collect_bag", "drive_away",
)
PHONE_STAGES = (
    "ring", "greeting", "identify_need", "hold", "transfer", "message_taking", "resolution",
    "close", "callback",
)
# fmt: on
GREETING_CHECKS = ("polite_greeting", "named_self", "named_company", "named_department")
HOLD_CHECKS = ("asked_permission", "said_why", "waited_for_answer", "thanked")
TRANSFER_CHECKS = ("said_to_whom", "said_why", "stayed_until_answered")
MESSAGE_CHECKS = ("took_name", "took_number", "agreed_callback_time")
CLOSE_CHECKS = ("repeated_actions", "asked_anything_else", "thanked", "caller_hung_up_first")
SLOW_GREETING_SHARE = 0.15  # greeted after more than 30 s (or not at all)
LONG_RING_SHARE = 0.15  # answered after 4-8 rings
FEEDBACK_SHARE = 0.05
BURST_S = 0.05  # how far behind schedule the pacer may catch up in a burst
GARBAGE = b"\xff" * 11 + b" not a touchpoint"  # an over-long varint: never parses


@dataclass(frozen=True)
class SimConfig:
    """Knobs of the simulation: population size, channel mix, pace of event time, staffing."""

    customers: int = 2000
    phone_share: float = 0.3
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


@dataclass
class _Visit:
    """A visit under construction: the fields its touchpoints share, its clock, its touchpoints."""

    name: str
    template: Touchpoint
    clock: datetime
    touchpoints: list[Touchpoint] = field(default_factory=list)

    def add(
        self,
        stage: str,
        source: str,
        after_s: float,
        staff: str = "",
        measurements: Mapping[str, float] | None = None,
        observations: Iterable[str] = (),
    ) -> Touchpoint:
        """Append the next touchpoint, `after_s` seconds after the previous one."""
        self.clock += timedelta(seconds=after_s)
        tp = Touchpoint()
        tp.CopyFrom(self.template)
        tp.event_id = str(uuid.uuid5(NAMESPACE, f"{self.name}/{len(self.touchpoints)}"))
        tp.occurred_at.CopyFrom(to_timestamp(self.clock))
        tp.source, tp.stage, tp.staff_id = source, stage, staff
        tp.measurements.update({k: round(v, 1) for k, v in (measurements or {}).items()})
        tp.observations.extend(observations)
        self.touchpoints.append(tp)
        return tp


def _visit(
    rng: random.Random, world: World, config: SimConfig, name: str, at: datetime
) -> list[Touchpoint]:
    customer = rng.choices(world.customers, cum_weights=world.cum_weights)[0]
    template = Touchpoint(visit_id=str(uuid.uuid5(NAMESPACE, name)))
    if rng.random() < config.phone_share:
        template.customer.CopyFrom(customer.phone_ref)
        template.channel, template.journey_map = Channel.CHANNEL_PHONE, "phone"
        template.site_id = CALL_CENTRE
    else:
        template.customer.CopyFrom(customer.store_ref)
        template.channel, template.journey_map = Channel.CHANNEL_IN_STORE, "supermarket"
        template.site_id = customer.home_site if rng.random() < 0.9 else rng.choice(STORE_SITES)
    visit = _Visit(name, template, at)
    staff = world.staff[template.site_id]
    (_phone_call if template.journey_map == "phone" else _supermarket_trip)(rng, visit, staff)
    return visit.touchpoints


def _supermarket_trip(rng: random.Random, v: _Visit, staff: Sequence[str]) -> None:
    v.add("drive_in", "gate-camera", 0.0)
    search = rng.uniform(20, 240)
    v.add("find_parking", "parking-sensor", search, measurements={"search_seconds": search})
    stored = rng.random() < 0.35
    if stored:
        v.add("store_bag", "bag-locker", rng.uniform(60, 180), rng.choice(staff))
    _enter_and_shop(rng, v, staff)
    _checkout(rng, v, staff)
    if stored:
        v.add("collect_bag", "bag-locker", rng.uniform(30, 120), rng.choice(staff))
    v.add("drive_away", "gate-camera", rng.uniform(60, 300))


def _greeting(rng: random.Random) -> tuple[float, bool]:
    """Seconds until greeted: mostly 5-25 s; a slow share over 30 s, some never greeted."""
    if rng.random() >= SLOW_GREETING_SHARE:
        return rng.triangular(4, 29, 11), True
    if rng.random() < 0.3:
        return rng.uniform(45, 180), False  # time spent at the entrance, nobody came
    return rng.uniform(31, 100), True


def _enter_and_shop(rng: random.Random, v: _Visit, staff: Sequence[str]) -> None:
    seconds, greeted = _greeting(rng)
    greeter, seen = (rng.choice(staff), ("greeted",)) if greeted else ("", ())
    greeting = {"greeting_seconds": seconds}
    v.add("enter_store", "door-sensor", rng.uniform(30, 120), greeter, greeting, seen)
    v.add("take_basket", "basket-rfid", rng.uniform(10, 60))
    if rng.random() < 0.35:
        v.add("check_directory", "directory-kiosk", rng.uniform(10, 60))
    browse = rng.uniform(180, 1500)
    v.add("browse", "aisle-camera", rng.uniform(20, 90), measurements={"browse_seconds": browse})
    if rng.random() < 0.3:
        response = {"response_seconds": 3 + rng.expovariate(1 / 25)} if rng.random() < 0.85 else {}
        helped = ("helped",) if rng.random() < 0.9 else ("could_not_help",)
        v.add("ask_staff", "staff-app", rng.uniform(60, 400), rng.choice(staff), response, helped)
    v.add("select_goods", "shelf-scanner", browse, measurements={"items": rng.randint(1, 40)})


def _checkout(rng: random.Random, v: _Visit, staff: Sequence[str]) -> None:
    v.add("prepare_checkout", "checkout-camera", rng.uniform(20, 120))
    wait = _queue_wait(rng)
    queue = {"wait_seconds": wait, "queue_length": round(wait / 45)}
    v.add("wait_in_queue", "queue-sensor", rng.uniform(5, 30), measurements=queue)
    pay = v.add("pay", f"till-{rng.randint(1, 8)}", wait, rng.choice(staff))
    pay.purchase.currency = "VND"
    pay.purchase.minor_units = _basket_value(rng)
    if rng.random() < FEEDBACK_SHARE:
        pay.feedback.rating = rng.choices(range(1, 6), (5, 7, 18, 35, 35))[0]
        pay.feedback.comment = "" if pay.feedback.rating > 2 else "Chờ thanh toán quá lâu"


def _queue_wait(rng: random.Random) -> float:
    """Seconds in the checkout queue: mostly under 3 minutes, one in ten over 5."""
    draw = rng.random()
    if draw < 0.8:
        return rng.triangular(10, 180, 60)
    return rng.uniform(180, 300) if draw < 0.9 else rng.uniform(301, 900)


def _basket_value(rng: random.Random) -> int:
    """A basket in đồng (VND's minor unit): median ~350,000, 50,000-2,000,000, whole thousands."""
    value = min(max(rng.lognormvariate(12.77, 0.75), 50_000), 2_000_000)
    return int(round(value, -3))


def _checks(rng: random.Random, names: Sequence[str], keep: float = 0.85) -> list[str]:
    """Each observed behaviour, kept with probability `keep`."""
    return [name for name in names if rng.random() < keep]


def _phone_call(rng: random.Random, v: _Visit, agents: Sequence[str]) -> None:
    agent = rng.choice(agents)
    rings = rng.randint(4, 8) if rng.random() < LONG_RING_SHARE else rng.randint(1, 3)
    v.add("ring", "pbx", 0.0, measurements={"rings": rings})
    greeting = list(GREETING_CHECKS)
    if rng.random() < 0.2:
        greeting.remove(rng.choice(greeting))
    v.add("greeting", "speech-analytics", rings * 6.0, agent, observations=greeting)
    v.add("identify_need", "crm", rng.uniform(15, 90), agent)
    agent, promised_h = _hold_transfer_message(rng, v, agents, agent)
    resolved = ("resolved",) if not promised_h and rng.random() < 0.85 else ("pending",)
    v.add("resolution", "crm", rng.uniform(30, 400), agent, observations=resolved)
    closing = _checks(rng, CLOSE_CHECKS)
    v.add("close", "speech-analytics", rng.uniform(10, 40), agent, observations=closing)
    if promised_h and rng.random() < 0.85:  # the rest never call back: a loss by absence
        delay_h = promised_h * rng.uniform(0.5, 1.4)
        done = ["at_agreed_time"] if delay_h <= promised_h else []
        done += ["need_met"] if rng.random() < 0.8 else []
        v.add("callback", "pbx", delay_h * 3600, agent, {"delay_hours": delay_h}, done)


def _hold_transfer_message(
    rng: random.Random, v: _Visit, agents: Sequence[str], agent: str
) -> tuple[str, float]:
    """The optional middle of a call; who handles the rest, and the callback promised (hours)."""
    if rng.random() < 0.3:
        held = rng.uniform(15, 60) if rng.random() < 0.7 else rng.uniform(60, 240)
        checks = _checks(rng, HOLD_CHECKS)
        v.add("hold", "pbx", rng.uniform(20, 120), agent, {"hold_seconds": held}, checks)
    if rng.random() < 0.2:
        took = rng.uniform(5, 30) if rng.random() < 0.8 else rng.uniform(30, 120)
        checks = _checks(rng, TRANSFER_CHECKS)
        v.add("transfer", "pbx", rng.uniform(20, 90), agent, {"transfer_seconds": took}, checks)
        agent = rng.choice(agents)
    if rng.random() >= 0.12:
        return agent, 0.0
    promised_h = float(rng.choice((2, 4, 8, 24)))
    promise, checks = {"callback_promised_hours": promised_h}, _checks(rng, MESSAGE_CHECKS, 0.9)
    v.add("message_taking", "crm", rng.uniform(20, 60), agent, promise, checks)
    return agent, promised_h


def records(
    visits: Iterable[list[Touchpoint]], bad_share: float = 0.0, seed: int = 0
) -> Iterator[Record]:
    """Kafka records for the visits' touchpoints; a `bad_share` of them deliberately broken."""
    rng = random.Random(seed)
    for touchpoint in itertools.chain.from_iterable(visits):
        if not (bad_share and rng.random() < bad_share):
            yield touchpoint_record(touchpoint)
        elif rng.random() < 0.5:
            yield touchpoint_record(touchpoint, GARBAGE)
        else:
            broken = Touchpoint()
            broken.CopyFrom(touchpoint)
            broken.ClearField("event_id")
            yield touchpoint_record(broken)


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
) -> int:
    """Send the visits' touchpoints to `topic`, paced; the number of records sent (bad included)."""
    pacer = Pacer(rate_per_s, stop_event)
    failures: list[BaseException] = []
    producer = KafkaProducer(**kafka.client_config(client_id="touchstone-simulator", linger_ms=5))
    sent = 0
    try:
        for record in itertools.islice(records(visits, bad_share, seed), stop_after):
            if not pacer.wait():
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


TOUCHPOINTS_PER_VISIT = 9.7  # measured over the default mix: 2,000 visits, seed 1
LIVE_LEAD = timedelta(minutes=2)  # event time runs this far behind the wall clock


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
    """Endless visits whose event time keeps pace with the wall clock at rate_per_s touchpoints.

    Touchpoints come in the order they happen (a callback hours after its call), with event time
    LIVE_LEAD behind the wall clock: on time for contacts, never ahead of it, and moving journey's
    event clock as a live system's producers would.
    """
    config = SimConfig(mean_gap_s=TOUCHPOINTS_PER_VISIT / rate_per_s)
    return in_event_time_order(generate_visits(seed, now - LIVE_LEAD, None, config))
