"""The delivery outbox on Postgres: the sender takes the due deliveries in order, has each
decided (delivery_decision.py: consent, quiet hours, daily cap, never the same message twice),
marks the first to send in flight, and after the attempt records it sent (with its step done),
retried later, or dead-lettered.

Every attempt is committed as in flight before it is made, so after a crash only the one in
flight is in doubt: it is tried again once its lease runs out, with the same idempotency key
(the delivery id: the email's Message-ID, the webhook's Idempotency-Key), and nothing else is
sent twice or lost.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from random import Random

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from touchstone.notify.address_book_store import contact_row
from touchstone.notify.case_tables import load_case
from touchstone.notify.codec import step_taken
from touchstone.notify.contact_book import Contact
from touchstone.notify.deliveries import (
    DEFAULT_DELIVERY_POLICY,
    Defer,
    DeliveryPolicy,
    Skip,
    skip_unasked,
)
from touchstone.notify.delivery_decision import (
    DueDelivery,
    Retry,
    after_failure,
    decide_delivery,
)
from touchstone.notify.erased_store import is_erased
from touchstone.notify.messages import Templates
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


class RecipientRows:
    """What deciding a delivery reads of its customer, in the take's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def contact(self, customer_id: str) -> tuple[Contact | None, bytes | None]:
        row = await (await self.conn.execute(CONTACT, {"customer_id": customer_id})).fetchone()
        if row is None:
            return None, None
        return contact_row(row[:-1]), bytes(row[-1]) if row[-1] is not None else None

    async def erased(self, customer_id: str) -> bool:
        return await is_erased(self.conn, customer_id)

    async def emails_since(self, customer_id: str, since: datetime) -> int:
        await self.conn.execute(LOCK_CUSTOMER, (customer_id,))  # two senders count one day alike
        row = await (await self.conn.execute(SENT_SINCE, (customer_id, since))).fetchone()
        return int(row[0]) if row else 0

    async def sent_before(self, customer_id: str, content_hash: str, delivery_id: str) -> bool:
        params = (customer_id, content_hash, delivery_id)
        row = await (await self.conn.execute(SENT_BEFORE, params)).fetchone()
        return bool(row and row[0])


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
            stale = now - self.policy.lease
            asked = {"channel": channel, "now": now, "stale": stale, "limit": TAKE_AT_MOST}
            rows = await (await conn.execute(TAKE, asked)).fetchall()
            taken: list[Attempt | Settled] = []
            unasked: list[Settled] = []  # skipped on the row's own facts: written at once below
            for due in (DueDelivery(*row) for row in rows):
                skip = skip_unasked(
                    channel,
                    due.in_doubt,
                    bool(due.case_lost),
                    due.moment_at,
                    now,
                    self.policy,
                    self.webhook_configured,
                )
                if skip is not None:
                    unasked.append(Settled(due.delivery_id, "skipped", skip.reason))
                    continue
                decided = await self._decide_apart(conn, due, now)
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
        self, conn: AsyncConnection, due: DueDelivery, now: datetime
    ) -> Attempt | Settled:
        """The delivery decided in a savepoint: a decision that fails (a bug, a bad template)
        undoes only itself and gives the delivery up, never stalling the channel."""
        try:
            async with conn.transaction():
                return await self._decide(conn, due, now)
        except Exception as error:
            log.exception("delivery %s could not be prepared", due.delivery_id)
            reason = f"it could not be prepared: {type(error).__name__}"
            await conn.execute(GIVE_UP, {"delivery_id": due.delivery_id, "reason": reason})
            return Settled(due.delivery_id, "dead", reason)

    async def _decide(
        self, conn: AsyncConnection, due: DueDelivery, now: datetime
    ) -> Attempt | Settled:
        recipients = RecipientRows(conn)
        decision = await decide_delivery(
            due, now, recipients, self.templates, self.calendars, self.policy
        )
        if isinstance(decision, Skip):
            await conn.execute(SKIP, {"delivery_id": due.delivery_id, "reason": decision.reason})
            return Settled(due.delivery_id, "skipped", decision.reason)
        if isinstance(decision, Defer):
            await conn.execute(DEFER, {"delivery_id": due.delivery_id, "until": decision.until})
            return Settled(due.delivery_id, "deferred", f"{decision.reason} until {decision.until}")
        started = {
            "delivery_id": due.delivery_id,
            "now": now,
            "language": decision.language,
            "content_hash": decision.content_hash,
        }
        await conn.execute(START, started)
        return decision.attempt

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
        after = after_failure(attempt, now, permanent, self.policy, self.rng)
        async with self.pool.connection() as conn, conn.transaction():
            if isinstance(after, Retry):
                params = {"delivery_id": attempt.delivery_id, "at": after.at, "reason": reason}
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
