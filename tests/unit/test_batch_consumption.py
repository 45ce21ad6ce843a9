"""One bad record never stalls a stream, even one whose output the broker would refuse; a database
or broker away is waited for, never skipped; a dead letter always fits the broker."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence

import psycopg
from aiokafka.errors import KafkaConnectionError

from tests.builders import T0, record
from touchstone.platform.messaging.consumers import handle_until_done, settle_batch
from touchstone.platform.messaging.record_size import fitted, record_bytes, sendable_or_dead_letter
from touchstone.platform.messaging.topics import Incoming, Outgoing, dead_letter_record

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


class Broker:
    """A send that refuses a record over its limit, or is away for a few sends, like a broker."""

    def __init__(self, limit: int = 1_000, away_for: int = 0) -> None:
        self.limit = limit
        self.away_for = away_for
        self.sent: list[Outgoing] = []

    async def __call__(self, records: Sequence[Outgoing]) -> None:
        if self.away_for:
            self.away_for -= 1
            raise KafkaConnectionError("broker away")
        self.sent.extend([fitted(r, self.limit) for r in records])  # all checked before any goes


def settle(handler: Handler, values: list[bytes], broker: Broker) -> list[Outgoing]:
    batch = [record(v, n) for n, v in enumerate(values)]
    asyncio.run(settle_batch(handler, batch, DLQ, broker))
    return broker.sent


def test_an_output_the_broker_would_refuse_dead_letters_its_input_and_the_rest_go_through() -> None:
    big = b"x" * 5_000  # its echo is over the broker's limit of 1,000 bytes
    sent = settle(Handler(), [b"a", big, b"b"], Broker(limit=1_000))
    assert [(o.topic, o.value) for o in sent if o.topic == "out"] == [("out", b"a"), ("out", b"b")]
    (letter,) = [o for o in sent if o.topic == DLQ]
    headers = dict(letter.headers)
    assert headers["dlq_reason"].startswith(b"unhandled: RecordTooLarge: a out record of 5,")
    assert (headers["dlq_partition"], headers["dlq_offset"]) == (b"0", b"1")
    assert headers["dlq_size"] == b"5000" and headers["dlq_truncated"] == b"1"
    assert headers["dlq_sha256"] == hashlib.sha256(big).hexdigest().encode()
    assert record_bytes(letter) <= 1_000 and big.startswith(letter.value) and letter.value


def test_a_broker_that_is_away_is_waited_for_with_the_whole_batch() -> None:
    handler = Handler()
    sent = settle(handler, [b"a", b"b"], Broker(away_for=2))
    assert [o.value for o in sent] == [b"a", b"b"]
    assert handler.calls == [2, 2, 2]


def test_a_dead_letter_keeps_its_reason_and_coordinates_when_the_original_headers_are_huge() -> (
    None
):
    original = record(b"y" * 3_000, 7, headers={f"h{n}": b"z" * 400 for n in range(10)})
    letter = dead_letter_record(original, DLQ, "value: bad", "value", T0)
    cut = fitted(letter, 2_000)
    headers = dict(cut.headers)
    assert record_bytes(cut) <= 2_000
    assert headers["dlq_headers_dropped"] == b"10" and "h0" not in headers
    assert (headers["dlq_reason"], headers["dlq_offset"], headers["dlq_size"]) == (
        b"value: bad",
        b"7",
        b"3000",
    )


def test_a_record_that_fits_is_sent_as_it_is() -> None:
    small = Outgoing("out", b"k", b"v", (("ce_id", b"1"),))
    assert fitted(small, 1_000) is small


def test_an_outbox_row_too_big_for_the_broker_goes_to_the_dead_letters_not_in_the_way() -> None:
    row = Outgoing("notify.cases.v1", b"cust-1", b"n" * 4_000, (("ce_id", b"e1"),))
    sent = sendable_or_dead_letter(row, "notify.dlq.v1", 2_000)
    headers = dict(sent.headers)
    assert sent.topic == "notify.dlq.v1" and record_bytes(sent) <= 2_000
    assert (headers["dlq_topic"], headers["ce_id"], headers["dlq_size"]) == (
        b"notify.cases.v1",
        b"e1",
        b"4000",
    )
    assert sendable_or_dead_letter(row, "notify.dlq.v1", 10_000) is row
