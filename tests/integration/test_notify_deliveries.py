"""Notify's channels on Postgres, a real SMTP server and a real webhook receiver: given cases
whose playbooks send messages → when the sender drains the delivery outbox → then each message
goes out once, in the customer's language, with their consent and outside their quiet hours,
never twice and never beyond the daily cap; webhooks are signed, retried with backoff, and
dead-lettered; an attempt a crash left in doubt is repeated with the same key."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from random import Random
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.builders import T0, moment, record
from tests.receivers import SECRET, WebhookReceiver
from touchstone.contacts.v1 import profile_pb2 as profile_pb
from touchstone.contacts.v1.touchpoint_pb2 import IDENTITY_KIND_EMAIL, ExternalIdentity
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE, MomentScored
from touchstone.notify.channels import EmailChannel, Permanent, Transient, WebhookChannel
from touchstone.notify.deliveries import DEFAULT_DELIVERY_POLICY, DeliveryPolicy, delivery_id_for
from touchstone.notify.delivery_store import PostgresDeliveries
from touchstone.notify.domain import Win, case_id_for
from touchstone.notify.handlers import OpenRecoveryCases
from touchstone.notify.messages import load_templates
from touchstone.notify.playbooks import parse_playbooks
from touchstone.notify.ports import Attempt, Settled
from touchstone.notify.sender import Sender
from touchstone.notify.store import PostgresNotifyStore
from touchstone.notify.v1.events_pb2 import CaseEvent
from touchstone.platform.messaging.topics import (
    CONTACTS_KEYS,
    CONTACTS_PROFILES,
    NOTIFY_CASES,
    NOTIFY_DLQ,
)
from touchstone.platform.persistence.pg import open_pool
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.security.sealing import seal
from touchstone.shared_kernel.calendar_file import load_calendars
from touchstone.tools.dev.embedded import free_port
from touchstone.tools.dev.mail_catcher import MailCatcher

MINUTE = timedelta(minutes=1)
PLAYBOOKS = parse_playbooks(
    """
rules: [{playbook: written}]
playbooks:
  written:
    - {action: apologise, owner: system, channel: email, due: {minutes: 10}}
    - {action: follow_up, owner: system, channel: webhook, due: {minutes: 10}}
""",
    "written.yaml",
)


@pytest.fixture(scope="module")
def mail() -> Iterator[MailCatcher]:
    catcher = MailCatcher("127.0.0.1", free_port()).start()
    yield catcher
    catcher.stop()


def key_of(customer_id: str) -> bytes:
    """The customer's key (contacts makes a random one; any 32 bytes do here)."""
    return hashlib.sha256(customer_id.encode()).digest()


def told_key(customer_id: str, destroyed: bool = False) -> bytes:
    """contacts' record of the customer's key on contacts.keys.v1 (keyless: destroyed)."""
    key = b"" if destroyed else key_of(customer_id)
    return profile_pb.CustomerKey(customer_id=customer_id, key=key).SerializeToString()


def registered(
    customer_id: str,
    email: str = "",
    language: str = "vi",
    consent: bool = True,
    quiet: tuple[str, str] | None = None,
    in_clear: bool = False,
) -> bytes:
    """contacts' CustomerRegistered for a customer with an email address and consent: the
    address sealed with the customer's key, or (in_clear) told as events before sealing did."""
    consent_pb = profile_pb.Consent(preferred_language=language)
    if consent:
        consent_pb.channels.add(channel=profile_pb.CONSENT_CHANNEL_EMAIL, granted=True)
    if quiet:
        consent_pb.quiet_hours.CopyFrom(
            profile_pb.QuietHours(start=quiet[0], end=quiet[1], time_zone="Asia/Ho_Chi_Minh")
        )
    event = profile_pb.CustomerEvent(event_id=f"reg-{customer_id}")
    event.registered.customer_id = customer_id
    address = email or f"{customer_id}@example.com"
    if in_clear:
        told = ExternalIdentity(kind=IDENTITY_KIND_EMAIL, value=address)
        event.registered.identities.append(told)
    else:
        sealed = seal(key_of(customer_id), customer_id, IDENTITY_KIND_EMAIL, address)
        event.registered.sealed_identities.append(sealed)
    event.registered.consent.CopyFrom(consent_pb)
    return event.SerializeToString()


def erased(customer_id: str) -> bytes:
    event = profile_pb.CustomerEvent(event_id=f"erase-{customer_id}")
    event.erased.customer_id = customer_id
    return event.SerializeToString()


