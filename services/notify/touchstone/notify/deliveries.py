"""Deliveries: the messages a case's system steps send (email to the customer, a webhook to the
operator's systems), planned with the case, and the rules for each attempt (docs/domain.md §9:
respond at once, but not at 3 a.m., not without consent, never the same message twice, never
more than a few a day).

Email reaches the customer, so their consent, quiet hours and a daily cap apply. A webhook goes
to the operator's own systems (an SMS gateway, a CRM): it carries the customer's id only, and is
retried with exponential backoff and jitter, then dead-lettered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random

from touchstone.notify.contact_book import AwaitingKey, Contact, address_of, quiet_until
from touchstone.notify.playbooks import PlannedStep
from touchstone.platform.runtime.ids import derived_id
from touchstone.platform.security.sealing import CannotOpen

MESSAGE_CHANNELS = ("email", "webhook")  # the channels the system sends through itself


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard and how often to try."""

    max_attempts: int = 8  # then dead-lettered
    backoff_base: timedelta = timedelta(seconds=2)
    backoff_cap: timedelta = timedelta(minutes=10)
    lease: timedelta = timedelta(seconds=30)  # an attempt in flight this long is in doubt
    messages_per_day: int = 3  # emails a customer gets per day, at most (assumption)
    max_age: timedelta = timedelta(days=7)  # not written about later than this after the visit
    # an address sealed before its key was heard (contacts tells both at once, on two topics):
    # asked again this much later
    key_wait: timedelta = timedelta(minutes=1)


DEFAULT_DELIVERY_POLICY = DeliveryPolicy()


@dataclass(frozen=True)
class PlannedDelivery:
    """A message a system step of a case sends, due with its step."""

    delivery_id: str
    case_id: str
    n: int
    channel: str
    action: str
    customer_id: str
    site_id: str
    moment_at: datetime
    next_attempt_at: datetime


def delivery_id_for(case_id: str, n: int, channel: str) -> str:
    """One delivery per step and channel: the id (and every attempt's idempotency key) follows."""
    return derived_id("delivery", case_id, str(n), channel)


def planned_deliveries(
    case_id: str,
    customer_id: str,
    site_id: str,
    moment_at: datetime,
    steps: tuple[PlannedStep, ...],
) -> list[PlannedDelivery]:
    """The deliveries a new case's system steps send."""
    return [
        PlannedDelivery(
            delivery_id_for(case_id, step.n, step.channel),
            case_id,
            step.n,
            step.channel,
            step.action,
            customer_id,
            site_id,
            moment_at,
            step.due_at,
        )
        for step in steps
        if step.owner == "system" and step.channel in MESSAGE_CHANNELS
    ]


@dataclass(frozen=True)
class Send:
    """Send it now."""


@dataclass(frozen=True)
class Skip:
    """Do not send it, for good, and say why."""

    reason: str


@dataclass(frozen=True)
class Defer:
    """Not now: try again then (not an attempt), and say why."""

    until: datetime
    reason: str = "quiet hours"


Decision = Send | Skip | Defer


def email_decision(
    contact: Contact | None,
    erased: bool,
    sent_today: int,
    now: datetime,
    policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY,
    key: bytes | None = None,
) -> Decision:
    """Whether an email may go to the customer now (key: the customer's, for a sealed address)."""
    if erased:
        return Skip("the customer was erased")
    try:
        address = address_of(contact, key) if contact is not None else ""
    except AwaitingKey:
        return Defer(now + policy.key_wait, "the address's key is not heard yet")
    except CannotOpen as error:
        return Skip(f"the address cannot be read: {error}")
    if contact is None or not address:
        return Skip("no email address known")
    if "email" not in contact.channels:
        return Skip("no consent to email")
    quiet = quiet_until(contact, now)
    if quiet is not None:
        return Defer(quiet)
    if sent_today >= policy.messages_per_day:
        return Skip(f"the daily cap of {policy.messages_per_day} messages was reached")
    return Send()


def skip_unasked(
    channel: str,
    in_doubt: bool,
    case_lost: bool,
    moment_at: datetime,
    now: datetime,
    policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY,
    webhook_configured: bool = True,
) -> Skip | None:
    """A delivery skipped whatever the customer's contact and history say (so nothing about them
    is read): the visit too long ago to write about, its case closed as lost, or a webhook with
    nowhere to go. An attempt in doubt is made again with its key, however old its visit."""
    if not in_doubt and now - moment_at > policy.max_age:
        return Skip("the visit was too long ago to write about")
    if not in_doubt and case_lost:
        return Skip("the case was closed as lost")
    if channel == "webhook" and not webhook_configured:
        return Skip("no webhook endpoint is configured (TOUCHSTONE_WEBHOOK_URL)")
    return None


def backoff(attempts: int, policy: DeliveryPolicy, rng: Random) -> timedelta:
    """How long to wait after the attempts-th failure: exponential, capped, with equal jitter
    (half fixed, half random) so that retries of many deliveries spread out."""
    ceiling = min(policy.backoff_cap, policy.backoff_base * 2 ** max(attempts - 1, 0))
    return ceiling / 2 + ceiling / 2 * rng.random()


def gives_up(attempts: int, policy: DeliveryPolicy) -> bool:
    """Whether a delivery that failed this many times is dead-lettered."""
    return attempts >= policy.max_attempts
