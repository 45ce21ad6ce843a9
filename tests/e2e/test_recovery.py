"""Recovery end to end, on the real broker, Postgres and an SMTP server: a supermarket visit with
a 45 s greeting and a 12-minute queue opens one case with the playbook's steps, sends one apology
email in the customer's language, raises a duty-manager task, escalates the step staff did not
take in time; the next visit's quick greeting is the customer returning, not a recovery; the
customer's good feedback after the apology closes it as RECOVERED
(services/notify/touchstone/notify/recovery.py)."""

from __future__ import annotations

import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from kafka import KafkaProducer

from tests.conftest import running_stack
from tests.e2e.test_whole_journey import WAIT_S, eventually, publish
from touchstone.contacts.v1.contacts_service_pb2 import RegisterCustomerRequest
from touchstone.contacts.v1.profile_pb2 import (
    CONSENT_CHANNEL_EMAIL,
    ChannelConsent,
    Consent,
    Profile,
)
from touchstone.contacts.v1.touchpoint_pb2 import (
    Channel,
    CustomerRef,
    ExternalIdentity,
    IdentityKind,
    Touchpoint,
)
from touchstone.notify.v1.events_pb2 import (
    CASE_STATUS_OPEN,
    CASE_STATUS_RECOVERED,
    TASK_STATE_OPEN,
    CaseEvent,
)
from touchstone.notify.v1.notify_service_pb2 import (
    GetCaseRequest,
    ListCasesRequest,
    WatchCasesRequest,
    WatchTasksRequest,
)
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.embedded import free_port
from touchstone.tools.dev.mail_catcher import MailCatcher
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def mail() -> Iterator[MailCatcher]:
    catcher = MailCatcher("127.0.0.1", free_port()).start()
    yield catcher
    catcher.stop()


@pytest.fixture(scope="module")
def stack(infra: Settings, mail: MailCatcher) -> Iterator[LocalStack]:
    with running_stack(infra, smtp_port=mail.port, sweep_every_s=0.5) as local:
        yield local


def touchpoint(
    customer: CustomerRef, visit_id: str, stage: str, at: datetime, **measurements: float
) -> Touchpoint:
    tp = Touchpoint(
        event_id=str(uuid.uuid4()),
        source="e2e",
        customer=customer,
        channel=Channel.CHANNEL_IN_STORE,
        site_id="hcm-01",
        journey_map="supermarket",
        stage=stage,
        measurements=measurements,
        visit_id=visit_id,
    )
    tp.occurred_at.FromDatetime(at)
    return tp


def next_event(stream: grpc.Future, kind: str, about: str) -> CaseEvent:
    """The next case event of this kind about this customer or case on a WatchCases stream
    (other tests' leftovers may pass by on the shared topics)."""
    for response in stream:
        event = response.event
        change = event.WhichOneof("change")
        if change == kind and about in (getattr(event, kind).case_id, event.opened.customer_id):
            return event
    raise AssertionError(f"the stream ended before a {kind} event")


