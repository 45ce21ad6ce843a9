"""What becomes of a due delivery and of a failed attempt (delivery_decision.py), given what the
store read of the customer → then start, skip or defer; retry or give up."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from random import Random

from touchstone.notify.contact_book import Contact
from touchstone.notify.deliveries import DEFAULT_DELIVERY_POLICY, Defer, Skip
from touchstone.notify.delivery_decision import (
    DueDelivery,
    GiveUp,
    Retry,
    Start,
    after_failure,
    content_hash_of,
    decide_delivery,
)
from touchstone.notify.messages import load_templates
from touchstone.shared_kernel.calendar_file import load_calendars

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 10:00 in Ho Chi Minh City
TEMPLATES = load_templates()
CALENDARS = load_calendars()
POLICY = DEFAULT_DELIVERY_POLICY
EMAIL = DueDelivery(
    "d1",
    "case-1",
    1,
    "email",
    "apologise",
    "c1",
    "hcm-01",
    NOW - timedelta(hours=2),
    0,
    False,
    "",
    False,
)
CONSENTED = Contact("c1", "an@example.com", "vi-VN", ("email",), time_zone="Europe/London")


@dataclass
class Recipients:
    """What the store would read of the customer; and what was asked of it."""

    contact_of: Contact | None = CONSENTED
    is_erased: bool = False
    sent: list[datetime] = field(default_factory=list)  # emails sent, when
    hashes: set[str] = field(default_factory=set)  # of messages other deliveries sent
    asked: list[str] = field(default_factory=list)

    async def contact(self, customer_id: str) -> tuple[Contact | None, bytes | None]:
        self.asked.append("contact")
        return self.contact_of, None

    async def erased(self, customer_id: str) -> bool:
        self.asked.append("erased")
        return self.is_erased

    async def emails_since(self, customer_id: str, since: datetime) -> int:
        self.asked.append(f"since {since.astimezone(UTC):%Y-%m-%d %H:%M}")
        return sum(at >= since for at in self.sent)

    async def sent_before(self, customer_id: str, content_hash: str, delivery_id: str) -> bool:
        self.asked.append("sent before")
        return content_hash in self.hashes


def decided(due: DueDelivery, recipients: Recipients) -> Start | Skip | Defer:
    return asyncio.run(decide_delivery(due, NOW, recipients, TEMPLATES, CALENDARS, POLICY))


def test_an_email_asked_of_consent_and_cap_starts_in_the_customers_language() -> None:
    recipients = Recipients()
    start = decided(EMAIL, recipients)
    assert isinstance(start, Start)
    assert (start.language, start.attempt.address, start.attempt.number) == (
        "vi",
        "an@example.com",
        1,
    )
    assert start.content_hash == content_hash_of("an@example.com", start.attempt.message)
    # the day the cap counts began at midnight where the customer lives (London), not where
    # the site is (Ho Chi Minh City, UTC+7: 17:00 UTC the day before)
    assert recipients.asked == [
        "contact",
        "erased",
        "since 2026-11-20 00:00",
        "sent before",
    ]


def test_the_daily_cap_and_a_message_sent_before_skip_an_email_for_good() -> None:
    capped = Recipients(sent=[NOW - timedelta(hours=h) for h in range(POLICY.messages_per_day)])
    assert decided(EMAIL, capped) == Skip(
        f"the daily cap of {POLICY.messages_per_day} messages was reached"
    )
    first = decided(EMAIL, Recipients())
    assert isinstance(first, Start)
    again = decided(replace(EMAIL, delivery_id="d2"), Recipients(hashes={first.content_hash}))
    assert again == Skip("the same message was already sent to the customer")


def test_quiet_hours_put_an_email_off_without_an_attempt() -> None:
    night = replace(CONSENTED, quiet_start="02:00", quiet_end="05:00")
    deferred = decided(EMAIL, Recipients(contact_of=night))
    assert isinstance(deferred, Defer) and deferred.until == datetime(
        2026, 11, 20, 5, 0, tzinfo=UTC
    )


def test_an_attempt_in_doubt_is_made_again_as_it_was_without_asking_again() -> None:
    in_doubt = replace(EMAIL, attempts=1, in_doubt=True, language="en")
    recipients = Recipients(is_erased=True, sent=[NOW] * 9)
    start = decided(in_doubt, recipients)
    assert isinstance(start, Start)
    assert (start.language, start.attempt.number, start.attempt.in_doubt) == ("en", 2, True)
    assert recipients.asked == ["contact"]  # neither consent, cap nor sameness asked again
    gone = decided(in_doubt, Recipients(contact_of=None))
    assert gone == Skip("no address any more")  # erased while in doubt: nowhere to send it


def test_a_webhook_carries_no_address_and_is_never_held_to_the_customers_rules() -> None:
    webhook = replace(EMAIL, channel="webhook")
    recipients = Recipients(contact_of=None)
    start = decided(webhook, recipients)
    assert isinstance(start, Start)
    assert (start.attempt.address, start.content_hash, start.language) == ("", "", "en")
    assert recipients.asked == ["contact"]


def test_a_failed_attempt_is_retried_after_a_backoff_until_it_is_out_of_attempts() -> None:
    start = decided(EMAIL, Recipients())
    assert isinstance(start, Start)
    first = start.attempt
    retry = after_failure(first, NOW, False, POLICY, Random(1))
    assert isinstance(retry, Retry)
    assert NOW + POLICY.backoff_base / 2 <= retry.at <= NOW + POLICY.backoff_base
    assert after_failure(first, NOW, True, POLICY, Random(1)) == GiveUp()  # permanent
    last = replace(first, number=POLICY.max_attempts)
    assert after_failure(last, NOW, False, POLICY, Random(1)) == GiveUp()
