"""What the NotifyStore contract tests share: lost moments, wins and openings to feed a store, and
the readings they make of it."""

from __future__ import annotations

from datetime import timedelta

from tests.builders import T0
from touchstone.notify.domain import (
    LostMoment,
    Win,
    opening_for,
)
from touchstone.notify.openings import lay_out_openings
from touchstone.notify.playbooks import PlannedStep, RecoveryPolicy
from touchstone.notify.rows import StepCommand
from touchstone.notify.staff_commands import taking
from touchstone.notify.value_escalation import value_escalations
from touchstone.platform.messaging.topics import NOTIFY_CASES, Outgoing


def lost(n: int, visit: str = "v1", customer: str = "c1", site: str = "s1") -> LostMoment:
    at = T0 + timedelta(minutes=n)
    return LostMoment(f"m{n}", customer, visit, site, "enter_store", f"reason {n}", at)


async def open_or_join(store, *moments: LostMoment):
    return await store.open_or_join(
        [opening_for(m) for m in moments], list(moments), lay_out_openings
    )


def win(n: int, customer: str = "c1", how: str = "win", site: str = "s1") -> Win:
    """A win, positive feedback or clean visit (how) of the customer's at the site, n minutes
    after T0, in a visit of its own."""
    return Win(f"{how[0]}{n}", customer, T0 + timedelta(minutes=n), how, site, f"visit-{n}")


APOLOGY = PlannedStep(1, "apologise", "staff", "in_person", T0 + timedelta(minutes=5))


async def open_apologising(store, *moments: LostMoment):
    """Open the moments' cases with an apology to make (their first step)."""
    openings = [opening_for(m, steps=(APOLOGY,)) for m in moments]
    return await store.open_or_join(openings, list(moments), lay_out_openings)


async def apologise(store, case_id: str, minutes: int) -> None:
    command = StepCommand(case_id, 1, "lan", "", completed=True)
    at = T0 + timedelta(minutes=minutes)
    await store.take_step(command.case_id, taking(command, at, lambda *_: Outgoing("t", b"", b"")))


async def queued(store, topic: str = NOTIFY_CASES) -> list[bytes]:
    """What the store's outbox holds for the topic, in order."""
    if hasattr(store, "outbox"):
        return [o.value for o in store.outbox if o.topic == topic]
    async with store.pool.connection() as conn:
        query = "SELECT value FROM notify.outbox WHERE topic = %s ORDER BY id"
        rows = await (await conn.execute(query, (topic,))).fetchall()
    return [bytes(v) for (v,) in rows]


RICH = RecoveryPolicy(escalate_at_risk={"VND": 20_000_000})


ESCALATE_RICHLY = value_escalations(RICH)
