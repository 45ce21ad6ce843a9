"""Re-scoring: what a new standards version would have said about contacts already scored.

Event sourcing earning its keep: journey's input (every recorded contact) is still on the log,
so a candidate set of standards can be tried on history without touching a live verdict. The
recorded contacts of a period, with a lead-in before it and a settling time after it (so that
deadlines opened before the period, and those it opens, play out as they did live), are
replayed twice through the real handler into scratch databases: once under the standards in
force, once under the candidate. Both replays start from the same empty state and see the same
records in the same order, so every difference between them is the standards' doing. The
moments of the period are compared one by one: verdicts that change, and for each standard,
moments it now breaks, now meets, newly judges, or no longer judges.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence

import psycopg

from touchstone.journey.handlers import ScoreMoments, decode_progress, decode_recorded
from touchstone.journey.rescore_report import Period, RescoreReport, compare
from touchstone.journey.service import SPEC, PostgresJourney
from touchstone.journey.standards import StandardSet
from touchstone.journey.v1.events_pb2 import MomentScored
from touchstone.platform.messaging.decoding import UnusableRecord
from touchstone.platform.messaging.progress import is_progress
from touchstone.platform.messaging.topics import Incoming
from touchstone.platform.persistence.pg import apply_migrations, create_scratch_database, open_pool
from touchstone.platform.runtime.prototime import to_datetime
from touchstone.platform.runtime.work_progress import Reporter, WorkProgress, staged, unreported
from touchstone.shared_kernel.calendar import Calendars
from touchstone.shared_kernel.journey_maps import JourneyMap

BATCH = 500


def replayed_by(period: Period, record: Incoming) -> bool:
    """Whether the period replays this recorded contact (live journey dead-lettered what does
    not decode: it scores under no standards)."""
    try:
        if is_progress(record.headers):  # contacts' progress moves the lanes' clocks, as live
            return period.replays(decode_progress(record).at)
        return period.replays(to_datetime(decode_recorded(record).touchpoint.occurred_at))
    except UnusableRecord:
        return False


def to_replay(log: Iterable[Incoming], period: Period) -> list[Incoming]:
    """The recorded contacts the period replays, each partition (lane) in its log order, the
    same for both versions: lanes decide independently, so how they interleave is no matter."""
    return [record for record in log if replayed_by(period, record)]


async def replay_scores(
    database_url: str,
    standards: StandardSet,
    calendars: Calendars,
    maps: Mapping[str, JourneyMap],
    log: Sequence[Incoming],
    period: Period,
    progress: Reporter = unreported,
) -> dict[str, MomentScored]:
    """The period's moments when the log is scored by these standards from an empty state, in a
    scratch database beside database_url's (dropped afterwards); records scored so far told to
    progress."""
    url, drop = create_scratch_database(database_url, "journey_rescore")
    try:
        apply_migrations(url, SPEC.name, *SPEC.migration_sources)
        pool = open_pool(url)
        await pool.open(wait=True)
        try:
            handler = ScoreMoments(PostgresJourney(pool), standards.standards, calendars, maps=maps)
            started = time.monotonic()
            for start in range(0, len(log), BATCH):
                await handler.handle(log[start : start + BATCH])
                done = min(start + BATCH, len(log))
                progress(WorkProgress(done, len(log), time.monotonic() - started))
        finally:
            await pool.close()
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "SELECT payload FROM journey.moments WHERE occurred_at >= %s AND occurred_at < %s",
                (period.since, period.until),
            ).fetchall()
    finally:
        drop()
    return {m.moment_id: m for m in (MomentScored.FromString(bytes(p)) for (p,) in rows)}


async def rescore(
    database_url: str,
    log: Iterable[Incoming],
    period: Period,
    in_force: StandardSet,
    candidate: StandardSet,
    calendars: Calendars,
    maps: Mapping[str, JourneyMap],
    progress: Reporter = unreported,
) -> RescoreReport:
    """What the candidate would have changed in the period, against the standards in force
    (each scoring's progress told to progress, its stage naming the standards' version)."""
    replayed = to_replay(log, period)
    before = await replay_scores(
        database_url,
        in_force,
        calendars,
        maps,
        replayed,
        period,
        staged(progress, f"scoring by {in_force.version} (in force)"),
    )
    after = await replay_scores(
        database_url,
        candidate,
        calendars,
        maps,
        replayed,
        period,
        staged(progress, f"scoring by {candidate.version} (candidate)"),
    )
    return RescoreReport(
        period,
        in_force.version,
        candidate.version,
        len(before.keys() | after.keys()),
        compare(before, after),
    )
