"""Completing visits, on the in-memory fake and on Postgres alike.

Given a customer's moments and the event clock passing the map's visit gap → VisitCompleted with
the level, perception, expectation learnt from their earlier visits, satisfaction and quadrant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.builders import MESSAGE_TAKEN, record, recorded, touchpoint
from tests.integration.store_contract_support import STORE_KINDS, make_store, run
from touchstone.journey.handlers import ScoreMoments
from touchstone.journey.standards import default_standards
from touchstone.journey.v1.events_pb2 import (
    QUADRANT_B_PRODUCTION_LINE,
    QUADRANT_UNSPECIFIED,
    SERVICE_LEVEL_BASIC,
    SERVICE_LEVEL_DESIRED,
    VisitCompleted,
)
from touchstone.journey.visits import expectation_from

DAY1 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 09:00 in Ho Chi Minh City
DAY2 = DAY1 + timedelta(days=1)


@pytest.fixture(params=STORE_KINDS)
def journey_store(request: pytest.FixtureRequest) -> Any:
    return make_store(request, "journey")


# The visit arithmetic below is worked by hand over the timed standards alone.
TIMED = (
    "supermarket.enter_store.greeted_within_30s",
    "supermarket.ask_staff.helped_within_60s",
    "supermarket.wait_in_queue.served_within_5min",
    "phone.message_taking.reply_by_end_of_next_working_day",
    "phone.message_taking.callback_within_promised_time",
)
STANDARDS = tuple(s for s in default_standards() if s.standard_id in TIMED)


def contact(stage: str, at: datetime, visit: str, measured: dict[str, float]) -> Any:
    tp = touchpoint(stage, at, measurements=measured, event_id=f"{visit}-{stage}")
    return record(recorded(tp, "lan", visit), 0, "contacts.recorded.v1")


def tick(at: datetime) -> Any:
    tp = touchpoint("drive_in", at, event_id=f"tick-{at.isoformat()}")
    return record(recorded(tp, "someone-else", f"tick-{at.isoformat()}"), 1, "contacts.recorded.v1")


async def completions(store: Any) -> list[VisitCompleted]:
    """The VisitCompleted records queued for publication."""
    if hasattr(store, "outbox"):
        values = [o.value for o in store.outbox if o.topic == "journey.visits.v1"]
    else:
        async with store.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT value FROM journey.outbox WHERE topic = %s ORDER BY id",
                ("journey.visits.v1",),
            )
            values = [bytes(v) for (v,) in await cursor.fetchall()]
    found = [VisitCompleted.FromString(v) for v in values]
    return [c for c in found if c.customer_id == "lan"]


def test_a_visit_completes_once_its_gap_passes_and_the_next_learns_from_it(journey_store) -> None:
    async def scenario(store) -> None:
        handler = ScoreMoments(store, STANDARDS)
        await handler.handle(
            [
                contact("enter_store", DAY1, "v1", {"greeting_seconds": 5}),  # a surprise
                contact("ask_staff", DAY1 + timedelta(minutes=10), "v1", {"response_seconds": 150}),
                contact("wait_in_queue", DAY1 + timedelta(minutes=30), "v1", {"wait_seconds": 60}),
            ]
        )
        await handler.handle([tick(DAY1 + timedelta(minutes=30 + 120 + 10))])  # within the gap
        assert await completions(store) == []
        for _ in range(2):  # the gap has passed; the batch is redelivered
            await handler.handle([tick(DAY1 + timedelta(minutes=30 + 120 + 20))])
        (first,) = await completions(store)
        assert (first.visit_id, first.wins, first.losses, first.surprises) == ("v1", 2, 1, 2)
        assert first.level == SERVICE_LEVEL_BASIC  # a loss pulls it down from surprising
        assert first.quadrant == QUADRANT_B_PRODUCTION_LINE  # procedure strong, help slow
        assert (first.procedural_score, first.personal_score) == (1.0, 0.0)
        assert (first.perception, first.expectation) == (0.6667, 1.0)
        assert first.satisfaction == pytest.approx(-0.3333)
        assert first.completed_at.ToDatetime(UTC) == DAY1 + timedelta(minutes=30 + 120)
        visit, _ = await store.get_visit("v1")
        assert VisitCompleted.FromString(visit.completion) == first

        await handler.handle(
            [
                contact("enter_store", DAY2, "v2", {"greeting_seconds": 12}),
                contact("wait_in_queue", DAY2 + timedelta(minutes=20), "v2", {"wait_seconds": 200}),
            ]
        )
        await handler.handle([tick(DAY2 + timedelta(hours=3))])
        second = (await completions(store))[1]
        assert second.level == SERVICE_LEVEL_DESIRED and second.quadrant == QUADRANT_UNSPECIFIED
        assert (second.perception, second.expectation) == (1.0, 0.6667)  # learnt from v1
        assert second.satisfaction == pytest.approx(0.3333)

    run(journey_store, scenario)


def test_a_visit_heard_late_gets_its_gap_and_the_next_one_waits_for_it(journey_store) -> None:
    """A visit heard after the clock passed it ends a gap after it was heard, not after its last
    contact; the customer's next visit, quiet first, waits for it (its expectation is learnt
    from it), though the earlier one is not yet quiet itself."""

    async def scenario(store) -> None:
        handler = ScoreMoments(store, STANDARDS)
        await handler.handle(
            [
                contact("enter_store", DAY2, "v2", {"greeting_seconds": 12}),
                contact("wait_in_queue", DAY2 + timedelta(minutes=20), "v2", {"wait_seconds": 60}),
            ]
        )
        await handler.handle([tick(DAY2 + timedelta(minutes=90))])
        await handler.handle([contact("enter_store", DAY1, "v1", {"greeting_seconds": 5})])
        await handler.handle([tick(DAY2 + timedelta(minutes=20 + 120 + 15 + 10))])  # v2's gap
        assert await completions(store) == []  # v2 waits for v1, heard at 90 min, 2 h gap
        await handler.handle([tick(DAY2 + timedelta(minutes=90 + 120 + 15 + 10))])
        first, second = await completions(store)  # v2 in the same batch as v1, once v1 is over
        assert (first.visit_id, second.visit_id) == ("v1", "v2")
        assert first.completed_at.ToDatetime(UTC) == DAY1 + timedelta(minutes=120)
        assert second.expectation == first.perception  # learnt from v1

    run(journey_store, scenario)


def test_a_call_is_not_over_while_its_callback_is_pending(journey_store) -> None:
    async def scenario(store) -> None:
        handler = ScoreMoments(store, STANDARDS)
        message = touchpoint(
            "message_taking", DAY1, "phone", observations=MESSAGE_TAKEN, event_id="msg"
        )
        await handler.handle([record(recorded(message, "lan", "call"), 0, "contacts.recorded.v1")])
        await handler.handle([tick(DAY1 + timedelta(days=2, hours=1))])  # past the 2-day gap
        assert [c.visit_id for c in await completions(store)] == []  # Monday is the deadline
        await handler.handle([tick(DAY1 + timedelta(days=4))])  # the deadline is missed
        assert await completions(store) == []  # its lost moment ends the call later
        await handler.handle([tick(DAY1 + timedelta(days=6))])  # two days after the deadline
        (call,) = await completions(store)
        assert (call.visit_id, call.losses) == ("call", 1)

    run(journey_store, scenario)


def test_a_moment_repeated_in_a_batch_or_redelivered_later_counts_once(journey_store) -> None:
    async def scenario(store) -> None:
        handler = ScoreMoments(store, STANDARDS)
        greeted = contact("enter_store", DAY1, "v1", {"greeting_seconds": 5})
        later = tick(DAY1 + timedelta(hours=3))  # the visit ends within this very batch
        first = await handler.handle([greeted, greeted, later])  # contacts re-published it
        assert first[0] == first[1]  # the repeat is published as the first copy
        assert await handler.handle([greeted]) == first[:1]  # and so is a later redelivery
        visit, moments = await store.get_visit("v1")
        assert (visit.wins, visit.losses, len(moments)) == (1, 0, 1)
        (completed,) = await completions(store)
        assert (completed.wins, completed.surprises, completed.perception) == (1, 1, 1.5)

    run(journey_store, scenario)


def test_a_long_history_teaches_each_visit_from_its_latest_five_before_it(journey_store) -> None:
    """Seven visits, then a batch with two more: each is judged against the five latest of the
    customer's visits completed before it began (the first of the two against days 3-7, the
    second against days 4-8), however many there are."""

    async def scenario(store) -> None:
        handler = ScoreMoments(store, STANDARDS)
        for day in range(7):  # greeted fast (a surprise) or slow (broken), by turns
            at = DAY1 + timedelta(days=day)
            greeting = {"greeting_seconds": 5 if day % 3 else 90}
            await handler.handle([contact("enter_store", at, f"d{day}", greeting)])
            await handler.handle([tick(at + timedelta(hours=3))])
        eighth = DAY1 + timedelta(days=7)
        await handler.handle(
            [
                contact("enter_store", eighth, "d7", {"greeting_seconds": 90}),
                contact("enter_store", eighth + timedelta(hours=4), "d8", {"greeting_seconds": 5}),
                tick(eighth + timedelta(hours=8)),
            ]
        )
        done = await completions(store)
        assert [c.visit_id for c in done] == [f"d{day}" for day in range(9)]
        perceptions = [c.perception for c in done]
        for n, completed in enumerate(done):
            newest_first = perceptions[:n][::-1]
            assert completed.expectation == expectation_from(newest_first), completed.visit_id
        assert done[8].expectation != expectation_from(perceptions[:8][::-1][:4])  # five, not 4

    run(journey_store, scenario)