def lost_by(customer_id: str, visit: str, at: datetime = T0, site: str = "hcm-01") -> bytes:
    event = MomentScored.FromString(moment(VERDICT_LOSE, f"m-{customer_id}-{visit}", visit, at))
    event.customer_id, event.site_id = customer_id, site
    return event.SerializeToString()


@dataclass
class Rig:
    store: PostgresNotifyStore
    deliveries: PostgresDeliveries
    sender: Sender
    clock: list[datetime]

    async def feed(self, *values: bytes, topic: str = "journey.moments.v1") -> None:
        handler = OpenRecoveryCases(self.store, playbooks=PLAYBOOKS)
        await handler.handle([record(v, n, topic) for n, v in enumerate(values)])

    async def know(self, *events: bytes) -> None:
        """contacts' profile events, each registered customer's key told first (as contacts'
        outbox tells it)."""
        ids = [profile_pb.CustomerEvent.FromString(e).registered.customer_id for e in events]
        await self.feed(*(told_key(c) for c in ids if c), topic=CONTACTS_KEYS)
        await self.feed(*events, topic=CONTACTS_PROFILES)

    async def drain(self, channel: str, at: datetime) -> int:
        """Send everything due on the channel at `at`; how many deliveries were taken."""
        self.clock[0] = at
        taken = 0
        while moved := await self.sender.send_next(channel):
            taken += moved
        return taken

    async def all_rows(self) -> list[tuple[Any, ...]]:
        """Every delivery: customer, channel, status, reason, attempts, language."""
        async with self.store.pool.connection() as conn:
            return await (
                await conn.execute(
                    "SELECT customer_id, channel, status, reason, attempts, language"
                    " FROM notify.deliveries ORDER BY customer_id, channel, moment_at"
                )
            ).fetchall()

    async def rows(self) -> dict[str, tuple[Any, ...]]:
        """Each customer's delivery by channel (one each)."""
        return {f"{r[0]}/{r[1]}": tuple(r[2:]) for r in await self.all_rows()}

    async def outbox(self, topic: str) -> list[bytes]:
        """The values waiting in notify's outbox for the topic."""
        async with self.store.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT value FROM notify.outbox WHERE topic = %s ORDER BY id", (topic,)
                )
            ).fetchall()
        return [bytes(v) for (v,) in rows]


def on_postgres(
    database: Settings,
    mail: MailCatcher,
    hooks: WebhookReceiver,
    scenario: Callable[[Rig], Awaitable[None]],
    policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY,
) -> None:
    async def within() -> None:
        pool = open_pool(database.database_url)
        await pool.open(wait=True)
        clock = [T0]
        deliveries = PostgresDeliveries(
            pool, load_templates(), load_calendars(), policy, rng=Random(7)
        )
        channels = {
            "email": EmailChannel(mail.host, mail.port, "Touchstone <care@touchstone.local>"),
            "webhook": WebhookChannel(hooks.url, SECRET),
        }
        sender = Sender(deliveries, channels, clock=lambda: clock[0])
        try:
            await scenario(Rig(PostgresNotifyStore(pool), deliveries, sender, clock))
        finally:
            for channel in channels.values():
                await channel.close()
            await pool.close()

    hooks.start()
    try:
        asyncio.run(within())
    finally:
        hooks.stop()


def mail_to(mail: MailCatcher, address: str) -> list[Any]:
    return [m for m in mail.received() if m["To"] == address]


def test_an_apology_email_goes_out_once_in_the_customers_language_and_does_its_step(
    fresh_database: Settings, mail: MailCatcher
) -> None:
    async def scenario(rig: Rig) -> None:
        await rig.know(registered("lan", "lan@example.vn"))
        await rig.feed(lost_by("lan", "v1"))
        assert await rig.drain("email", T0 + 9 * MINUTE) == 0  # due at +10
        assert await rig.drain("email", T0 + 10 * MINUTE) == 1
        assert await rig.drain("email", T0 + 11 * MINUTE) == 0
        (sent,) = mail_to(mail, "lan@example.vn")
        case_id = case_id_for("lan", "v1")
        assert sent["Message-ID"] == f"<{delivery_id_for(case_id, 1, 'email')}@touchstone>"
        assert sent["Subject"] == "Chúng tôi xin lỗi về lần ghé thăm ngày 2026-11-20"
        assert sent["Content-Language"] == "vi" and "hcm-01" in sent.get_content()
        case = await rig.store.get_case(case_id)
        assert case is not None
        assert (case.steps[0].status, case.steps[0].taken_by) == ("done", "system")
        email, webhook = case.deliveries
        assert (email.channel, email.status, email.attempts, email.language) == (
            "email",
            "sent",
            1,
            "vi",
        )
        assert email.sent_at == T0 + 10 * MINUTE
        assert (webhook.channel, webhook.status) == ("webhook", "pending")  # not drained here
        (taken,) = [CaseEvent.FromString(v).step_taken for v in await rig.outbox(NOTIFY_CASES)]
        assert (taken.n, taken.by, taken.completed) == (1, "system", True)
        await rig.feed(erased("lan"), topic=CONTACTS_PROFILES)  # nothing of the address stays
        async with rig.store.pool.connection() as conn:
            kept = await (
                await conn.execute(
                    "SELECT (SELECT count(*) FROM notify.contacts),"
                    " (SELECT count(*) FROM notify.deliveries WHERE content_hash <> ''),"
                    " (SELECT count(*) FROM notify.customer_keys)"
                )
            ).fetchone()
        assert kept == (0, 0, 0)

    on_postgres(fresh_database, mail, WebhookReceiver(), scenario)


