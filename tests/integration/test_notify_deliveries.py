"""Notify's email on Postgres and a real SMTP catcher: the apology goes out once, in the customer's
language, held back by consent, quiet hours, erasure, the daily cap and age, and a sealed
address is opened only to send."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from tests.builders import T0
from tests.integration.notify_delivery_support import (
    MINUTE,
    RefusesEveryone,
    Rig,
    erased,
    key_of,
    lost_by,
    mail_to,
    on_postgres,
    registered,
    told_key,
)
from tests.receivers import WebhookReceiver
from touchstone.contacts.v1 import profile_pb2 as profile_pb
from touchstone.notify.channels import EmailChannel, Permanent
from touchstone.notify.deliveries import DEFAULT_DELIVERY_POLICY, delivery_id_for
from touchstone.notify.domain import Win, case_id_for
from touchstone.notify.messages import load_templates
from touchstone.notify.ports import Attempt
from touchstone.notify.v1.events_pb2 import CaseEvent
from touchstone.platform.messaging.topics import (
    CONTACTS_KEYS,
    CONTACTS_PROFILES,
    NOTIFY_CASES,
)
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.embedded import free_port
from touchstone.tools.dev.mail_catcher import MailCatcher


@pytest.fixture(scope="module")
def mail() -> Iterator[MailCatcher]:
    catcher = MailCatcher("127.0.0.1", free_port()).start()
    yield catcher
    catcher.stop()


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
