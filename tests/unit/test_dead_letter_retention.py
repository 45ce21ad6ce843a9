"""A dead letter's original bytes go with erasure or age; then it is not redriven, and the
retention service asks storage for exactly what is past its term."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from touchstone.contacts.dead_letter_retention import ForgetOldDeadLetterBytes
from touchstone.contacts.dlq_api import redrivable
from touchstone.contacts.ports import Arrival, StoredDeadLetter

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def stored(value: bytes, key: bytes = b"k") -> StoredDeadLetter:
    arrival = Arrival("touchpoints.v1", 0, 1, NOW, key, value, ())
    return StoredDeadLetter(arrival, "value: is wrong", "value", None)


def test_a_dead_letter_without_its_bytes_is_never_redriven() -> None:
    anything = redrivable(lambda _: True)
    assert anything(stored(b"junk")) and anything(stored(b"", key=b"phone:+84901234567"))
    assert not anything(stored(b"", key=b""))  # erased or past its term: nothing to send
    assert not redrivable(lambda _: False)(stored(b"junk"))


class Letters:
    def __init__(self) -> None:
        self.cutoffs: list[datetime] = []

    async def forget_bytes_before(self, cutoff: datetime) -> int:
        self.cutoffs.append(cutoff)
        return 3


def test_the_retention_service_drops_what_is_older_than_its_term_at_start() -> None:
    letters = Letters()

    async def run() -> None:
        service = ForgetOldDeadLetterBytes(letters, timedelta(days=30), clock=lambda: NOW)
        await service.start()
        await asyncio.sleep(0.05)
        await service.stop()

    asyncio.run(run())
    assert letters.cutoffs == [NOW - timedelta(days=30)]  # once at start, the next in an hour
