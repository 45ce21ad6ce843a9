"""`touchstone replay SERVICE`: rebuild a service's state from the log and swap it in.

The service's workers must be stopped: the replay joins their consumer group and holds every
partition, so it refuses to start while a worker runs and stops if one starts (group_hold.py).

1. The old state takes what its workers had not finished, from the offsets their group
   committed to the end of the log now, as a restarted worker would (idempotently).
2. Its schema is set aside as `<service>_before_replay`, fresh tables are migrated in its place,
   and the service's own handler takes its input topics from offset 0 to that same end.
3. Tables the rules carry over (the outbox: what the old state had not published yet) are
   copied, and both states are checksummed. Identical: the old one is dropped. Different: the
   old one is put back and the rebuilt one kept as `<service>_replayed` to inspect, unless told
   to keep it. Any failure puts the old state back.

The workers then resume where their group committed, and take the records of step 1 again:
duplicates, re-emitted under the same ids, so nothing they would have published is lost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import psycopg
from psycopg import sql

from touchstone.common.consumers import consumer_group, handle_until_done
from touchstone.common.kafka_admin import committed_offsets
from touchstone.common.pg import apply_migrations, open_pool
from touchstone.common.settings import Settings
from touchstone.common.worker import ServiceSpec
from touchstone.group_hold import WAIT_FOR_GROUP_S, GroupHold, GroupTaken, hold_group
from touchstone.log_range import LogRange, LogStalled, partitions_of, read_range
from touchstone.state_checksum import StateChecksum, state_checksum

CATCH_UP = "catching up the old state"  # what its workers had not finished, if anything
REBUILD = "rebuilding"


class ReplayRefused(Exception):
    """The replay cannot start, or was stopped, and why; the old state is in place."""


@dataclass(frozen=True)
class Progress:
    """How far a rebuild has come."""

    done: int
    total: int
    elapsed_s: float
    stage: str = REBUILD

    @property
    def rate(self) -> float:
        """Events per second so far."""
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the rate so far; None before there is a rate."""
        return (self.total - self.done) / self.rate if self.rate > 0 else None


@dataclass(frozen=True)
class ReplayReport:
    """What a replay did."""

    service: str
    events: int
    seconds: float
    before: StateChecksum
    after: StateChecksum
    swapped: bool
    kept: str = ""  # the schema left to inspect, if any
    carried_over: Mapping[str, int] = field(default_factory=dict)  # rows copied, by table
    caught_up: int = 0  # events the old state took first, to end where the rebuilt one does

    @property
    def identical(self) -> bool:
        """The rebuilt state has the same checksum as the old one."""
        return self.before.total == self.after.total

    @property
    def rate(self) -> float:
        """Events rebuilt per second."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


def replay(
    spec: ServiceSpec,
    settings: Settings,
    *,
    batch: int = 2000,
    keep_different: bool = False,
    wait_for_workers_s: float = WAIT_FOR_GROUP_S,
    progress: Callable[[Progress], None] = lambda p: None,
) -> ReplayReport:
    """Rebuild the service's state from its input topics and swap it in (see the module);
    ReplayRefused if the service's workers still hold its partitions after wait_for_workers_s."""
    if spec.replay.refused:
        raise ReplayRefused(f"{spec.name} cannot be replayed: {spec.replay.refused}")
    try:
        return asyncio.run(
            _replay(spec, settings, batch, keep_different, wait_for_workers_s, progress)
        )
    except LogStalled as stalled:
        raise ReplayRefused(f"{stalled}: the old state is in place") from stalled
    except GroupTaken as taken:
        raise ReplayRefused(
            f"{taken}: stop every worker of {spec.name} (scale it to 0), then replay; "
            f"the old state is in place"
        ) from taken


async def _replay(
    spec: ServiceSpec,
    settings: Settings,
    batch: int,
    keep_different: bool,
    wait_for_workers_s: float,
    progress: Callable[[Progress], None],
) -> ReplayReport:
    group = consumer_group(spec.name, settings.consumer)
    topics = spec.consumed_topics
    partitions = len(partitions_of(settings.kafka_bootstrap, topics))
    hold_it = hold_group(settings.kafka_bootstrap, group, topics, partitions, wait_for_workers_s)
    async with hold_it as hold:
        resume_at = committed_offsets(settings.kafka_bootstrap, group)
        log_range = _log_to_replay(settings, spec, resume_at)
        old, new, kept = f"{spec.name}_before_replay", spec.name, f"{spec.name}_replayed"
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            if not _exists(conn, new):
                raise ReplayRefused(f"there is no {new} schema to rebuild: start {new} first")
            _refuse_leftovers(conn, old, kept)
        # the old state first takes what its workers left, so both states end at the same offsets
        catch_up = log_range.after(resume_at)
        await _feed(spec, settings, catch_up, batch, _staged(progress, CATCH_UP), hold)
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            _rename(conn, new, old)
        try:
            apply_migrations(settings.database_url, new, *spec.migration_sources)
            started = time.monotonic()
            await _feed(spec, settings, log_range, batch, _staged(progress, REBUILD), hold)
            seconds = time.monotonic() - started
            with psycopg.connect(settings.database_url, autocommit=True) as conn:
                carried = _carry_over(conn, spec.replay.carried_over, old, new)
                before, after = (_checksum(conn, spec, schema) for schema in (old, new))
                await hold.check()  # nothing wrote the new state but the rebuild
                swapped = before.total == after.total or keep_different
                with conn.transaction():
                    if swapped:
                        _drop(conn, old)
                    else:
                        _rename(conn, new, kept)
                        _rename(conn, old, new)
        except BaseException:
            _put_back(settings.database_url, old, new)
            raise
    left = "" if swapped else kept
    return ReplayReport(
        spec.name, log_range.total, seconds, before, after, swapped, left, carried, catch_up.total
    )