def test_an_apology_sent_after_the_customer_returned_lets_a_later_clean_visit_recover_it(
    fresh_database: Settings, mail: MailCatcher
) -> None:
    """The step the email does is the case's apology: news after the customer's return reaches
    the case again once it is sent (recovery.moves_until)."""

    async def scenario(rig: Rig) -> None:
        await rig.know(registered("lan", "lan@example.vn"))
        await rig.feed(lost_by("lan", "v1"))
        await rig.store.settle([Win("w5", "lan", T0 + 5 * MINUTE, "win", "hcm-01", "v2")], [], [])
        assert await rig.drain("email", T0 + 10 * MINUTE) == 1
        clean = Win("v12", "lan", T0 + 12 * MINUTE, "visit", "hcm-01", "v3")
        await rig.store.settle([clean], [], [])
        case = await rig.store.get_case(case_id_for("lan", "v1"))
        assert case is not None
        assert (case.status, case.recovered_by, case.returned_by) == ("recovered", "v12", "w5")

    on_postgres(fresh_database, mail, WebhookReceiver(), scenario)


def test_consent_quiet_hours_and_erasure_hold_an_email_back(
    fresh_database: Settings, mail: MailCatcher
) -> None:
    evening = T0 + timedelta(hours=6)  # 22:00 in Ho Chi Minh City

    async def scenario(rig: Rig) -> None:
        await rig.know(
            registered("no-consent", consent=False),
            registered("sleeping", "sleeping@example.vn", quiet=("21:00", "08:00")),
            registered("gone"),
            erased("gone"),
        )
        await rig.feed(lost_by("no-consent", "v1", evening), lost_by("sleeping", "v1", evening))
        await rig.feed(lost_by("gone", "v1", evening), lost_by("unknown", "v1", evening))
        assert await rig.drain("email", evening + 10 * MINUTE) == 4
        rows = await rig.rows()
        assert rows["no-consent/email"][:2] == ("skipped", "no consent to email")
        assert rows["gone/email"][:2] == ("skipped", "the customer was erased")
        assert rows["unknown/email"][:2] == ("skipped", "no email address known")
        assert rows["sleeping/email"][:3] == ("pending", "", 0)  # deferred, not attempted
        assert mail_to(mail, "sleeping@example.vn") == []
        assert await rig.drain("email", T0 + timedelta(hours=16) - MINUTE) == 0  # 07:59 there
        assert await rig.drain("email", T0 + timedelta(hours=16)) == 1  # 08:00 there
        assert len(mail_to(mail, "sleeping@example.vn")) == 1

    on_postgres(fresh_database, mail, WebhookReceiver(), scenario)


