"""Killing notify with kill -9 while it sends a batch of 1,000 deliveries, then restarting it:
every delivery arrives at the SMTP server and the webhook receiver, each under its own key, and
none is lost. Only an attempt in flight at the kill can be in doubt; it is made again after its
lease with the same key (Message-ID, Idempotency-Key), which is how receivers know it."""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from kafka import KafkaProducer

from tests.conftest import running_stack
from tests.e2e.test_whole_journey import eventually
from tests.integration.notify_delivery_support import lost_by, registered, told_key
from tests.receivers import SECRET, WebhookReceiver
from touchstone.journey.v1.events_pb2 import MomentScored
from touchstone.notify.deliveries import delivery_id_for
from touchstone.notify.domain import case_id_for
from touchstone.platform.messaging.topics import CONTACTS_KEYS, CONTACTS_PROFILES, JOURNEY_MOMENTS
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.embedded import free_port
from touchstone.tools.dev.mail_catcher import MailCatcher

CUSTOMERS = 500  # each gets an email and a webhook: 1,000 deliveries
PLAYBOOK = """
rules: [{playbook: written}]
playbooks:
  written:
    - {action: apologise, owner: system, channel: email, due: {minutes: 1}}
    - {action: follow_up, owner: system, channel: webhook, due: {minutes: 1}}
"""


@pytest.fixture()
def receivers() -> Iterator[tuple[MailCatcher, WebhookReceiver]]:
    mail = MailCatcher("127.0.0.1", free_port()).start()
    hooks = WebhookReceiver().start()
    yield mail, hooks
    hooks.stop()
    mail.stop()


def statuses(settings: Settings, prefix: str) -> dict[str, int]:
    """How many of these customers' deliveries are in each status (the topics are shared with
    other tests: moments an earlier stack left unconsumed may open cases here too)."""
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM notify.deliveries WHERE customer_id LIKE %s"
            " GROUP BY status",
            (f"{prefix}%",),
        ).fetchall()
    return {status: count for status, count in rows}


def contacts_known(settings: Settings) -> int:
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM notify.contacts").fetchone()
    return int(row[0]) if row else 0


def test_notify_killed_mid_batch_loses_no_delivery_and_repeats_none_under_a_new_key(
    infra: Settings, tmp_path: Path, receivers: tuple[MailCatcher, WebhookReceiver]
) -> None:
    mail, hooks = receivers
    playbooks = tmp_path / "playbooks.yaml"
    playbooks.write_text(PLAYBOOK, encoding="utf-8")
    run = uuid.uuid4().hex[:8]
    customers = [f"crash-{run}-{n:04d}" for n in range(CUSTOMERS)]
    changes = {
        "smtp_port": mail.port,
        "webhook_url": hooks.url,
        "webhook_secret": SECRET,
        "delivery_lease_s": 2.0,
        "playbooks_file": playbooks,
    }
    with running_stack(infra, ("notify",), **changes) as stack:
        producer = KafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap, linger_ms=5)
        for customer in customers:
            producer.send(CONTACTS_KEYS, key=customer.encode(), value=told_key(customer))
            producer.send(CONTACTS_PROFILES, key=customer.encode(), value=registered(customer))
        producer.flush()
        eventually(lambda: contacts_known(stack.settings) >= CUSTOMERS, "every contact folded")

        lost_at = datetime.now(UTC) - timedelta(minutes=2)  # the steps are due at once
        for customer in customers:
            value = lost_by(customer, "v1", lost_at)
            assert MomentScored.FromString(value).customer_id == customer
            producer.send(JOURNEY_MOMENTS, key=customer.encode(), value=value)
        producer.flush()
        producer.close()

        eventually(lambda: len(mail.received()) >= CUSTOMERS // 3, "a third of the emails", 60)
        stack.services.stop(("notify",), sig=signal.SIGKILL)  # mid-batch
        at_kill = (len(mail.received()), len(hooks.accepted))
        assert at_kill[0] < CUSTOMERS  # it really was killed mid-batch
        stack.services.start(("notify",))
        stack.services.wait_until_serving()

        def all_sent() -> bool:
            return statuses(stack.settings, f"crash-{run}-") == {"sent": 2 * CUSTOMERS}

        started = time.monotonic()
        eventually(all_sent, "every delivery sent", 120)
        drained_s = time.monotonic() - started

    expected_emails = {
        f"<{delivery_id_for(case_id_for(c, 'v1'), 1, 'email')}@touchstone>" for c in customers
    }
    expected_hooks = {delivery_id_for(case_id_for(c, "v1"), 2, "webhook") for c in customers}
    emails = {k: n for k, n in mail.by_message_id().items() if k in expected_emails}
    webhooks = {k: n for k, n in hooks.by_key().items() if k in expected_hooks}
    assert set(emails) == expected_emails  # every email arrived
    assert set(webhooks) == expected_hooks  # every webhook arrived
    repeats = sum(emails.values()) - len(emails) + sum(webhooks.values()) - len(webhooks)
    print(
        f"\nkilled after {at_kill[0]} emails and {at_kill[1]} webhooks; the rest sent in"
        f" {drained_s:.1f}s after the restart; attempts repeated under their own key: {repeats}"
    )
    assert repeats <= 2  # at most the one attempt in flight per channel at the kill
