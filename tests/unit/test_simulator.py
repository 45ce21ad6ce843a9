"""The simulator: deterministic, map-ordered, valid and realistically distributed journeys."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from google.protobuf.message import DecodeError

from touchstone.contacts.codec import facts_of
from touchstone.contacts.domain import validate
from touchstone.contacts.v1.touchpoint_pb2 import Channel, Touchpoint
from touchstone.platform.messaging.kafka_connection import KafkaConnection
from touchstone.platform.runtime.prototime import to_datetime
from touchstone.shared_kernel.journey_maps import load_maps
from touchstone.tools.dev import sim_visits, simulator
from touchstone.tools.dev.sim_visits import PHONE_STAGES, RESTAURANT_STAGES, SUPERMARKET_STAGES
from touchstone.tools.dev.simulator import (
    Pacer,
    SimConfig,
    generate_visits,
    publish,
    records,
)
from touchstone.tools.ops.publisher import customer_key

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MAPS = {"supermarket": SUPERMARKET_STAGES, "phone": PHONE_STAGES, "restaurant": RESTAURANT_STAGES}


@pytest.fixture(scope="module")
def visits() -> list[list[Touchpoint]]:
    """A few thousand visits, shared by the statistical tests."""
    return list(generate_visits(seed=42, start=START, count=4000))


def _all(visits: list[list[Touchpoint]]) -> Iterator[Touchpoint]:
    return (tp for visit in visits for tp in visit)


def _stage(visits: list[list[Touchpoint]], stage: str) -> list[Touchpoint]:
    return [tp for tp in _all(visits) if tp.stage == stage]


def test_the_same_seed_gives_the_same_events_and_another_seed_does_not() -> None:
    def run(seed: int) -> list[bytes]:
        return [tp.SerializeToString() for v in generate_visits(seed, START, 300) for tp in v]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_stages_follow_their_map_in_order(visits: list[list[Touchpoint]]) -> None:
    for visit in visits:
        order = MAPS[visit[0].journey_map]
        positions = [order.index(tp.stage) for tp in visit if tp.stage != "complaint"]
        assert positions == sorted(set(positions)), [tp.stage for tp in visit]


def test_every_visit_walks_the_mandatory_stages(visits: list[list[Touchpoint]]) -> None:
    mandatory = {
        "supermarket": {"drive_in", "enter_store", "wait_in_queue", "drive_away"},
        "phone": {"ring", "greeting", "identify_need", "resolution", "close"},
        "restaurant": set(RESTAURANT_STAGES),
    }
    for visit in visits:
        assert mandatory[visit[0].journey_map] <= {tp.stage for tp in visit}


def test_optional_stages_occur_sometimes(visits: list[list[Touchpoint]]) -> None:
    seen = Counter(tp.stage for tp in _all(visits))
    for stage in ("store_bag", "ask_staff", "check_directory", "hold", "transfer", "callback"):
        assert 0 < seen[stage] < len(visits) / 2, stage
    assert 0 < seen["complaint"] < len(visits) / 20  # a complaint on site is rare


def test_event_ids_are_unique_and_visits_share_a_visit_id(visits: list[list[Touchpoint]]) -> None:
    ids = [tp.event_id for tp in _all(visits)]
    assert len(ids) == len(set(ids))
    visit_ids = [{tp.visit_id for tp in visit} for visit in visits]
    assert all(len(v) == 1 and "" not in v for v in visit_ids)
    assert len({v.pop() for v in visit_ids}) == len(visits)


def test_time_never_goes_back_within_a_visit(visits: list[list[Touchpoint]]) -> None:
    for visit in visits:
        times = [to_datetime(tp.occurred_at) for tp in visit]
        assert times == sorted(times)
        assert times[-1] > times[0]


def test_visits_start_from_start_and_spread_over_days(visits: list[list[Touchpoint]]) -> None:
    starts = [to_datetime(visit[0].occurred_at) for visit in visits]
    assert starts[0] == START
    assert starts == sorted(starts)
    assert starts[-1] - START > timedelta(days=3)  # 4,000 visits at a 90 s mean gap


def test_every_touchpoint_passes_contacts_validation(visits: list[list[Touchpoint]]) -> None:
    later = START + timedelta(days=365)
    for tp in _all(visits):
        assert validate(facts_of(tp), received_at=later) == [], tp
        assert tp.event_id and tp.source and tp.site_id and tp.journey_map and tp.stage
        assert tp.HasField("occurred_at") and customer_key(tp)


def test_channels_sites_and_staff_fit_the_map(visits: list[list[Touchpoint]]) -> None:
    for tp in _all(visits):
        if tp.journey_map == "phone":
            assert (tp.channel, tp.site_id) == (Channel.CHANNEL_PHONE, "cc-hcm")
        elif tp.journey_map == "restaurant":
            assert (tp.channel, tp.site_id) == (Channel.CHANNEL_IN_STORE, simulator.RESTAURANT)
        else:
            assert tp.channel == Channel.CHANNEL_IN_STORE
            assert tp.site_id in {"hcm-01", "hcm-02", "hn-01"}
        assert tp.staff_id == "" or tp.staff_id.startswith(tp.site_id)
    assert all(tp.staff_id for tp in _stage(visits, "pay") + _stage(visits, "greeting"))


def test_about_a_third_of_visits_are_calls(visits: list[list[Touchpoint]]) -> None:
    calls = sum(visit[0].journey_map == "phone" for visit in visits)
    assert 0.26 < calls / len(visits) < 0.34


def test_phone_share_is_configurable() -> None:
    all_calls = generate_visits(1, START, 50, SimConfig(phone_share=1.0))
    assert {visit[0].journey_map for visit in all_calls} == {"phone"}


def test_about_15_percent_of_greetings_take_over_30_seconds_or_never_come(
    visits: list[list[Touchpoint]],
) -> None:
    entries = _stage(visits, "enter_store")
    greetings = [tp.measurements["greeting_seconds"] for tp in entries if tp.measurements]
    never = len(entries) - len(greetings)
    assert len(entries) > 2000
    assert 0.02 < never / len(entries) < 0.07  # nobody came: no measurement, it did not happen
    slow = (sum(s > 30 for s in greetings) + never) / len(entries)
    assert 0.12 < slow < 0.18
    assert sorted(greetings)[len(greetings) // 2] < 20  # the typical greeting is quick


def test_the_greeted_observation_goes_with_a_greeter(visits: list[list[Touchpoint]]) -> None:
    entries = _stage(visits, "enter_store")
    for tp in entries:
        assert ("greeted" in tp.observations) == bool(tp.staff_id)
    assert 0 < sum("greeted" not in tp.observations for tp in entries) < len(entries) * 0.1


def test_queue_waits_are_mostly_short_with_a_long_tail(visits: list[list[Touchpoint]]) -> None:
    waits = [tp.measurements["wait_seconds"] for tp in _stage(visits, "wait_in_queue")]
    assert sum(w < 180 for w in waits) / len(waits) > 0.75
    assert 0.07 < sum(w > 300 for w in waits) / len(waits) < 0.13


def test_rings_are_mostly_three_or_fewer(visits: list[list[Touchpoint]]) -> None:
    rings = [tp.measurements["rings"] for tp in _stage(visits, "ring")]
    assert all(1 <= r <= 8 for r in rings)
    assert 0.11 < sum(r > 3 for r in rings) / len(rings) < 0.19


def test_every_touchpoint_speaks_only_its_stages_vocabulary(
    visits: list[list[Touchpoint]],
) -> None:
    maps = load_maps()
    for tp in _all(visits):
        stage = maps[tp.journey_map].stage(tp.stage)
        assert stage is not None, (tp.journey_map, tp.stage)
        for name, value in tp.measurements.items():
            low, high = stage.ranges[name]
            assert low <= value <= high, (tp.stage, name, value)
        assert set(tp.observations) <= stage.observations, (tp.stage, list(tp.observations))


def test_phone_calls_mostly_keep_their_courtesies(visits: list[list[Touchpoint]]) -> None:
    greetings = _stage(visits, "greeting")
    assert sum(len(tp.observations) == 4 for tp in greetings) / len(greetings) > 0.7
    assert set(sim_visits.CLOSE_CHECKS) <= load_maps()["phone"].stage("close").observations  # type: ignore[union-attr]
    assert all("hold_seconds" in tp.measurements for tp in _stage(visits, "hold"))
    assert all("transfer_seconds" in tp.measurements for tp in _stage(visits, "transfer"))


def test_payments_carry_realistic_vnd(visits: list[list[Touchpoint]]) -> None:
    payments = _stage(visits, "pay")
    assert payments
    for tp in payments:
        assert tp.purchase.currency == "VND"
        assert 50_000 <= tp.purchase.minor_units <= 2_000_000
    assert all(not tp.HasField("purchase") for tp in _all(visits) if tp.stage != "pay")
    assert 0 < sum(tp.HasField("feedback") for tp in payments) < len(payments) * 0.1


def test_customers_recur_pareto_like_and_references_mix(visits: list[list[Touchpoint]]) -> None:
    per_customer = Counter(customer_key(visit[0]) for visit in visits)
    assert len(per_customer) < len(visits) * 0.8
    top = sum(n for _, n in per_customer.most_common(len(per_customer) // 5))
    assert top / len(visits) > 0.4  # the frequent fifth makes a large share of visits
    kinds = Counter(key.split(":")[0] if ":" in key else "customer_id" for key in per_customer)
    assert {"customer_id", "loyalty_card", "phone"} <= set(kinds)


def test_a_customer_keeps_one_reference_per_channel() -> None:
    world = simulator.build_world(simulator.random.Random(3), SimConfig(customers=500))
    assert len({c.customer_id for c in world.customers}) == 500
    for refs in ("store_ref", "phone_ref"):
        keys = [getattr(c, refs).SerializeToString() for c in world.customers]
        assert len(set(keys)) == len(keys)  # distinct customers never share a reference


def test_records_carry_key_value_and_cloudevents_headers() -> None:
    visit = next(generate_visits(5, START, 1))
    for tp, record in zip(visit, records([visit]), strict=True):
        assert record.key == customer_key(tp).encode()
        assert Touchpoint.FromString(record.value) == tp
        headers = dict(record.headers)
        assert headers["ce_specversion"] == b"1.0"
        assert headers["ce_id"] == tp.event_id.encode()
        assert headers["ce_source"] == tp.source.encode()
        assert headers["ce_type"] == b"touchstone.contacts.v1.Touchpoint"
        assert headers["content-type"] == b"application/protobuf"


def test_a_share_of_records_is_deliberately_bad() -> None:
    sent = list(records(generate_visits(5, START, 300), bad_share=0.1, seed=1))
    garbage, no_id = 0, 0
    for record in sent:
        try:
            no_id += Touchpoint.FromString(record.value).event_id == ""
        except DecodeError:
            garbage += 1
    assert garbage > 0 and no_id > 0
    assert 0.07 < (garbage + no_id) / len(sent) < 0.13
    assert sent == list(records(generate_visits(5, START, 300), bad_share=0.1, seed=1))


def test_the_pacer_holds_the_rate_without_spinning() -> None:
    pacer = Pacer(200.0)
    began, cpu = time.monotonic(), time.process_time()
    assert all(pacer.wait() for _ in range(60))
    elapsed = time.monotonic() - began
    assert 0.2 < elapsed < 1.5  # 60 sends at 200/s, after a 10-send burst allowance
    assert time.process_time() - cpu < elapsed / 2


def test_the_pacer_stops_when_asked() -> None:
    stop = threading.Event()
    stop.set()
    assert Pacer(1.0, stop).wait() is False
    with pytest.raises(ValueError):
        Pacer(0.0)


class FakeProducer:
    """Records what publish sends, instead of talking to a broker."""

    instances: ClassVar[list[FakeProducer]] = []

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.sent: list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]] = []
        self.flushed = self.closed = False
        FakeProducer.instances.append(self)

    def send(self, topic: str, value: bytes, key: bytes, headers: list[Any]) -> FakeProducer:
        self.sent.append((topic, value, key, headers))
        return self

    def add_errback(self, callback: Any) -> None:
        """A future that never fails."""

    def flush(self) -> None:
        self.flushed = True

    def close(self) -> None:
        self.closed = True


def test_publish_sends_up_to_stop_after_then_flushes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulator, "KafkaProducer", FakeProducer)
    kafka = KafkaConnection("127.0.0.1:1")
    count = publish(kafka, "touchpoints.v1", generate_visits(1, START), stop_after=250)
    producer = FakeProducer.instances[-1]
    assert count == len(producer.sent) == 250
    assert producer.flushed and producer.closed
    assert producer.config["bootstrap_servers"] == ["127.0.0.1:1"]
    assert {topic for topic, *_ in producer.sent} == {"touchpoints.v1"}


def test_publish_stops_on_the_event(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulator, "KafkaProducer", FakeProducer)
    stop = threading.Event()
    stop.set()
    kafka = KafkaConnection("127.0.0.1:1")
    assert publish(kafka, "t", generate_visits(1, START), 100.0, stop_event=stop) == 0


def test_live_touchpoints_come_in_the_order_they_happen_each_once() -> None:
    visits = list(generate_visits(seed=3, start=START, count=500))
    ordered = [tp for batch in simulator.in_event_time_order(visits) for tp in batch]
    times = [tp.occurred_at.ToDatetime() for tp in ordered]
    assert times == sorted(times)
    assert sorted(tp.event_id for tp in ordered) == sorted(tp.event_id for v in visits for tp in v)
    callbacks = [n for n, tp in enumerate(ordered) if tp.stage == "callback"]
    assert callbacks and callbacks[0] > 100  # hours later, after the visits in between


def test_live_visits_begin_a_warm_up_before_the_wall_clock() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    (first,) = next(simulator.live_visits(seed=1, rate_per_s=50.0, now=now))
    assert first.occurred_at.ToDatetime(UTC) == now - simulator.WARM_UP


def test_a_live_touchpoint_waits_for_the_wall_clock_to_reach_its_event_time() -> None:
    clock = simulator.LiveClock(timedelta(milliseconds=50))
    began = time.monotonic()
    assert clock.wait_for(datetime.now(UTC) + timedelta(milliseconds=150))
    assert time.monotonic() - began >= 0.19  # its event time, plus the lead
    assert clock.wait_for(datetime.now(UTC) - timedelta(hours=1))  # already due: at once


def test_a_live_wait_ends_when_stopped() -> None:
    stop = threading.Event()
    stop.set()
    assert (
        simulator.LiveClock(timedelta(0), stop).wait_for(datetime.now(UTC) + timedelta(days=1))
        is False
    )


def test_live_publishing_never_sends_a_touchpoint_before_it_happened(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(simulator, "KafkaProducer", FakeProducer)
    sent_at: list[tuple[datetime, datetime]] = []
    real_send = FakeProducer.send

    def send(self: FakeProducer, topic: str, value: bytes, key: bytes, headers: list[Any]) -> Any:
        happened = Touchpoint.FromString(value).occurred_at.ToDatetime(UTC)
        sent_at.append((happened, datetime.now(UTC)))
        return real_send(self, topic, value, key, headers)

    monkeypatch.setattr(FakeProducer, "send", send)
    visits = simulator.live_visits(seed=2, rate_per_s=400.0, now=datetime.now(UTC))
    kafka = KafkaConnection("127.0.0.1:1")
    lead = simulator.LIVE_LEAD
    assert publish(kafka, "t", visits, stop_after=12, live_lead=timedelta(milliseconds=10)) == 12
    assert lead > timedelta(0)
    assert all(sent >= happened for happened, sent in sent_at)


def test_the_simulated_sign_ups_use_the_visits_identities_and_say_how_to_reach_them() -> None:
    from touchstone.tools.dev.simulator import SimConfig, build_world, registrations

    signed = list(registrations(7))
    assert signed == list(registrations(7))  # the same seed, the same sign-ups
    assert 0.5 < len(signed) / SimConfig().customers < 0.7
    world = {c.customer_id: c for c in build_world(random.Random(7), SimConfig()).customers}
    for request in signed:
        customer = world[request.customer_id]
        values = {i.value for i in request.identities}
        for ref in (customer.store_ref, customer.phone_ref):
            if ref.WhichOneof("ref") == "identity":
                assert ref.identity.value in values  # their visits resolve to them
        assert any(v.endswith("@example.vn") for v in values)
        assert request.consent.preferred_language in ("vi", "en", "zh")
    consenting = sum(1 for r in signed if r.consent.channels)
    assert 0.6 < consenting / len(signed) < 0.8