def test_a_sealed_address_is_opened_only_to_send_waits_for_its_key_and_dies_with_it(
    fresh_database: Settings, mail: MailCatcher
) -> None:
    async def scenario(rig: Rig) -> None:
        await rig.feed(  # the profile events before the keys: two topics, any order
            registered("tam", "tam@example.vn"),
            registered("vy", "vy@example.vn"),
            registered("kim", "kim@example.vn"),
            topic=CONTACTS_PROFILES,
        )
        await rig.feed(told_key("vy"), told_key("vy", destroyed=True), topic=CONTACTS_KEYS)
        wrong = profile_pb.CustomerKey(customer_id="kim", key=key_of("tam"))
        await rig.feed(wrong.SerializeToString(), topic=CONTACTS_KEYS)
        await rig.feed(*(lost_by(c, "v1") for c in ("tam", "vy", "kim")))
        assert await rig.drain("email", T0 + 10 * MINUTE) == 3
        rows = await rig.rows()
        assert rows["tam/email"][:3] == ("pending", "", 0)  # deferred: its key is not heard yet
        assert rows["vy/email"][:3] == ("pending", "", 0)  # destroyed; the erasure not heard yet
        assert rows["kim/email"][:2] == (
            "skipped",
            "the address cannot be read: the seal does not open with this customer's key",
        )
        async with rig.store.pool.connection() as conn:
            clear = await (
                await conn.execute(
                    "SELECT count(*) FROM notify.contacts t WHERE t::text LIKE '%example.vn%'"
                )
            ).fetchone()
        assert clear == (0,)  # kept sealed

        await rig.feed(told_key("tam"), topic=CONTACTS_KEYS)
        await rig.feed(erased("vy"), topic=CONTACTS_PROFILES)
        assert await rig.drain("email", T0 + 10 * MINUTE + DEFAULT_DELIVERY_POLICY.key_wait) == 2
        rows = await rig.rows()
        assert rows["tam/email"][:3] == ("sent", "", 1)
        assert rows["vy/email"][:2] == ("skipped", "the customer was erased")
        assert [m["To"] for m in mail.received() if m["To"].endswith("example.vn")][-1:] == [
            "tam@example.vn"
        ]
        assert mail_to(mail, "vy@example.vn") == mail_to(mail, "kim@example.vn") == []

    on_postgres(fresh_database, mail, WebhookReceiver(), scenario)


def test_the_same_message_never_goes_twice_and_the_daily_cap_holds(
    fresh_database: Settings, mail: MailCatcher
) -> None:
    async def scenario(rig: Rig) -> None:
        await rig.know(registered("binh", "binh@example.vn"))
        # two visits the same day at the same site: the same apology, word for word
        await rig.feed(lost_by("binh", "v1"), lost_by("binh", "v2", T0 + MINUTE))
        # then two visits to other sites: different messages, the second over the cap of 2
        await rig.feed(lost_by("binh", "v3", T0 + 2 * MINUTE, site="hn-02"))
        await rig.feed(lost_by("binh", "v4", T0 + 3 * MINUTE, site="dn-03"))
        assert await rig.drain("email", T0 + 15 * MINUTE) == 4
        emails = [r[2:4] for r in await rig.all_rows() if r[1] == "email"]
        assert emails == [
            ("sent", ""),
            ("skipped", "the same message was already sent to the customer"),
            ("sent", ""),
            ("skipped", "the daily cap of 2 messages was reached"),
        ]
        assert len(mail_to(mail, "binh@example.vn")) == 2

    policy = replace(DEFAULT_DELIVERY_POLICY, messages_per_day=2)
    on_postgres(fresh_database, mail, WebhookReceiver(), scenario, policy)


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


class FailsOnce:
    """A channel whose first attempt fails as a busy server's would."""

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.failed = False

    async def send(self, attempt: Attempt) -> None:
        if not self.failed:
            self.failed = True
            raise Transient("SMTP 421: the server refused the message")
        await self.channel.send(attempt)

    async def close(self) -> None:
        await self.channel.close()


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


def test_a_message_about_a_visit_long_past_is_not_sent(
    fresh_database: Settings, mail: MailCatcher
) -> None:
    async def scenario(rig: Rig) -> None:
        await rig.know(registered("khanh", "khanh@example.vn", in_clear=True))  # before sealing
        await rig.feed(lost_by("khanh", "v1"))  # say, a replay of old moments
        assert await rig.drain("email", T0 + timedelta(days=8)) == 1
        rows = await rig.rows()
        assert rows["khanh/email"][:2] == ("skipped", "the visit was too long ago to write about")
        assert mail_to(mail, "khanh@example.vn") == []

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


class RefusesEveryone:
    """An SMTP server that refuses every recipient, repeating the address as servers do."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        return f"550 5.1.1 <{address}>: no such user here"


def test_a_refused_address_never_appears_in_the_reason() -> None:
    port = free_port()
    controller = Controller(RefusesEveryone(), hostname="127.0.0.1", port=port)
    controller.start()
    channel = EmailChannel("127.0.0.1", port, "Touchstone <care@touchstone.local>")
    attempt = Attempt(
        "d-1",
        "email",
        "case-1",
        "lan",
        "hcm-01",
        "apologise",
        1,
        "lan@example.vn",
        load_templates().render("apologise", "en", "hcm-01", T0, "Asia/Ho_Chi_Minh"),
        1,
        False,
    )

    async def send() -> None:
        try:
            await channel.send(attempt)
        finally:
            await channel.close()

    try:
        with pytest.raises(Permanent) as refused:
            asyncio.run(send())
    finally:
        controller.stop()
    assert "550" in str(refused.value) and "lan@example.vn" not in str(refused.value)
