"""Notify's deliveries when things go wrong: webhooks signed, retried with backoff and
dead-lettered, an attempt a crash left in doubt made again under its key, a backlog of skips
settled at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.builders import T0
from tests.integration.notify_delivery_support import (
    MINUTE,
    FailsOnce,
    Rig,
    lost_by,
    mail_to,
    on_postgres,
    registered,
)
from tests.receivers import WebhookReceiver
from touchstone.notify.deliveries import DEFAULT_DELIVERY_POLICY, delivery_id_for
from touchstone.notify.domain import case_id_for
from touchstone.notify.ports import Attempt, Settled
from touchstone.notify.sender import Sender
from touchstone.platform.messaging.topics import (
    NOTIFY_DLQ,
)
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.embedded import free_port
from touchstone.tools.dev.mail_catcher import MailCatcher


@pytest.fixture(scope="module")
def mail() -> Iterator[MailCatcher]:
    catcher = MailCatcher("127.0.0.1", free_port()).start()
    yield catcher
    catcher.stop()


def test_a_webhook_is_signed_retried_with_backoff_and_delivered_once(
    fresh_database: Settings, mail: MailCatcher
) -> None:
    hooks = WebhookReceiver(script=[503, 503])

    async def scenario(rig: Rig) -> None:
        await rig.feed(lost_by("chi", "v1"))
        due = T0 + 10 * MINUTE
        assert await rig.drain("webhook", due) == 1  # 503
        assert await rig.drain("webhook", due + timedelta(seconds=0.99)) == 0  # backing off
        assert await rig.drain("webhook", due + timedelta(seconds=2)) == 1  # 503 again
        assert await rig.drain("webhook", due + timedelta(seconds=3)) == 0
        assert await rig.drain("webhook", due + timedelta(seconds=7)) == 1  # accepted
        assert hooks.refused == [503, 503]
        ((headers, body),) = hooks.accepted
        delivery_id = delivery_id_for(case_id_for("chi", "v1"), 2, "webhook")
        assert headers["Idempotency-Key"] == delivery_id and headers["Touchstone-Attempt"] == "3"
        assert (body["action"], body["customer_id"], body["language"]) == ("follow_up", "chi", "en")
        assert "@" not in str(body)  # no personal data
        assert (await rig.rows())["chi/webhook"][:3] == (
            "sent",
            "attempt 2: webhook answered HTTP 503",
            3,
        )

    on_postgres(fresh_database, mail, hooks, scenario)


def test_a_webhook_refused_or_failing_past_the_limit_is_dead_lettered(
    fresh_database: Settings, mail: MailCatcher
) -> None:
    hooks = WebhookReceiver(script=[400, 500, 500, 500])

    async def scenario(rig: Rig) -> None:
        await rig.feed(lost_by("dung", "v1"))
        await rig.drain("webhook", T0 + 10 * MINUTE)  # 400: refused for good
        await rig.feed(lost_by("em", "v1"))
        for seconds in (0, 60, 120):
            await rig.drain("webhook", T0 + 10 * MINUTE + timedelta(seconds=seconds))
        rows = await rig.rows()
        assert rows["dung/webhook"][:2] == ("dead", "attempt 1: webhook answered HTTP 400")
        assert rows["em/webhook"][:3] == ("dead", "attempt 3: webhook answered HTTP 500", 3)
        dead = [json.loads(v) for v in await rig.outbox(NOTIFY_DLQ)]
        assert [(d["customer_id"], d["action"]) for d in dead] == [
            ("dung", "follow_up"),
            ("em", "follow_up"),
        ]
        assert hooks.accepted == []

    policy = replace(DEFAULT_DELIVERY_POLICY, max_attempts=3)
    on_postgres(fresh_database, mail, hooks, scenario, policy)


def test_an_attempt_a_crash_left_in_doubt_is_made_again_with_the_same_key(
    fresh_database: Settings, mail: MailCatcher
) -> None:
    async def scenario(rig: Rig) -> None:
        await rig.feed(lost_by("giang", "v1"))
        due = T0 + 10 * MINUTE
        (first,) = await rig.deliveries.take("webhook", due)  # in flight ... and the process dies
        assert isinstance(first, Attempt) and first.number == 1
        assert await rig.deliveries.take("webhook", due + 29 * MINUTE / 60) == []  # leased
        (again,) = await rig.deliveries.take("webhook", due + timedelta(seconds=31))
        assert isinstance(again, Attempt) and again.in_doubt
        assert (again.delivery_id, again.number) == (first.delivery_id, 2)

    on_postgres(fresh_database, mail, WebhookReceiver(), scenario)


def test_an_email_that_failed_once_goes_out_on_its_retry(
    fresh_database: Settings, mail: MailCatcher
) -> None:
    async def scenario(rig: Rig) -> None:
        await rig.know(registered("hoa", "hoa@example.vn"))
        await rig.feed(lost_by("hoa", "v1"))
        flaky = FailsOnce(rig.sender.channels["email"])
        sender = Sender(rig.deliveries, {"email": flaky}, clock=lambda: rig.clock[0])
        rig.clock[0] = T0 + 10 * MINUTE
        assert await sender.send_next("email")  # 421
        rig.clock[0] = T0 + 11 * MINUTE
        assert await sender.send_next("email")  # its retry, not "the same message again"
        assert (await rig.rows())["hoa/email"][:3] == (
            "sent",
            "attempt 1: SMTP 421: the server refused the message",
            2,
        )
        assert len(mail_to(mail, "hoa@example.vn")) == 1

    on_postgres(fresh_database, mail, WebhookReceiver(), scenario)


def test_one_take_settles_a_backlog_of_skips_and_stops_at_the_first_attempt(
    fresh_database: Settings, mail: MailCatcher
) -> None:
    async def scenario(rig: Rig) -> None:
        people = ("lam", "mai", "nga")
        await rig.know(*(registered(p, f"{p}@example.vn", in_clear=True) for p in people))
        long_ago = T0 - timedelta(days=8)  # a backlog: written about no more
        await rig.feed(*(lost_by(p, f"old-{n}", at=long_ago) for p in people for n in (1, 2)))
        await rig.feed(*(lost_by(p, "now") for p in people))
        rig.clock[0] = T0 + 10 * MINUTE
        taken = await rig.deliveries.take("email", rig.clock[0])
        skipped = [t for t in taken if isinstance(t, Settled)]
        assert {t.reason for t in skipped} == {"the visit was too long ago to write about"}
        assert len(skipped) == 6  # each old visit's email, in one transaction
        assert isinstance(taken[-1], Attempt) and sum(isinstance(t, Attempt) for t in taken) == 1
        assert await rig.drain("email", rig.clock[0]) == 2  # the other two, one take each
        statuses = sorted(row[2] for row in await rig.all_rows() if row[1] == "email")
        assert statuses == ["sending"] + ["sent"] * 2 + ["skipped"] * 6

    on_postgres(fresh_database, mail, WebhookReceiver(), scenario)
