"""Dead letters on a real Postgres: listed with counts, shown whole, redriven once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import psycopg
import pytest

from tests.builders import T0, touchpoint
from touchstone.contacts.dlq_api import valid_at
from touchstone.contacts.domain import DEFAULT_INGEST_POLICY
from touchstone.contacts.identity_keys import DEVELOPMENT_KEYS
from touchstone.contacts.ports import Arrival, DeadLetter, DeadLetterQuery, StoredDeadLetter
from touchstone.contacts.service import PostgresContacts
from touchstone.platform.persistence.pg import open_pool
from touchstone.platform.runtime.settings import Settings

pytestmark = pytest.mark.integration
FUTURE = touchpoint(at=T0 + timedelta(minutes=30)).SerializeToString()


def letter(offset: int, field: str, source: str, value: bytes = b"junk") -> DeadLetter:
    arrival = Arrival(
        "touchpoints.v1",
        0,
        offset,
        T0 + timedelta(seconds=offset),
        b"k",
        value,
        (("ce_source", source.encode()), ("content-type", b"application/protobuf")),
    )
    return DeadLetter(arrival, f"{field}: is wrong", field)


def run(settings: Settings, work):
    async def main():
        pool = open_pool(settings.database_url)
        await pool.open(wait=True)
        try:
            return await work(PostgresContacts(pool, DEVELOPMENT_KEYS))
        finally:
            await pool.close()

    return asyncio.run(main())


def test_dead_letters_are_listed_with_counts_and_shown_with_their_bytes(
    fresh_database: Settings,
) -> None:
    async def work(store: PostgresContacts) -> None:
        letters = [
            letter(1, "value", "door"),
            letter(2, "value", "door"),
            letter(3, "stage", "pbx"),
        ]
        await store.record([], [], letters)
        found, total, counts = await store.list_dead_letters(DeadLetterQuery(), None, 2)
        assert total == 3 and [d.id for d in found] == ["touchpoints.v1/0/1", "touchpoints.v1/0/2"]
        assert counts == [("value", "door", 2), ("stage", "pbx", 1)]
        by_source, total, _ = await store.list_dead_letters(DeadLetterQuery(source="pbx"), None, 9)
        assert total == 1 and by_source[0].field == "stage"
        shown = await store.get_dead_letter("touchpoints.v1/0/3")
        assert shown is not None and shown.arrival == letters[2].arrival

    run(fresh_database, work)


def test_redrive_queues_the_originals_once_and_a_dry_run_changes_nothing(
    fresh_database: Settings,
) -> None:
    async def work(store: PostgresContacts) -> None:
        await store.record(
            [], [], [letter(1, "value", "door"), letter(2, "occurred_at", "door", FUTURE)]
        )
        query = DeadLetterQuery()
        assert await store.redrive(query, lambda _: True, dry_run=True) == (
            ["touchpoints.v1/0/1", "touchpoints.v1/0/2"],
            [],
        )
        fixed = valid_at(T0 + timedelta(hours=1), DEFAULT_INGEST_POLICY)
        redriven, skipped = await store.redrive(query, fixed, dry_run=False)
        assert (redriven, skipped) == (["touchpoints.v1/0/2"], ["touchpoints.v1/0/1"])
        assert await store.redrive(query, fixed, dry_run=False) == ([], ["touchpoints.v1/0/1"])
        (redriven_letter,), _, _ = await store.list_dead_letters(
            DeadLetterQuery(include_redriven=True, field="occurred_at"), None, 9
        )
        assert isinstance(redriven_letter, StoredDeadLetter)
        assert redriven_letter.redriven_at is not None

    run(fresh_database, work)
    with psycopg.connect(fresh_database.database_url) as conn:
        rows = conn.execute("SELECT topic, value, headers FROM contacts.outbox").fetchall()
    assert [(t, bytes(v)) for t, v, _ in rows] == [("touchpoints.v1", FUTURE)]
    assert ["redrive_of", "dG91Y2hwb2ludHMudjEvMC8y"] in rows[0][2]


def test_old_dead_letters_lose_their_bytes_keep_why_and_are_not_redriven(
    fresh_database: Settings,
) -> None:
    async def work(store: PostgresContacts) -> None:
        await store.record([], [], [letter(1, "value", "door"), letter(30, "stage", "pbx")])
        assert await store.forget_bytes_before(T0 + timedelta(seconds=10)) == 1
        assert await store.forget_bytes_before(T0 + timedelta(seconds=10)) == 0  # once
        old = await store.get_dead_letter("touchpoints.v1/0/1")
        young = await store.get_dead_letter("touchpoints.v1/0/30")
        assert old is not None and young is not None
        assert (old.arrival.key, old.arrival.value, old.arrival.headers) == (b"", b"", ())
        assert (old.reason, old.field) == ("value: is wrong", "value")  # why it died stays
        assert young.arrival.value == b"junk" and young.has_bytes and not old.has_bytes
        _, total, counts = await store.list_dead_letters(DeadLetterQuery(), None, 9)
        assert total == 2 and ("value", "door", 1) in counts  # still counted by source

    run(fresh_database, work)
