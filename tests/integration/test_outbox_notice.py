"""An outbox write is told to the relays when it commits (never when it rolls back), and an idle
relay wakes on that notice instead of polling the table."""

from __future__ import annotations

import asyncio

import psycopg

from touchstone.common import outbox
from touchstone.common.outbox import OutboxRelay, add_to_outbox, notice_channel
from touchstone.common.pg import open_pool
from touchstone.common.topics import Outgoing

RECORD = Outgoing("contacts.recorded.v1", b"k", b"v", ())


def test_a_committed_outbox_write_is_told_and_a_rolled_back_one_is_not(fresh_database) -> None:
    url = fresh_database.database_url

    async def scenario() -> list[str]:
        listener = await psycopg.AsyncConnection.connect(url, autocommit=True)
        await listener.execute(f"LISTEN {notice_channel('contacts')}")
        async with await psycopg.AsyncConnection.connect(url) as writer:
            async with writer.transaction(force_rollback=True):
                await add_to_outbox(writer, "contacts", [RECORD])
            async with writer.transaction():
                await add_to_outbox(writer, "contacts", [RECORD, RECORD])  # one notice
                await add_to_outbox(writer, "contacts", [])  # nothing written, nothing told
        told = [n.channel async for n in listener.notifies(timeout=1.0)]
        await listener.close()
        return told

    assert asyncio.run(scenario()) == ["contacts_outbox"]
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM contacts.outbox").fetchone() == (2,)


def test_an_idle_relay_wakes_when_a_write_is_told(fresh_database, monkeypatch) -> None:
    monkeypatch.setattr(outbox, "WAKE_EVERY_S", 120.0)  # only the notice can end the wait soon
    settings = fresh_database

    async def scenario() -> None:
        pool = open_pool(settings.database_url)
        await pool.open(wait=True)
        relay = OutboxRelay(pool, "contacts", settings, "contacts.dlq.v1")
        try:
            relay._listener = await relay._listen()
            waiting = asyncio.create_task(relay._wait_for_news())
            await asyncio.sleep(0.5)
            assert not waiting.done()
            async with pool.connection() as conn, conn.transaction():
                await add_to_outbox(conn, "contacts", [RECORD])
            await asyncio.wait_for(waiting, timeout=30)
        finally:
            await relay._stop_listening()
            await pool.close()

    asyncio.run(scenario())
