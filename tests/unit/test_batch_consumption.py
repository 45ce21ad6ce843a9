"""One bad record never stalls a stream; a database away is waited for, never skipped."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import psycopg

from tests.builders import record
from touchstone.common.consumers import handle_until_done
from touchstone.common.topics import Incoming, Outgoing

DLQ = "test.dlq.v1"


class Handler:
    """Echoes each record to 'out', fails on poison, or fails transiently a few times."""

    def __init__(self, transient_failures: int = 0) -> None:
        self.transient_failures = transient_failures
        self.calls: list[int] = []

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        self.calls.append(len(batch))
        if self.transient_failures:
            self.transient_failures -= 1
            raise psycopg.OperationalError("server closed the connection")
        if any(r.value == b"poison" for r in batch):
            raise ValueError("cannot take this one")
        return [Outgoing("out", r.key or b"", r.value or b"") for r in batch]


def run(handler: Handler, values: list[bytes]) -> list[Outgoing]:
    batch = [record(v, n) for n, v in enumerate(values)]
    return asyncio.run(handle_until_done(handler, batch, DLQ))


def test_a_record_the_handler_cannot_take_is_dead_lettered_and_the_rest_go_through() -> None:
    values = [b"a", b"b", b"poison", b"c", b"d"]
    out = run(Handler(), values)
    assert [(o.topic, o.value) for o in out] == [
        ("out", b"a"),
        ("out", b"b"),
        (DLQ, b"poison"),
        ("out", b"c"),
        ("out", b"d"),
    ]
    reason = dict(out[2].headers)["dlq_reason"]
    assert reason == b"unhandled: ValueError: cannot take this one"


def test_a_database_that_is_away_is_retried_with_the_whole_batch() -> None:
    handler = Handler(transient_failures=2)
    out = run(handler, [b"a", b"b"])
    assert [o.value for o in out] == [b"a", b"b"]
    assert handler.calls == [2, 2, 2]
