"""The delivery outbox on Postgres: the sender takes the due deliveries in order, decides them
(consent, quiet hours, daily cap, never the same message twice), marks the first to send in
flight, and after the attempt records it sent (with its step done), retried later, or
dead-lettered.

Every attempt is committed as in flight before it is made, so after a crash only the one in
flight is in doubt: it is tried again once its lease runs out, with the same idempotency key
(the delivery id: the email's Message-ID, the webhook's Idempotency-Key), and nothing else is
sent twice or lost.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from random import Random
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from touchstone.notify.address_book_store import contact_row
from touchstone.notify.case_tables import load_case
from touchstone.notify.codec import step_taken
from touchstone.notify.contact_book import Contact, address_of
from touchstone.notify.deliveries import (
    DEFAULT_DELIVERY_POLICY,
    Defer,
    DeliveryPolicy,
    Skip,
    backoff,
    email_decision,
    gives_up,
    skip_unasked,
)
from touchstone.notify.erased_store import is_erased
from touchstone.notify.messages import Message, Templates
from touchstone.notify.outcome_rows import FORGET_MOVES_UNTIL
from touchstone.notify.ports import Attempt, Settled
from touchstone.notify.rows import StepCommand
from touchstone.notify.store import SCHEMA
from touchstone.platform.messaging.outbox import add_to_outbox
from touchstone.platform.messaging.topics import NOTIFY_DLQ, Outgoing
from touchstone.shared_kernel.calendar import Calendars

log = logging.getLogger(__name__)

TAKE = """
SELECT d.delivery_id, d.case_id, d.n, d.channel, d.action, d.customer_id, d.site_id,
       d.moment_at, d.attempts, d.status = 'sending', d.language,
       (SELECT c.status = 'lost' FROM notify.cases c WHERE c.case_id = d.case_id)
FROM notify.deliveries d
WHERE d.channel = %(channel)s
  AND ((d.status = 'pending' AND d.next_attempt_at <= %(now)s)
       OR (d.status = 'sending' AND d.started_at <= %(stale)s))
ORDER BY d.next_attempt_at, d.delivery_id
LIMIT %(limit)s
FOR NO KEY UPDATE OF d SKIP LOCKED
"""
LOCK_CUSTOMER = "SELECT pg_advisory_xact_lock(hashtext('notify.mail:' || %s))"
CONTACT = """
WITH asked AS MATERIALIZED (  -- the root once, not once for every contact a scan filters
    SELECT %(customer_id)s::text AS id UNION SELECT notify.customer_root(%(customer_id)s)
)
SELECT c.customer_id, c.email, c.language, c.channels, c.quiet_start, c.quiet_end, c.time_zone,
       c.sealed_email, k.key
FROM notify.contacts c LEFT JOIN notify.customer_keys k USING (customer_id)
WHERE c.customer_id IN (SELECT id FROM asked)
ORDER BY c.customer_id <> %(customer_id)s
LIMIT 1
"""
SENT_SINCE = """
SELECT count(*) FROM notify.deliveries
WHERE customer_id = %s AND channel = 'email' AND status IN ('sending', 'sent')
  AND coalesce(sent_at, started_at) >= %s
"""
SENT_BEFORE = """
SELECT EXISTS (
    SELECT 1 FROM notify.deliveries
    WHERE customer_id = %s AND content_hash = %s AND delivery_id <> %s
      AND status IN ('sending', 'sent')
)
"""
START = """
UPDATE notify.deliveries SET status = 'sending', attempts = attempts + 1, started_at = %(now)s,
                             language = %(language)s, content_hash = %(content_hash)s
