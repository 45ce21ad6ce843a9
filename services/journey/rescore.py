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
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from journey.codec import VERDICT_NAMES
from journey.handlers import ScoreMoments, decode_progress, decode_recorded
from journey.service import SPEC, PostgresJourney
from journey.standards import StandardSet
from touchstone.common.calendar import Calendars
from touchstone.common.decoding import UnusableRecord
from touchstone.common.journey_maps import JourneyMap
from touchstone.common.pg import apply_migrations, create_scratch_database, open_pool
from touchstone.common.progress import is_progress
from touchstone.common.prototime import to_datetime
from touchstone.common.topics import Incoming
from touchstone.common.work_progress import Reporter, WorkProgress, staged, unreported
from touchstone.journey.v1.events_pb2 import MomentScored

DEFAULT_SETTLING = timedelta(days=7)  # long enough for every default deadline to play out
BATCH = 500
ABSENT = "absent"  # no such moment under these standards (a deadline nobody opened, say)
NOT_JUDGED = "not judged"


@dataclass(frozen=True)
class Period:
    """The moments reported on, and how much log around them is replayed."""

    since: datetime
    until: datetime
    settling: timedelta = DEFAULT_SETTLING

    def replays(self, at: datetime) -> bool:
        """Whether a contact at this time is replayed (the lead-in and settling included)."""
        return self.since - self.settling <= at < self.until + self.settling

    def reports(self, at: datetime) -> bool:
        """Whether a moment at this time is reported on."""
        return self.since <= at < self.until


@dataclass(frozen=True)
class StandardChange:
    """How one standard's judgement of one moment changed."""

    standard_id: str
    before: str  # met, broken or not judged
    after: str


@dataclass(frozen=True)
class Change:
    """A moment whose verdict or judgements differ under the candidate standards."""

    moment_id: str
    journey_map: str
    stage: str
    site_id: str
    occurred_at: datetime
    before: str  # win, lose, unscored or absent
    after: str
    standards: tuple[StandardChange, ...]

    @property
    def transition(self) -> str:
        return f"{self.before} -> {self.after}"


@dataclass(frozen=True)
class RescoreReport:
    """What the candidate standards would have changed in the period."""

    period: Period
    version_in_force: str
    candidate_version: str
    moments: int  # moments of the period under either version
    changes: tuple[Change, ...]

    @property
    def verdicts_changed(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.before != c.after)

    def by_stage(self) -> dict[tuple[str, str], Counter[str]]:
        """(map, stage) -> how many verdicts changed, by transition ("win -> lose", ...)."""
        stages: dict[tuple[str, str], Counter[str]] = {}
        for change in self.verdicts_changed:
            stages.setdefault((change.journey_map, change.stage), Counter())[change.transition] += 1
        return stages

    def by_standard(self) -> dict[str, Counter[str]]:
        """standard id -> how many moments' judgements changed, by transition."""
        standards: dict[str, Counter[str]] = {}
        for change in self.changes:
            for s in change.standards:
                standards.setdefault(s.standard_id, Counter())[f"{s.before} -> {s.after}"] += 1
        return standards


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


def judgements(moment: MomentScored | None) -> dict[str, str]:
    """standard id -> met or broken, for the standards that judged the moment."""
    if moment is None:
        return {}
    return {r.standard_id: "met" if r.met else "broken" for r in moment.results}


def verdict_name(moment: MomentScored | None) -> str:
    return ABSENT if moment is None else VERDICT_NAMES[moment.verdict]


def compare(
    before: Mapping[str, MomentScored], after: Mapping[str, MomentScored]
) -> tuple[Change, ...]:
    """Every moment whose verdict or judgements differ, by time then id."""
    changes = []
    for moment_id in before.keys() | after.keys():
        old, new = before.get(moment_id), after.get(moment_id)
        was, now = judgements(old), judgements(new)
        standards = tuple(
            StandardChange(s, was.get(s, NOT_JUDGED), now.get(s, NOT_JUDGED))
            for s in sorted(was.keys() | now.keys())
            if was.get(s) != now.get(s)
        )
        if not standards and verdict_name(old) == verdict_name(new):
            continue
        either = new or old
        assert either is not None
        changes.append(
            Change(
                moment_id,
                either.journey_map,
                either.stage,
                either.site_id,
                to_datetime(either.occurred_at),
                verdict_name(old),
                verdict_name(new),
                standards,
            )
        )
    return tuple(sorted(changes, key=lambda c: (c.occurred_at, c.moment_id)))


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
