"""What a candidate set of standards would have changed: the period compared, each moment whose
verdict or judgements differ, and the counts an operator reads (by stage, by standard). Pure:
rescore.py replays the log to get the moments compared here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from touchstone.journey.codec import VERDICT_NAMES
from touchstone.journey.v1.events_pb2 import MomentScored
from touchstone.platform.runtime.prototime import to_datetime

DEFAULT_SETTLING = timedelta(days=7)  # long enough for every default deadline to play out
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