WHERE delivery_id = %(delivery_id)s
"""
SKIP = """
UPDATE notify.deliveries SET status = 'skipped', reason = %(reason)s
WHERE delivery_id = %(delivery_id)s
"""
SKIP_ALL = """
UPDATE notify.deliveries d SET status = 'skipped', reason = t.reason
FROM unnest(%(delivery_id)b::text[], %(reason)b::text[]) AS t(delivery_id, reason)
WHERE d.delivery_id = t.delivery_id
"""
# Due deliveries a take reads at once: most, in a backlog, are skipped on their own facts
TAKE_AT_MOST = 100
DEFER = (
    "UPDATE notify.deliveries SET next_attempt_at = %(until)s WHERE delivery_id = %(delivery_id)s"
)
SENT = """
UPDATE notify.deliveries SET status = 'sent', sent_at = %(now)s
WHERE delivery_id = %(delivery_id)s AND status = 'sending'
RETURNING case_id, n
"""
RETRY = """
UPDATE notify.deliveries SET status = 'pending', next_attempt_at = %(at)s, reason = %(reason)s
WHERE delivery_id = %(delivery_id)s AND status = 'sending'
"""
GIVE_UP = """
UPDATE notify.deliveries SET status = 'dead', reason = %(reason)s
WHERE delivery_id = %(delivery_id)s
"""
DEAD = """
UPDATE notify.deliveries SET status = 'dead', reason = %(reason)s
WHERE delivery_id = %(delivery_id)s AND status = 'sending'
RETURNING customer_id
"""
STEP_DONE = f"""
WITH done AS (
    UPDATE notify.case_steps SET status = 'done', taken_by = 'system', taken_at = %(now)s,
                                 first_taken_at = coalesce(first_taken_at, %(now)s)
    WHERE case_id = %(case_id)s AND n = %(n)s AND status <> 'done'
    RETURNING case_id, action
), {FORGET_MOVES_UNTIL.format(taken="done")}
SELECT action FROM done
"""


class PostgresDeliveries:
    """The delivery outbox (schema notify)."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        templates: Templates,
        calendars: Calendars,
        policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY,
        webhook_configured: bool = True,
        rng: Random | None = None,
    ) -> None:
        self.pool = pool
        self.templates = templates
        self.calendars = calendars
        self.policy = policy
        self.webhook_configured = webhook_configured
        self.rng = rng or Random()

    async def take(self, channel: str, now: datetime) -> list[Attempt | Settled]:
        """The channel's next due deliveries, decided in order in one transaction: those settled
        without an attempt (skipped, deferred), up to and including the first Attempt to make
        (committed as in flight first); [] if nothing is due. One attempt a take, so none waits
        in flight behind another until its lease runs out."""
        async with self.pool.connection() as conn, conn.transaction():
            due = {"channel": channel, "now": now, "stale": now - self.policy.lease}
            rows = await (await conn.execute(TAKE, {**due, "limit": TAKE_AT_MOST})).fetchall()
            taken: list[Attempt | Settled] = []
            unasked: list[Settled] = []  # skipped on the row's own facts: written at once below
            for row in rows:
                delivery_id, moment_at, in_doubt, case_lost = row[0], row[7], row[9], row[11]
                skip = skip_unasked(
                    channel,
                    in_doubt,
                    case_lost,
                    moment_at,
                    now,
                    self.policy,
                    self.webhook_configured,
                )
                if skip is not None:
                    unasked.append(Settled(delivery_id, "skipped", skip.reason))
                    continue
                decided = await self._decide_apart(conn, row, now)
                taken.append(decided)
                if isinstance(decided, Attempt):
                    break
            if unasked:
                skipped = {
                    "delivery_id": [s.delivery_id for s in unasked],
                    "reason": [s.reason for s in unasked],
                }
                await conn.execute(SKIP_ALL, skipped)
            return unasked + taken

    async def _decide_apart(
        self, conn: AsyncConnection, row: Any, now: datetime
    ) -> Attempt | Settled:
        """The delivery decided in a savepoint: a decision that fails (a bug, a bad template)
        undoes only itself and gives the delivery up, never stalling the channel."""
        try:
            async with conn.transaction():
                return await self._decide(conn, row, now)
        except Exception as error:
            log.exception("delivery %s could not be prepared", row[0])
            reason = f"it could not be prepared: {type(error).__name__}"
            await conn.execute(GIVE_UP, {"delivery_id": row[0], "reason": reason})
            return Settled(row[0], "dead", reason)

    async def _decide(self, conn: AsyncConnection, row: Any, now: datetime) -> Attempt | Settled:
        delivery_id, case_id, n, channel, action, customer_id, site_id, moment_at = row[:8]
        attempts, in_doubt, language, _ = row[8:]
        contact, key = await self._contact(conn, customer_id)
        zone = self.calendars.for_site(site_id).time_zone
        decision = (
            await self._email_decision(conn, customer_id, contact, key, now, zone)
            if channel == "email" and not in_doubt
            else None
        )
        if isinstance(decision, Skip):
            await conn.execute(SKIP, {"delivery_id": delivery_id, "reason": decision.reason})
            return Settled(delivery_id, "skipped", decision.reason)
        if isinstance(decision, Defer):
            await conn.execute(DEFER, {"delivery_id": delivery_id, "until": decision.until})
            return Settled(delivery_id, "deferred", f"{decision.reason} until {decision.until}")
        language = language or self.templates.language_for(contact.language if contact else "")
        message = self.templates.render(action, language, site_id, moment_at, zone)
        address = address_of(contact, key) if contact and channel == "email" else ""
        if channel == "email" and not address:  # an attempt in doubt whose customer was erased
            await conn.execute(SKIP, {"delivery_id": delivery_id, "reason": "no address any more"})
            return Settled(delivery_id, "skipped", "no address any more")
        content_hash = _hash(address, message) if channel == "email" else ""
        if content_hash and not in_doubt:
            seen = await (
                await conn.execute(SENT_BEFORE, (customer_id, content_hash, delivery_id))
            ).fetchone()
            if seen and seen[0]:
                reason = "the same message was already sent to the customer"
                await conn.execute(SKIP, {"delivery_id": delivery_id, "reason": reason})
                return Settled(delivery_id, "skipped", reason)
        started = {
            "delivery_id": delivery_id,
            "now": now,
            "language": language,
            "content_hash": content_hash,
        }
        await conn.execute(START, started)
        return Attempt(
            delivery_id,
            channel,
            case_id,
            customer_id,
            site_id,
            action,
            n,
            address,
            message,
            attempts + 1,
            in_doubt,
        )

    async def _contact(
        self, conn: AsyncConnection, customer_id: str
    ) -> tuple[Contact | None, bytes | None]:
        """The customer's contact (or their root's), and the key its address is sealed with."""
        row = await (await conn.execute(CONTACT, {"customer_id": customer_id})).fetchone()
        if row is None:
            return None, None
        return contact_row(row[:-1]), bytes(row[-1]) if row[-1] is not None else None

    async def _email_decision(
        self,
        conn: AsyncConnection,
        customer_id: str,
        contact: Contact | None,
        key: bytes | None,
        now: datetime,
        site_zone: str,
    ) -> Skip | Defer | None:
        await conn.execute(LOCK_CUSTOMER, (customer_id,))  # two senders count one day alike
        erased = await is_erased(conn, customer_id)
        zone = ZoneInfo(contact.time_zone if contact and contact.time_zone else site_zone)
        day_began = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        count_row = await (await conn.execute(SENT_SINCE, (customer_id, day_began))).fetchone()
        sent_today = int(count_row[0]) if count_row else 0
        decision = email_decision(contact, erased, sent_today, now, self.policy, key)
        return decision if isinstance(decision, Skip | Defer) else None

    async def sent(self, attempt: Attempt, now: datetime) -> None:
        """The receiver has it: the delivery is sent and its step done by the system (its
        StepTaken event in the outbox), in one transaction."""
        async with self.pool.connection() as conn, conn.transaction():
            done = await (
                await conn.execute(SENT, {"delivery_id": attempt.delivery_id, "now": now})
            ).fetchone()
            if done is None:
                return
            case_id, n = done
            moved = await conn.execute(STEP_DONE, {"case_id": case_id, "n": n, "now": now})
            if await moved.fetchone() is None:
                return
            case = await load_case(conn, case_id)
            assert case is not None
            step = next(s for s in case.steps if s.n == n)
            command = StepCommand(case_id, n, "system", f"{attempt.channel} sent", completed=True)
            await add_to_outbox(conn, SCHEMA, [step_taken(case, step, command, now)])

    async def failed(self, attempt: Attempt, now: datetime, error: str, permanent: bool) -> str:
        """The attempt failed: tried again after a backoff, or (permanent, or out of attempts)
        dead-lettered with the reason on notify.dlq.v1. Says which."""
        reason = f"attempt {attempt.number}: {error}"
        async with self.pool.connection() as conn, conn.transaction():
            if not permanent and not gives_up(attempt.number, self.policy):
                at = now + backoff(attempt.number, self.policy, self.rng)
                params = {"delivery_id": attempt.delivery_id, "at": at, "reason": reason}
                await conn.execute(RETRY, params)
                return "retry"
            params = {"delivery_id": attempt.delivery_id, "reason": reason}
            if await (await conn.execute(DEAD, params)).fetchone() is not None:
                await add_to_outbox(conn, SCHEMA, [dead_delivery(attempt, reason)])
            return "dead"


def dead_delivery(attempt: Attempt, reason: str) -> Outgoing:
    """The dead-letter record of a delivery given up on: what it was, never the address."""
    value = json.dumps(attempt.payload(), ensure_ascii=False, sort_keys=True).encode()
    headers = (
        ("dlq_reason", reason.encode()),
        ("dlq_source", b"notify.deliveries"),
        ("dlq_channel", attempt.channel.encode()),
        ("content-type", b"application/json"),
    )
    return Outgoing(NOTIFY_DLQ, attempt.customer_id.encode(), value, headers)


def _hash(address: str, message: Message) -> str:
    text = "\n".join((address, message.subject, message.body))
    return hashlib.sha256(text.encode()).hexdigest()