def _log_to_replay(
    settings: Settings, spec: ServiceSpec, resume_at: Mapping[tuple[str, int], int]
) -> LogRange:
    """The service's input from offset 0 to the end of the log now."""
    log_range = LogRange.now(settings.kafka_bootstrap, spec.consumed_topics, resume_at)
    if trimmed := log_range.trimmed():
        names = ", ".join(f"{topic}[{partition}]" for topic, partition in trimmed)
        raise ReplayRefused(
            f"the broker no longer has the first records of {names} (retention deleted them), "
            f"so {spec.name}'s state cannot be rebuilt from the log: restore a backup instead"
        )
    return log_range


def _staged(progress: Callable[[Progress], None], stage: str) -> Callable[[Progress], None]:
    return lambda p: progress(replace(p, stage=stage))


async def _feed(
    spec: ServiceSpec,
    settings: Settings,
    log_range: LogRange,
    batch: int,
    progress: Callable[[Progress], None],
    hold: GroupHold,
) -> None:
    pool = open_pool(settings.database_url)
    await pool.open(wait=True, timeout=30)
    try:
        handler = spec.batch_handler(spec.store(pool, settings), settings)
        started, done = time.monotonic(), 0
        progress(Progress(0, log_range.total, 0.0))
        if not log_range.total:
            return
        async for records in read_range(settings.kafka_bootstrap, log_range, batch):
            # what it publishes (and dead-letters) was published when the log was first taken
            await handle_until_done(handler, records, spec.dead_letter_topic)
            await hold.check()
            done += len(records)
            progress(Progress(done, log_range.total, time.monotonic() - started))
    finally:
        await pool.close()


def _checksum(conn: psycopg.Connection, spec: ServiceSpec, schema: str) -> StateChecksum:
    rules = spec.replay
    return state_checksum(conn, schema, skip_tables=rules.carried_over, unchecked=rules.unchecked)


def _carry_over(
    conn: psycopg.Connection, tables: tuple[str, ...], old: str, new: str
) -> dict[str, int]:
    """Copy the tables' rows from the old state in place of the rebuilt ones; rows copied."""
    copied = {}
    with conn.transaction():
        for table in tables:
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(new, table)))
            cursor = conn.execute(
                sql.SQL("INSERT INTO {} SELECT * FROM {}").format(
                    sql.Identifier(new, table), sql.Identifier(old, table)
                )
            )
            copied[table] = cursor.rowcount
            _advance_sequences(conn, new, table)
    return copied


SERIAL_COLUMNS = """
SELECT column_name FROM information_schema.columns
WHERE table_schema = %s AND table_name = %s AND column_default LIKE 'nextval(%%'
"""

ADVANCE = """
SELECT setval(pg_get_serial_sequence({table}, {name}), coalesce(max({column}), 0) + 1, false)
FROM {qualified}
"""


def _advance_sequences(conn: psycopg.Connection, schema: str, table: str) -> None:
    """Set each serial column's sequence past the rows copied in."""
    for (column,) in conn.execute(SERIAL_COLUMNS, (schema, table)).fetchall():
        qualified = sql.Identifier(schema, table)
        conn.execute(
            sql.SQL(ADVANCE).format(
                table=sql.Literal(qualified.as_string(conn)),
                name=sql.Literal(column),
                column=sql.Identifier(column),
                qualified=qualified,
            )
        )


def _refuse_leftovers(conn: psycopg.Connection, *schemas: str) -> None:
    for schema in schemas:
        if _exists(conn, schema):
            raise ReplayRefused(
                f"schema {schema} is left from an earlier replay: inspect it, then "
                f"DROP SCHEMA {schema} CASCADE, and replay again"
            )


def _exists(conn: psycopg.Connection, schema: str) -> bool:
    found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    return found is not None


def _rename(conn: psycopg.Connection, schema: str, to: str) -> None:
    conn.execute(
        sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(schema), sql.Identifier(to))
    )


def _drop(conn: psycopg.Connection, schema: str) -> None:
    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def _put_back(database_url: str, old: str, new: str) -> None:
    """After a failure: the partly rebuilt schema goes, the old one returns."""
    with psycopg.connect(database_url, autocommit=True) as conn, conn.transaction():
        if _exists(conn, old):
            if _exists(conn, new):
                _drop(conn, new)
            _rename(conn, old, new)
