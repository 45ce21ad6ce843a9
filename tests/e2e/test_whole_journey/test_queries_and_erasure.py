"""The whole journey, asked about: the standards in force, moments, visits, touchpoints and a
site's journey map listed; watchers of moments and values; and an erased customer, whose
personal data is left nowhere and not brought back by a replay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaProducer

from tests.e2e.journey_support import (
    WAIT_S,
    _cases,
    _value,
    _valued,
    eventually,
    moments_of,
    publish,
    registered_with_secrets,
    supermarket_visit,
)
from tests.e2e.leaks import found_in_logs_or_metrics, spellings, tables_holding, topics_holding
from touchstone.contacts.v1.contacts_service_pb2 import (
    DeadLetterFilter,
    EraseCustomerRequest,
    GetCustomerRequest,
    ListDeadLettersRequest,
    ListTouchpointsRequest,
)
from touchstone.contacts.v1.profile_pb2 import CUSTOMER_STATUS_ERASED
from touchstone.contacts.v1.touchpoint_pb2 import CustomerRef, ExternalIdentity, IdentityKind
from touchstone.journey.domain import standards_version
from touchstone.journey.standards import default_standards, default_standards_file
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE, MomentScored
from touchstone.journey.v1.journey_service_pb2 import (
    GetJourneyMapRequest,
    ListMomentsRequest,
    ListStandardsRequest,
    ListVisitsRequest,
    ValidateStandardsRequest,
    WatchMomentsRequest,
)
from touchstone.loyalty.v1.loyalty_service_pb2 import WatchValuesRequest
from touchstone.notify.v1.notify_service_pb2 import StepCommand
from touchstone.platform.messaging.topics import TOUCHPOINTS
from touchstone.shared_kernel.journey_maps import load_maps
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients

pytestmark = pytest.mark.e2e


def test_the_standards_in_force_are_listed_and_a_new_file_is_checked_line_by_line(
    clients: Clients,
) -> None:
    listed = clients.journey.ListStandards(ListStandardsRequest(journey_map="phone"), timeout=5)
    assert listed.version == standards_version(default_standards())
    ids = {s.standard_id for s in listed.standards}
    assert "phone.ring.answered_within_3_rings" in ids and all(i.startswith("phone.") for i in ids)
    ring = next(
        s for s in listed.standards if s.standard_id == "phone.ring.answered_within_3_rings"
    )
    assert (ring.measurement, ring.comparator, ring.threshold) == ("rings", "<=", 3)

    good = default_standards_file().read_text()
    checked = clients.journey.ValidateStandards(ValidateStandardsRequest(yaml=good), timeout=5)
    assert checked.valid and checked.version == listed.version and checked.standards >= 17
    bad = good.replace("threshold: 30,", 'threshold: "thirty",', 1)
    refused = clients.journey.ValidateStandards(
        ValidateStandardsRequest(yaml=bad, name="mine.yaml"), timeout=5
    )
    (problem,) = refused.problems
    assert not refused.valid and problem.field.endswith(".measure.threshold")
    assert good.splitlines()[problem.line - 1].strip().startswith("measure:")


def test_moments_and_visits_are_listed_by_stage_time_and_customer(
    clients: Clients, producer: KafkaProducer
) -> None:
    customer_id = f"cust-{uuid.uuid4()}"
    start = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    visit = supermarket_visit(CustomerRef(customer_id=customer_id), start)
    publish(producer, visit, customer_id.encode())
    eventually(lambda: moments_of(clients, customer_id, 6), "six scored moments")
    request = ListMomentsRequest(customer_id=customer_id, stage="enter_store")
    (greeting,) = clients.journey.ListMoments(request, timeout=5).moments
    assert greeting.verdict == VERDICT_LOSE
    window = ListMomentsRequest(customer_id=customer_id)
    window.since.FromDatetime(start + timedelta(minutes=3))
    window.until.FromDatetime(start + timedelta(minutes=9))
    assert [m.stage for m in clients.journey.ListMoments(window, timeout=5).moments] == [
        "enter_store",
        "select_goods",
    ]
    (listed,) = clients.journey.ListVisits(
        ListVisitsRequest(customer_id=customer_id), timeout=5
    ).visits
    assert (listed.visit_id, listed.wins, listed.losses) == (greeting.visit_id, 3, 1)
    assert listed.first_at.ToDatetime(UTC) == start and not listed.moments


def test_the_journey_map_of_a_site_shows_each_stage_as_its_moments_went(
    clients: Clients, producer: KafkaProducer
) -> None:
    site = f"site-{uuid.uuid4().hex[:8]}"
    start = datetime(2026, 11, 19, 2, 0, tzinfo=UTC)  # 09:00 in Ho Chi Minh City
    for _ in range(2):
        customer_id = f"cust-{uuid.uuid4()}"
        visit = supermarket_visit(CustomerRef(customer_id=customer_id), start, site)
        publish(producer, visit, customer_id.encode())
    at_site = ListMomentsRequest(site_id=site)

    def twelve_moments() -> list[MomentScored] | None:
        moments = clients.journey.ListMoments(at_site, timeout=5).moments
        return list(moments) if len(moments) >= 12 else None

    listed = eventually(twelve_moments, "twelve scored moments at the new site")
    request = GetJourneyMapRequest(
        journey_map="supermarket", site_id=site, first_day="2026-11-19", last_day="2026-11-19"
    )
    view = clients.journey.GetJourneyMap(request, timeout=5)
    by_stage = {s.stage: s for s in view.stages}
    assert list(by_stage) == [s.id for s in load_maps()["supermarket"].stages]
    for stage in {m.stage for m in listed}:
        moments = [m for m in listed if m.stage == stage]
        figures = by_stage[stage]
        assert figures.moments == len(moments), stage
        assert figures.losses == sum(m.verdict == VERDICT_LOSE for m in moments), stage
    greeting = by_stage["enter_store"]
    assert (greeting.moments, greeting.losses, greeting.win_rate) == (2, 2, 0.0)
    assert [(b.standard_id, b.broken) for b in greeting.most_broken] == [
        ("supermarket.enter_store.greeted_within_30s", 2)
    ]
    assert by_stage["wait_in_queue"].win_rate == 1.0
    assert view.whole_map.moments == 12


def test_a_watcher_sees_each_moment_it_asked_for_as_it_is_scored(
    clients: Clients, producer: KafkaProducer
) -> None:
    customer_id = f"cust-{uuid.uuid4()}"
    stream = clients.journey.WatchMoments(
        WatchMomentsRequest(customer_id=customer_id, verdict=VERDICT_LOSE), timeout=WAIT_S
    )
    assert not next(stream).HasField("moment")  # the watch is live
    visit = supermarket_visit(CustomerRef(customer_id=customer_id), datetime.now(UTC))
    publish(producer, visit, customer_id.encode())
    watched = next(stream)
    stream.cancel()
    assert (watched.moment.customer_id, watched.moment.stage) == (customer_id, "enter_store")
    assert watched.moment.verdict == VERDICT_LOSE and watched.missed == 0
    assert watched.published_at.ToDatetime(UTC) > datetime.now(UTC) - timedelta(seconds=WAIT_S)


def test_a_value_watcher_hears_what_a_lost_moment_put_at_risk(
    clients: Clients, producer: KafkaProducer
) -> None:
    customer_id = f"cust-{uuid.uuid4()}"
    stream = clients.loyalty.WatchValues(
        WatchValuesRequest(customer_id=customer_id, at_risk_only=True), timeout=WAIT_S
    )
    assert not next(stream).HasField("update")  # the watch is live
    visit = supermarket_visit(CustomerRef(customer_id=customer_id), datetime.now(UTC))
    publish(producer, visit, customer_id.encode())
    watched = next(stream)
    stream.cancel()
    at_risk = watched.update.at_risk
    assert (watched.update.value.customer_id, at_risk.site_id) == (customer_id, "hcm-01")
    assert at_risk.risk_after > at_risk.risk_before and watched.missed == 0


def test_touchpoints_page_through_in_event_time_order(
    clients: Clients, producer: KafkaProducer
) -> None:
    customer_id = f"cust-{uuid.uuid4()}"
    visit = supermarket_visit(
        CustomerRef(customer_id=customer_id), datetime(2026, 11, 1, tzinfo=UTC)
    )
    publish(producer, list(reversed(visit)), customer_id.encode())
    eventually(lambda: moments_of(clients, customer_id, 6), "the visit recorded")
    seen, token = [], ""
    while True:
        page = clients.contacts.ListTouchpoints(
            ListTouchpointsRequest(customer_id=customer_id, page_size=4, page_token=token),
            timeout=5,
        )
        seen += [t.touchpoint.event_id for t in page.touchpoints]
        if not (token := page.next_page_token):
            break
    assert seen == [tp.event_id for tp in visit]


def test_an_erased_customer_leaves_no_personal_data_and_a_replay_brings_none_back(
    stack: LocalStack, clients: Clients, producer: KafkaProducer
) -> None:
    customer_id, (email, phone, name, comment) = registered_with_secrets(clients, "Hoa")
    tag = uuid.uuid4().hex[:8]  # this test's own dead letters
    ref = CustomerRef(identity=ExternalIdentity(kind=IdentityKind.IDENTITY_KIND_EMAIL, value=email))
    # a day ago: a case older than the playbooks' lost_after (30 days) by the wall clock is
    # closed as lost by notify's sweep within a second, and staff could no longer act on it
    visited_at = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    visit = supermarket_visit(ref, visited_at)
    visit[4].feedback.rating, visit[4].feedback.comment = 1, comment
    publish(producer, visit, f"email:{email}".encode())
    shouted = email.upper()  # a producer's own spelling, in a record that will be refused
    refused = supermarket_visit(
        CustomerRef(
            identity=ExternalIdentity(kind=IdentityKind.IDENTITY_KIND_EMAIL, value=shouted)
        ),
        visited_at,
    )[0]
    refused.stage = "teleport"
    producer.send(
        TOUCHPOINTS,
        key=f"email:{shouted}".encode(),
        value=refused.SerializeToString(),
        headers=[("ce_source", f"erasure-{tag}".encode())],
    )
    eventually(
        lambda: (
            clients.contacts.ListDeadLetters(
                ListDeadLettersRequest(filter=DeadLetterFilter(source=f"erasure-{tag}")), timeout=5
            ).total
        ),
        "the refused one",
    )
    eventually(lambda: moments_of(clients, customer_id, 6), "the visit scored")
    cases = eventually(lambda: _cases(clients, customer_id), "the recovery case")
    clients.notify.AcknowledgeStep(  # staff's note may say anything about them
        StepCommand(case_id=cases.cases[0].case_id, n=1, by="duty", note=f"rang {name}"), timeout=5
    )
    eventually(lambda: _value(clients, customer_id), "the lifetime value")
    secrets = [email, shouted, phone, name, comment]
    assert set(tables_holding(stack.settings, secrets)) >= {
        "contacts.touchpoints",
        "contacts.identities",
        "contacts.customers",
        "contacts.dead_letters",
        "notify.case_steps",
    }

    erased = clients.contacts.EraseCustomer(
        EraseCustomerRequest(customer_id=customer_id), timeout=5
    )
    assert (erased.identities_removed, erased.touchpoints_scrubbed) == (2, 6)
    assert erased.dead_letters_scrubbed == 1
    assert not {t for t in tables_holding(stack.settings, secrets) if t.startswith("contacts.")}
    eventually(  # notify kept their address to write to them, and staff's note: it forgets
        lambda: not tables_holding(stack.settings, secrets), "notify forgets them too"
    )
    customer = clients.contacts.GetCustomer(GetCustomerRequest(customer_id=customer_id), timeout=5)
    assert customer.status == CUSTOMER_STATUS_ERASED and not customer.identities
    assert customer.touchpoint_count == 6  # the anonymous facts stay
    eventually(lambda: _valued(clients, customer_id) is None, "loyalty no longer values them")

    # no topic holds them (the address on profile events is sealed with a key now destroyed),
    # but the intake and the dead letters, producers' own bytes, for their retention (30 days)
    assert topics_holding(stack.settings, secrets) == []

    publish(producer, visit, f"email:{email}".encode())  # the log replayed
    sentinel = supermarket_visit(ref, visited_at)[5]
    sentinel.stage, sentinel.visit_id = "collect_bag", visit[0].visit_id
    publish(producer, [sentinel], f"email:{email}".encode())
    eventually(lambda: moments_of(clients, customer_id, 7), "the replay handled")
    assert tables_holding(stack.settings, secrets) == []
    # nor did any service write them to its log or its metrics
    assert found_in_logs_or_metrics(stack.settings, spellings(secrets)) == []
