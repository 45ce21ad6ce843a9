"""DeadlineStore contract, on the in-memory fake and on Postgres alike.

Given a message left and the event clock moving → the deadline is kept by a callback in time,
or missed: its lost moment is stored and queued for publication in the same transaction.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.builders import MESSAGE_TAKEN, record, recorded, touchpoint
from tests.integration.store_contract_support import STORE_KINDS, make_store, run
from touchstone.journey.handlers import ScoreMoments
from touchstone.journey.standards import default_standards
from touchstone.journey.v1.events_pb2 import MomentScored

HCM = timezone(timedelta(hours=7))
FRIDAY, MONDAY = date(2026, 11, 20), date(2026, 11, 23)


@pytest.fixture(params=STORE_KINDS)
def journey_store(request: pytest.FixtureRequest) -> Any:
    return make_store(request, "journey")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=HCM)


def message(when: datetime, customer: str) -> Any:
    tp = touchpoint(
        "message_taking", when, "phone", observations=MESSAGE_TAKEN, event_id=f"msg-{customer}"
    )
    return record(recorded(tp, customer, f"call-{customer}"), 0, "contacts.recorded.v1")


def callback(when: datetime, customer: str) -> Any:
    tp = touchpoint(
        "callback",
        when,
        "phone",
        event_id=f"cb-{customer}",
        observations=["need_met", "at_agreed_time"],
    )
    return record(recorded(tp, customer, f"cb-{customer}"), 1, "contacts.recorded.v1")


def clock(when: datetime) -> Any:
    tp = touchpoint("drive_in", when, event_id=f"tick-{when.isoformat()}")
    return record(recorded(tp, "someone"), 2, "contacts.recorded.v1")


async def published_losses(store: Any) -> list[MomentScored]:
    """The lost moments queued for publication (the fake's list, or journey.outbox)."""
    if hasattr(store, "outbox"):
        values = [o.value for o in store.outbox if o.topic == "journey.moments.v1"]
    else:
        async with store.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT value FROM journey.outbox WHERE topic = %s ORDER BY id",
                    ("journey.moments.v1",),
                )
            ).fetchall()
        values = [bytes(v) for (v,) in rows]
    return [MomentScored.FromString(v) for v in values]


def test_deadlines_are_kept_or_missed_once_and_their_losses_queued(journey_store) -> None:
    async def scenario(store) -> None:
        handler = ScoreMoments(store, default_standards())
        await handler.handle([message(at(FRIDAY, 15), "kept"), message(at(FRIDAY, 16), "missed")])
        assert len(await store.open_deadlines()) == 2
        await handler.handle([callback(at(MONDAY, 9), "kept")])
        assert [d.customer_id for d in await store.open_deadlines()] == ["missed"]
        for _ in range(2):  # the clock passes the deadline (and twice the 15 minutes'
            # lateness: a late callback may still come until then), and the batch is redelivered
            await handler.handle([clock(at(MONDAY, 18, 5))])
        assert await store.open_deadlines() == []
        (lost,) = await published_losses(store)
        assert (lost.customer_id, lost.occurred_at.ToDatetime(UTC)) == (
            "missed",
            at(MONDAY, 17, 30),
        )
        visit = await store.get_visit("call-missed")
        assert visit is not None and visit[0].losses == 1  # the lost moment counts in its visit

    run(journey_store, scenario)
