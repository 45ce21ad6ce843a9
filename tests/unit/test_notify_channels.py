"""Channel rules: given a customer's contact and the time → then whether an email may go, when
quiet hours end, how long to back off; message templates in the customer's language; webhook
signatures that receivers can check."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

import pytest

from touchstone.contacts.v1 import profile_pb2 as profile_pb
from touchstone.notify.channels import WebhookChannel, webhook_refusal
from touchstone.notify.contact_book import (
    Contact,
    ContactChange,
    contact_change_of,
    folded,
    quiet_until,
)
from touchstone.notify.deliveries import (
    DEFAULT_DELIVERY_POLICY,
    Defer,
    Send,
    Skip,
    backoff,
    email_decision,
    gives_up,
    skip_unasked,
)
from touchstone.notify.messages import Message, MessagesError, load_templates
from touchstone.notify.playbooks import load_playbooks, parse_playbooks
from touchstone.notify.ports import Attempt
from touchstone.platform.messaging.decoding import UnusableRecord

NOON_HCM = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)  # 12:00 in Ho Chi Minh City
LAN = Contact("lan", "lan@example.vn", "vi", ("email",), "21:00", "08:00", "Asia/Ho_Chi_Minh")


def test_an_email_needs_an_address_consent_and_a_waking_hour_and_room_under_the_cap() -> None:
    assert email_decision(LAN, False, 0, NOON_HCM) == Send()
    assert email_decision(LAN, True, 0, NOON_HCM) == Skip("the customer was erased")
    assert email_decision(None, False, 0, NOON_HCM) == Skip("no email address known")
    no_consent = Contact("lan", "lan@example.vn", channels=("sms",))
    assert email_decision(no_consent, False, 0, NOON_HCM) == Skip("no consent to email")
    assert email_decision(LAN, False, 3, NOON_HCM) == Skip(
        "the daily cap of 3 messages was reached"
    )
    night = NOON_HCM + timedelta(hours=11)  # 23:00 there
    assert email_decision(LAN, False, 0, night) == Defer(
        datetime(2026, 11, 21, 1, 0, tzinfo=UTC)  # 08:00 there
    )


@pytest.mark.parametrize(
    ("local", "until"),
    [
        ("20:59", None),
        ("21:00", "08:00 next day"),
        ("23:30", "08:00 next day"),
        ("03:00", "08:00 same day"),
        ("08:00", None),
    ],
)
def test_overnight_quiet_hours_end_at_their_end_in_the_customers_zone(local, until) -> None:
    hours, minutes = map(int, local.split(":"))
    day = datetime(2026, 11, 20, tzinfo=UTC)
    now = day + timedelta(hours=hours - 7, minutes=minutes)  # HCM is UTC+7
    ends = quiet_until(LAN, now)
    if until is None:
        assert ends is None
    else:
        next_day = 1 if "next" in until and hours >= 21 else 0
        expected = day + timedelta(days=next_day, hours=8 - 7)
        assert ends == expected


def test_daytime_quiet_hours_and_none_at_all() -> None:
    lunch = Contact("x", quiet_start="12:00", quiet_end="13:00", time_zone="Asia/Ho_Chi_Minh")
    assert quiet_until(lunch, NOON_HCM + timedelta(minutes=30)) == NOON_HCM + timedelta(hours=1)
    assert quiet_until(lunch, NOON_HCM + timedelta(hours=1)) is None
    assert quiet_until(Contact("x"), NOON_HCM) is None


def test_some_deliveries_are_skipped_on_their_own_facts_without_asking_about_the_customer() -> None:
    now = NOON_HCM
    fresh, old = now - timedelta(days=1), now - timedelta(days=8)
    assert skip_unasked("email", False, False, fresh, now) is None  # the customer decides
    assert skip_unasked("email", False, False, old, now) == Skip(
        "the visit was too long ago to write about"
    )
    assert skip_unasked("email", False, True, fresh, now) == Skip("the case was closed as lost")
    assert skip_unasked("email", False, True, old, now) == Skip(  # the visit's age first
        "the visit was too long ago to write about"
    )
    nowhere = Skip("no webhook endpoint is configured (TOUCHSTONE_WEBHOOK_URL)")
    assert skip_unasked("webhook", False, False, fresh, now, webhook_configured=False) == nowhere
    assert skip_unasked("webhook", False, False, fresh, now) is None
    # an attempt in doubt is made again with its key, however old or lost; but not to nowhere
    assert skip_unasked("email", True, True, old, now) is None
    assert skip_unasked("webhook", True, True, old, now, webhook_configured=False) == nowhere


def test_backoff_doubles_up_to_its_cap_with_jitter_in_the_upper_half() -> None:
    rng = Random(1)
    for attempts, ceiling in ((1, 2), (2, 4), (3, 8), (12, 600)):
        waits = [backoff(attempts, DEFAULT_DELIVERY_POLICY, rng).total_seconds() for _ in range(50)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 1  # spread out
    assert not gives_up(7, DEFAULT_DELIVERY_POLICY) and gives_up(8, DEFAULT_DELIVERY_POLICY)


def test_profile_events_say_how_to_reach_a_customer() -> None:
    event = profile_pb.CustomerEvent()
    event.consent_changed.customer_id = "lan"
    event.consent_changed.consent.preferred_language = "vi-VN"
    event.consent_changed.consent.channels.add(
        channel=profile_pb.CONSENT_CHANNEL_EMAIL, granted=True
    )
    event.consent_changed.consent.channels.add(
        channel=profile_pb.CONSENT_CHANNEL_SMS, granted=False
    )
    change = contact_change_of(event)
    assert change is not None and change.consent is not None
    contact = folded(Contact("lan", "lan@example.vn"), change)
    assert (contact.email, contact.language, contact.channels) == (
        "lan@example.vn",
        "vi-VN",
        ("email",),
    )
    erase = profile_pb.CustomerEvent()
    erase.erased.customer_id = "lan"
    assert contact_change_of(erase) == ContactChange("lan", erased=True)
    merged = profile_pb.CustomerEvent()
    merged.merged.merge_id = "m"
    assert contact_change_of(merged) is None


def test_impossible_quiet_hours_are_unusable() -> None:
    event = profile_pb.CustomerEvent()
    event.consent_changed.customer_id = "lan"
    event.consent_changed.consent.quiet_hours.start = "25:00"
    event.consent_changed.consent.quiet_hours.end = "08:00"
    with pytest.raises(UnusableRecord, match="HH:MM"):
        contact_change_of(event)


def test_messages_are_written_in_the_customers_language_or_english() -> None:
    templates = load_templates()
    assert sorted(templates.by_language) == ["en", "vi", "zh"]
    assert templates.language_for("vi-VN") == "vi"
    assert templates.language_for("zh") == "zh"
    assert templates.language_for("fr") == templates.language_for("") == "en"
    at = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # already the 21st in Ho Chi Minh City
    message = templates.render("apologise", "zh", "hcm-01", at, "Asia/Ho_Chi_Minh")
    assert message.subject.startswith("关于您 2026-11-21 的到访")
    assert "hcm-01" in message.body
    templates.check_covers(load_playbooks())


def test_broken_templates_are_refused_naming_each_problem(tmp_path: Path) -> None:
    (tmp_path / "en.yaml").write_text(
        "apologise:\n  body: b\n  subject: 'Sorry {name}'\nfix: {subject: s}\n", encoding="utf-8"
    )
    (tmp_path / "vi.yaml").write_text("fix: {subject: s, body: b}\n", encoding="utf-8")
    with pytest.raises(MessagesError) as refused:
        load_templates(tmp_path)
    problems = "\n".join(refused.value.problems)
    assert "en.yaml:3: apologise.subject: placeholders are some of date, site" in problems
    assert "en.yaml:4: fix: needs a subject and a body" in problems
    assert "vi.yaml: no message for apologise" in problems


def test_a_playbook_sending_a_message_nobody_wrote_is_refused() -> None:
    playbooks = parse_playbooks(
        """
