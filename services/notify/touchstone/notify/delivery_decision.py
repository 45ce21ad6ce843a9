"""What becomes of a due delivery when the sender takes it, and of an attempt that failed (the
model's; the delivery store loads what these read and writes what they decide).

A due email is asked of its customer's consent, quiet hours and daily cap, then written in
their language; it is skipped if the same message already went to them. An attempt in doubt
(a crash hid its outcome) is made again as it was, with its key, whatever was decided since.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from random import Random
from typing import Protocol
from zoneinfo import ZoneInfo

from touchstone.notify.contact_book import Contact, address_of
from touchstone.notify.deliveries import (
    Defer,
    DeliveryPolicy,
    Skip,
    backoff,
    email_decision,
    gives_up,
)
from touchstone.notify.messages import Message, Templates
from touchstone.notify.ports import Attempt
from touchstone.shared_kernel.calendar import Calendars


@dataclass(frozen=True)
class DueDelivery:
    """A delivery due to be tried, as the outbox holds it."""

    delivery_id: str
    case_id: str
    n: int
    channel: str
    action: str
    customer_id: str
    site_id: str
    moment_at: datetime
    attempts: int  # made so far
    in_doubt: bool  # its last attempt was in flight when its lease ran out
    language: str  # the one its first attempt was written in; "" before
    case_lost: bool


class Recipients(Protocol):
    """What deciding a delivery reads of its customer."""

    async def contact(self, customer_id: str) -> tuple[Contact | None, bytes | None]:
        """The customer's contact (or their root's), and the key its address is sealed with."""

    async def erased(self, customer_id: str) -> bool:
        """Whether contacts erased the customer."""

    async def emails_since(self, customer_id: str, since: datetime) -> int:
        """The emails sent to the customer (or in flight) since then; counted so that two
        senders count the same day alike."""

    async def sent_before(self, customer_id: str, content_hash: str, delivery_id: str) -> bool:
        """Whether another delivery sent the customer this content (or has it in flight)."""


@dataclass(frozen=True)
class Start:
    """Make the attempt: committed as in flight, in its language and with its content's hash,
    before it is made."""

    attempt: Attempt
    language: str
    content_hash: str  # "" for a webhook: it carries no address


async def decide_delivery(
    due: DueDelivery,
    now: datetime,
    recipients: Recipients,
    templates: Templates,
    calendars: Calendars,
    policy: DeliveryPolicy,
) -> Start | Skip | Defer:
    """The delivery started, skipped for good, or put off (deliveries.email_decision: consent,
    quiet hours, the daily cap; never the same message twice)."""
    contact, key = await recipients.contact(due.customer_id)
    site_zone = calendars.for_site(due.site_id).time_zone
    email = due.channel == "email"
    if email and not due.in_doubt:
        erased = await recipients.erased(due.customer_id)
        zone = contact.time_zone if contact and contact.time_zone else site_zone
        sent_today = await recipients.emails_since(due.customer_id, day_began(now, zone))
        decision = email_decision(contact, erased, sent_today, now, policy, key)
        if isinstance(decision, Skip | Defer):
            return decision
    language = due.language or templates.language_for(contact.language if contact else "")
    message = templates.render(due.action, language, due.site_id, due.moment_at, site_zone)
    address = address_of(contact, key) if contact and email else ""
    if email and not address:  # an attempt in doubt whose customer was erased
        return Skip("no address any more")
    content_hash = content_hash_of(address, message) if email else ""
    if (
        content_hash
        and not due.in_doubt
        and await recipients.sent_before(due.customer_id, content_hash, due.delivery_id)
    ):
        return Skip("the same message was already sent to the customer")
    attempt = Attempt(
        due.delivery_id,
        due.channel,
        due.case_id,
        due.customer_id,
        due.site_id,
        due.action,
        due.n,
        address,
        message,
        due.attempts + 1,
        due.in_doubt,
    )
    return Start(attempt, language, content_hash)


def day_began(now: datetime, zone: str) -> datetime:
    """When the day `now` falls in began, in the zone (the daily cap's day)."""
    return now.astimezone(ZoneInfo(zone)).replace(hour=0, minute=0, second=0, microsecond=0)


def content_hash_of(address: str, message: Message) -> str:
    """What a message to an address is known by: the same message twice is not sent."""
    text = "\n".join((address, message.subject, message.body))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Retry:
    """Try the delivery again then."""

    at: datetime


@dataclass(frozen=True)
class GiveUp:
    """Dead-letter the delivery."""


def after_failure(
    attempt: Attempt, now: datetime, permanent: bool, policy: DeliveryPolicy, rng: Random
) -> Retry | GiveUp:
    """A failed attempt is tried again after a backoff, unless the failure is permanent or the
    delivery is out of attempts."""
    if permanent or gives_up(attempt.number, policy):
        return GiveUp()
    return Retry(now + backoff(attempt.number, policy, rng))
