"""Contacts' handler on real Postgres: every record is recorded or dead-lettered; counts add up."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import record, touchpoint
from tests.unit.test_contacts_properties import touchpoints
from touchstone.contacts.handlers import RecordTouchpoints
from touchstone.contacts.identity_keys import DEVELOPMENT_KEYS
from touchstone.contacts.service import PostgresContacts
from touchstone.platform.messaging.topics import (
    CONTACTS_RECORDED,
    TOUCHPOINTS_DLQ,
    Incoming,
    Outgoing,
)
from touchstone.platform.persistence.pg import open_pool
from touchstone.platform.runtime.settings import Settings

pytestmark = pytest.mark.integration


def handle_on_postgres(settings: Settings, batches: list[list[Incoming]]) -> list[Outgoing]:
    """Every batch through the handler over one pool; all the records it published."""

    async def run() -> list[Outgoing]:
        pool = open_pool(settings.database_url)
        await pool.open(wait=True)
        handler, out = RecordTouchpoints(PostgresContacts(pool, DEVELOPMENT_KEYS)), []
        try:
            for batch in batches:
                out += await handler.handle(batch)
        finally:
            await pool.close()
        return out

    return asyncio.run(run())


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batch=st.lists(
        st.one_of(
            touchpoints().map(Touchpoint_bytes := lambda t: t.SerializeToString()),
            st.binary(max_size=200),
        ),
        max_size=15,
    ),
    offset=st.integers(0, 10**9),
)
def test_any_batch_is_stored_without_error(
    fresh_database: Settings, batch: list[bytes], offset: int
) -> None:
    records = [
        record(v, offset + n, headers={"ce_source": b"\x00odd\xff"}) for n, v in enumerate(batch)
    ]
    out = handle_on_postgres(fresh_database, [records])
    assert len(out) == len(batch)


def test_ten_thousand_touchpoints_with_duplicates_conflicts_and_garbage_add_up(
    fresh_database: Settings,
) -> None:
    rng = random.Random(11)
    unique = [touchpoint(event_id=f"e{n}", stage=f"stage-{n % 7}") for n in range(8_800)]
    at = {t.event_id: rng.random() for t in unique}  # when each original arrives, 0..1
    arrivals = [(at[t.event_id], t.SerializeToString()) for t in unique]
    arrivals += [(rng.random(), b"\xff\xfe garbage %d" % n) for n in range(100)]  # 1% malformed
    later = [(rng.choice(unique), {}) for _ in range(1_000)]  # 10% duplicates
    later += [(unique[n], {"staff_id": "someone-else"}) for n in range(100)]  # 1% conflicts
    for original, change in later:  # a repeat arrives after its original
        repeat = touchpoint(event_id=original.event_id, stage=original.stage, **change)
        start = at[original.event_id]
        arrivals.append((start + rng.random() * (1 - start), repeat.SerializeToString()))
    values = [value for _, value in sorted(arrivals)]
    records = [record(v, n) for n, v in enumerate(values)]
    out = handle_on_postgres(fresh_database, [records[i : i + 500] for i in range(0, 10_000, 500)])

    published = Counter(o.topic for o in out)
    dead_fields = Counter(dict(o.headers)["dlq_field"] for o in out if o.topic == TOUCHPOINTS_DLQ)
    with psycopg.connect(fresh_database.database_url) as conn:
        stored, dead, quarantined = conn.execute(
            "SELECT (SELECT count(*) FROM contacts.touchpoints),"
            " (SELECT count(*) FROM contacts.dead_letters),"
            " (SELECT count(*) FROM contacts.conflicts)"
        ).fetchone() or (0, 0, 0)
    # every unique valid touchpoint recorded once; duplicates re-announced, never re-stored
    assert stored == 8_800
    assert published[CONTACTS_RECORDED] == 8_800 + 1_000 and quarantined == 100
    assert dead == 200 and dead_fields == {b"value": 100, b"event_id": 100}
    assert len(out) == 10_000