def test_a_bad_visit_is_apologised_for_escalated_and_recovered_by_good_feedback_after(
    stack: LocalStack, clients: Clients, mail: MailCatcher
) -> None:
    address = f"lan-{uuid.uuid4().hex[:8]}@example.vn"
    registered = clients.contacts.RegisterCustomer(
        RegisterCustomerRequest(
            identities=[ExternalIdentity(kind=IdentityKind.IDENTITY_KIND_EMAIL, value=address)],
            profile=Profile(display_name="Lan"),
            consent=Consent(
                channels=[ChannelConsent(channel=CONSENT_CHANNEL_EMAIL, granted=True)],
                preferred_language="vi",
            ),
        ),
        timeout=5,
    )
    customer_id = registered.customer_id
    customer = CustomerRef(customer_id=customer_id)
    cases = clients.notify.WatchCases(WatchCasesRequest(site_id="hcm-01"), timeout=WAIT_S)
    duty = clients.notify.WatchTasks(
        WatchTasksRequest(site_id="hcm-01", owner="duty_manager"), timeout=WAIT_S
    )
    assert not next(cases).HasField("event") and not next(duty).HasField("event")  # live

    # 30 minutes ago: greeted after 45 s, then 12 minutes in the queue; nobody apologised since
    began = datetime.now(UTC) - timedelta(minutes=30)
    first = f"visit-{uuid.uuid4()}"
    producer = KafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap, linger_ms=2)
    greeting = touchpoint(customer, first, "enter_store", began, greeting_seconds=45)
    queue = touchpoint(
        customer, first, "wait_in_queue", began + timedelta(minutes=14), wait_seconds=720
    )
    publish(producer, [greeting, queue], customer_id.encode())

    opened = next_event(cases, "opened", customer_id).opened
    assert opened.customer_id == customer_id and opened.playbook == "on_site"
    assert [(s.action, s.owner, s.channel) for s in opened.steps] == [
        ("apologise", "staff", "in_person"),
        ("apologise", "system", "email"),
        ("fix", "staff", "in_person"),
        ("ask_opinion", "staff", "in_person"),
        ("correct_cause", "staff", "task"),
        ("follow_up", "system", "email"),
    ]
    escalated = next_event(cases, "escalated", opened.case_id).escalated
    assert (escalated.case_id, escalated.reason, escalated.n) == (opened.case_id, "overdue_step", 1)
    task = next(r.event.task for r in duty if r.event.task.case_id == opened.case_id)
    assert (task.owner, task.reason, task.state) == (
        "duty_manager",
        "overdue_step",
        TASK_STATE_OPEN,
    )

    def apology() -> list:
        return [m for m in mail.received() if m["To"] == address]

    (email,) = eventually(apology, "the apology email")
    assert email["Content-Language"] == "vi"
    assert email["Subject"].startswith("Chúng tôi xin lỗi về lần ghé thăm ngày")

    listed = clients.notify.ListCases(ListCasesRequest(customer_id=customer_id), timeout=5)
    (case,) = listed.cases  # the queue joined the greeting's case
    case = clients.notify.GetCase(GetCaseRequest(case_id=case.case_id), timeout=5)
    assert case.status == CASE_STATUS_OPEN and len(case.moment_ids) == 2
    written = case.deliveries[0]
    assert (written.channel, written.status, written.language) == ("email", "sent", "vi")
    assert case.steps[1].status == "done" and case.steps[1].taken_by == "system"
    overdue = ListCasesRequest(site_id="hcm-01", owner="duty_manager", overdue=True, page_size=500)
    assert case.case_id in {c.case_id for c in clients.notify.ListCases(overdue, timeout=5).cases}

    # the next visit, a quick greeting: the customer is back, but a win shows no recovery
    second = f"visit-{uuid.uuid4()}"
    quick = touchpoint(customer, second, "enter_store", datetime.now(UTC), greeting_seconds=8)
    publish(producer, [quick], customer_id.encode())

    def returned() -> GetCaseRequest | None:
        now = clients.notify.GetCase(GetCaseRequest(case_id=case.case_id), timeout=5)
        return now if now.returned_by else None

    back = eventually(returned, "the customer's return kept on the case")
    assert back.status == CASE_STATUS_OPEN and not back.recovered_by
    # after the apology, the customer rates the store 5 of 5 at the till: that shows it worked
    rated = touchpoint(customer, second, "pay", datetime.now(UTC))
    rated.feedback.rating = 5
    rated.observations.append("thanked")
    publish(producer, [rated], customer_id.encode())
    producer.close()
    recovered = next_event(cases, "recovered", case.case_id).recovered
    cases.cancel()
    duty.cancel()
    assert (recovered.case_id, recovered.how) == (case.case_id, "feedback")
    assert list(recovered.moment_ids) == list(case.moment_ids)
    closed = clients.notify.GetCase(GetCaseRequest(case_id=case.case_id), timeout=5)
    assert closed.status == CASE_STATUS_RECOVERED
    happened = [e.what for e in closed.timeline]
    assert happened.count("lost_moment") == 2 and happened[-1] == "recovered"
    assert {"step_due", "escalated", "message_sent"} <= set(happened)
    assert len(apology()) == 1  # one apology, and nothing more to this customer today

    # what operators see: the services' metrics, with nobody's id or address in them
    scraped = {
        name: urllib.request.urlopen(
            f"http://127.0.0.1:{stack.settings.metrics_ports[name]}/metrics", timeout=5
        )
        .read()
        .decode()
        for name in ("contacts", "journey", "notify")
    }
    assert (
        'touchstone_events_consumed_total{service="journey",topic="contacts.recorded.v1"}'
        in (scraped["journey"])
    )
    assert (
        'touchstone_journey_moments_total{journey_map="supermarket",stage="enter_store"'
        in (scraped["journey"])
    )
    assert 'touchstone_notify_deliveries_total{channel="email",outcome="sent"}' in scraped["notify"]
    assert 'touchstone_notify_cases{status="recovered"}' in scraped["notify"]
    assert 'method="GetCase"' in scraped["notify"] and 'code="OK"' in scraped["notify"]
    assert "touchstone_consumer_lag_records{partition=" in scraped["contacts"]
    for text in scraped.values():
        assert customer_id not in text and address not in text