rules: [{playbook: p}]
playbooks: {p: [{action: correct_cause, owner: system, channel: email, due: {minutes: 5}}]}
""",
        "p.yaml",
    )
    with pytest.raises(MessagesError, match="no message for correct_cause"):
        load_templates().check_covers(playbooks)


SECRET_OK = "whsec_" + base64.b64encode(bytes(range(32))).decode()
ATTEMPT = Attempt(
    "d-1",
    "webhook",
    "case-1",
    "lan",
    "hcm-01",
    "apologise",
    1,
    "",
    Message("en", "Sorry", "We are sorry."),
    1,
    False,
)


def test_a_webhook_is_signed_by_the_standard_webhooks_spec_id_time_and_body_together() -> None:
    from standardwebhooks import Webhook, WebhookVerificationError

    from tests.receivers import SECRET
    from touchstone.notify.channels import WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP

    channel = WebhookChannel("https://hooks.example.com/touchstone", SECRET)
    now = time.time()
    body, headers = channel.request(ATTEMPT, now)
    receiver = Webhook(SECRET)
    assert receiver.verify(body, headers) == json.loads(body)
    assert headers[WEBHOOK_ID] == headers["Idempotency-Key"] == ATTEMPT.delivery_id
    assert headers[WEBHOOK_SIGNATURE] == receiver.sign(
        ATTEMPT.delivery_id, datetime.fromtimestamp(int(now), UTC), body
    )
    # the spec's construction, by hand: base64 HMAC-SHA256 of "id.timestamp.body" keyed with
    # the secret's bytes (what a receiver in any language computes)
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{ATTEMPT.delivery_id}.{int(now)}.".encode() + body
    mac = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers[WEBHOOK_SIGNATURE] == f"v1,{mac}"
    tampered = [
        (body + b" ", headers),
        (body, {**headers, WEBHOOK_ID: "another-delivery"}),  # the key is signed too
        (body, {**headers, WEBHOOK_TIMESTAMP: str(int(now) - 600)}),  # replayed too late
        (body, {**headers, WEBHOOK_TIMESTAMP: str(int(now) + 600)}),  # from the future
    ]
    for sent, said in tampered:
        with pytest.raises(WebhookVerificationError):
            receiver.verify(sent, said)


@pytest.mark.parametrize(
    ("url", "secret", "refused"),
    [
        ("http://crm.example.com/hook", SECRET_OK, "beyond this machine only https"),
        ("ftp://crm.example.com/hook", SECRET_OK, "is not an http(s) URL"),
        ("https://crm.example.com/hook", "s3cret", "does not start with whsec_"),
        ("https://crm.example.com/hook", "whsec_" + "c2hvcnQ=", "is 5 bytes: at least 32"),
        ("https://crm.example.com/hook", "whsec_not*base64", "is not base64"),
    ],
)
def test_a_webhook_goes_only_over_https_with_a_long_secret(
    url: str, secret: str, refused: str
) -> None:
    assert refused in webhook_refusal(url, secret)
    with pytest.raises(ValueError, match="TOUCHSTONE_WEBHOOK"):
        WebhookChannel(url, secret)


def test_a_webhook_to_this_machine_may_be_plain_http() -> None:
    assert webhook_refusal("http://127.0.0.1:8080/hook", SECRET_OK) == ""
    assert webhook_refusal("https://crm.example.com/hook", SECRET_OK) == ""


def test_a_redirect_is_never_followed_and_fails_for_good() -> None:
    """A 307 to an internal address must not carry the signed body there."""
    import asyncio
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from touchstone.notify.channels import Permanent

    reached: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            reached.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(307 if self.path == "/hook" else 200)
            self.send_header("Location", "/internal")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet: the test reads what reached the server, not its log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    channel = WebhookChannel(f"http://127.0.0.1:{server.server_address[1]}/hook", SECRET_OK)

    async def send() -> None:
        try:
            await channel.send(ATTEMPT)
        finally:
            await channel.close()

    try:
        with pytest.raises(Permanent, match="HTTP 307: redirects are not followed"):
            asyncio.run(send())
    finally:
        server.shutdown()
        server.server_close()
    assert reached == ["/hook"]
