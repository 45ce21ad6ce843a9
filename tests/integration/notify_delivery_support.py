"""What the delivery tests share: a notify on Postgres with its sender, the customers, keys and
lost moments they feed it, and the mail they read back."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random
from typing import Any

from tests.builders import T0, moment, record
from tests.receivers import SECRET, WebhookReceiver
from touchstone.contacts.v1 import profile_pb2 as profile_pb
from touchstone.contacts.v1.touchpoint_pb2 import IDENTITY_KIND_EMAIL, ExternalIdentity
from touchstone.journey.v1.events_pb2 import VERDICT_LOSE, MomentScored
from touchstone.notify.channels import EmailChannel, Transient, WebhookChannel
from touchstone.notify.deliveries import DEFAULT_DELIVERY_POLICY, DeliveryPolicy
from touchstone.notify.delivery_store import PostgresDeliveries
from touchstone.notify.handlers import OpenRecoveryCases
from touchstone.notify.messages import load_templates
from touchstone.notify.playbooks import parse_playbooks
from touchstone.notify.ports import Attempt
from touchstone.notify.sender import Sender
from touchstone.notify.store import PostgresNotifyStore
from touchstone.platform.messaging.topics import (
    CONTACTS_KEYS,
    CONTACTS_PROFILES,
)
from touchstone.platform.persistence.pg import open_pool
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.security.sealing import seal
from touchstone.shared_kernel.calendar_file import load_calendars
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


class RefusesEveryone:
    """An SMTP server that refuses every recipient, repeating the address as servers do."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        return f"550 5.1.1 <{address}>: no such user here"
