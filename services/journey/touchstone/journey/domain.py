"""Journey's rules: judge each moment of truth against measurable standards.

docs/domain.md §2-4.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

COMPARATORS: Mapping[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}
PROCEDURAL_AREAS = frozenset(
    {
        "timeliness",
        "flow",
        "adaptability",
        "anticipation",
        "communication",
        "customer_feedback",
        "organisation_and_supervision",
    }
)
QUALITY_DIMENSIONS = frozenset(
    {
        "tangibles",
        "reliability",
        "responsiveness",
        "communication",
        "credibility",
        "security",
        "competence",
        "courtesy",
        "access",
        "understanding_the_customer",
    }
)
SIDES = frozenset({"procedural", "personal"})
DEADLINES = frozenset({"end_of_next_working_day", "promised"})


class Verdict(Enum):
    """A moment is a win, a lose, or unscored when no standard applies (never guessed)."""

    WIN = "win"
    LOSE = "lose"
    UNSCORED = "unscored"


@dataclass(frozen=True)
class Standard:
    """A clear, observable, measurable standard for one stage of one journey map.

    docs/domain.md §4.

    It measures either a number (measurement compared with threshold) or what was observed
    (every one of must_observe seen, none of must_not_observe). applies_when names observations
    that must be present for the standard to apply at all ("apologises if the transfer fails").
    Beating a measured threshold by surprise_margin delights the customer (docs/domain.md §6).
    A measured standard with absent_loses is broken when its stage's touchpoint carries no
    measurement at all: the thing did not happen while the customer was there (nobody greeted
    them before they left the entrance).
    A deadline standard is opened by a moment at its stage and kept by a later moment at the
    deadline_until stage before deadline_by: the end of the next working day, or the hours the
    opening moment promised (promised_measurement). It can be broken by nothing happening.
    """

    standard_id: str
    journey_map: str
    stage: str
    description: str
    area: str
    dimension: str
    side: str
    measurement: str = ""
    comparator: str = "<="
    threshold: float = 0.0
    must_observe: tuple[str, ...] = ()
    must_not_observe: tuple[str, ...] = ()
    applies_when: tuple[str, ...] = ()
    weight: float = 1.0
    surprise_margin: float = 0.0
    deadline_until: str = ""
    deadline_by: str = ""
    promised_measurement: str = ""
    absent_loses: bool = False

    def __post_init__(self) -> None:
        for problem in standard_problems(self):
            raise ValueError(f"{self.standard_id}: {problem}")

    @property
    def observes(self) -> bool:
        """Whether it judges observations rather than a measurement."""
        return bool(self.must_observe or self.must_not_observe)

    @property
    def is_deadline(self) -> bool:
        """Whether it judges a later moment's arrival rather than this moment."""
        return bool(self.deadline_until)


def standard_problems(standard: Standard) -> list[str]:
    """What makes a standard unusable; empty when it is sound."""
    problems = []
    if standard.comparator not in COMPARATORS:
        problems.append(f"unknown comparator {standard.comparator!r}")
    if [bool(standard.measurement), standard.observes, standard.is_deadline].count(True) != 1:
        problems.append("needs exactly one of a measurement, observations or a deadline")
    if standard.is_deadline and standard.deadline_by not in DEADLINES:
        problems.append(f"a deadline is by one of {', '.join(sorted(DEADLINES))}")
    if (standard.deadline_by == "promised") != bool(standard.promised_measurement):
        problems.append("a promised deadline (and only one) names its promised_measurement")
    if standard.area not in PROCEDURAL_AREAS:
        problems.append(f"unknown procedural area {standard.area!r}")
    if standard.dimension not in QUALITY_DIMENSIONS:
        problems.append(f"unknown quality dimension {standard.dimension!r}")
    if standard.side not in SIDES:
        problems.append("side must be procedural or personal")
    if not standard.weight > 0:
        problems.append("weight must be above 0")
    if standard.surprise_margin < 0 or (standard.surprise_margin and standard.observes):
        problems.append("surprise_margin is a non-negative margin on a measured threshold")
    if standard.absent_loses and not standard.measurement:
        problems.append("only a measured standard can lose by its measurement's absence")
    return problems


@dataclass(frozen=True)
class Moment:
    """What was measured and observed at one stage of one journey."""

    journey_map: str
    stage: str
    measurements: Mapping[str, float] = field(default_factory=dict)
    observations: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Judgement:
    """How one standard judged one moment: met or broken, measured value against threshold."""

    standard: Standard
    met: bool
    measured: float
    threshold: float
    missing: tuple[str, ...] = ()  # observations a standard required that were not seen
    forbidden: tuple[str, ...] = ()  # observations a standard forbids that were seen
    surprised: bool = False  # met with the standard's surprise margin to spare
    note: str = ""  # how a deadline was missed, e.g. "no callback by 2026-11-24 17:30 +07"
    absent: bool = False  # broken by something that did not happen (nothing measured, or came)

    def describe(self) -> str:
        """Readable account of a broken standard, e.g. 'greeted within 30 s: 45 (<= 30)'."""
        s = self.standard
        if self.note:
            return f"{s.description}: {self.note}"
        if s.observes:
            seen = [f"missing {', '.join(self.missing)}"] if self.missing else []
            seen += [f"seen {', '.join(self.forbidden)}"] if self.forbidden else []
            return f"{s.description}: {'; '.join(seen)}"
        return f"{s.description}: {self.measured:g} ({s.comparator} {self.threshold:g})"


@dataclass(frozen=True)
class Scored:
    """The verdict on a moment and every judgement behind it."""

    verdict: Verdict
    judgements: tuple[Judgement, ...]

    @property
    def reason(self) -> str:
        """The broken standards, readable; empty on a win."""
        return "; ".join(j.describe() for j in self.judgements if not j.met)


def judge(standard: Standard, moment: Moment) -> Judgement | None:
    """Judge the moment by the standard; None if the standard does not apply to it."""
    if standard.is_deadline or not set(standard.applies_when) <= moment.observations:
        return None  # a deadline is judged when its moment comes, or when it passes
    if standard.observes:
        return _judge_observations(standard, moment.observations)
    if standard.measurement not in moment.measurements:
        return did_not_happen(standard) if standard.absent_loses else None
    value = moment.measurements[standard.measurement]
    met = COMPARATORS[standard.comparator](value, standard.threshold)
    return Judgement(
        standard, met, value, standard.threshold, surprised=met and _beats(standard, value)
    )


DID_NOT_HAPPEN = "did not happen"


def did_not_happen(standard: Standard) -> Judgement:
    """A measured standard broken because its stage's touchpoint measured nothing."""
    return Judgement(standard, False, 0.0, standard.threshold, note=DID_NOT_HAPPEN, absent=True)


def _judge_observations(standard: Standard, seen: frozenset[str]) -> Judgement:
    missing = tuple(o for o in standard.must_observe if o not in seen)
    forbidden = tuple(o for o in standard.must_not_observe if o in seen)
    conditions = len(standard.must_observe) + len(standard.must_not_observe)
    kept = conditions - len(missing) - len(forbidden)
    met = not missing and not forbidden
    return Judgement(standard, met, float(kept), float(conditions), missing, forbidden)


def _beats(standard: Standard, value: float) -> bool:
    """Whether the value beats the threshold by the surprise margin (there is one)."""
    if not standard.surprise_margin:
        return False
    if standard.comparator in ("<=", "<"):
        return value <= standard.threshold - standard.surprise_margin
    return value >= standard.threshold + standard.surprise_margin


def score(moment: Moment, standards: Iterable[Standard]) -> Scored:
    """LOSE if any applicable standard is broken, WIN if all are met, UNSCORED if none applies."""
    judgements = tuple(
        j
        for s in standards
        if s.journey_map == moment.journey_map and s.stage == moment.stage
        for j in [judge(s, moment)]
        if j is not None
    )
    return verdict_of(judgements)


def verdict_of(judgements: tuple[Judgement, ...]) -> Scored:
    """LOSE if any judgement is broken, WIN if all are met, UNSCORED if there are none."""
    if not judgements:
        return Scored(Verdict.UNSCORED, ())
    verdict = Verdict.WIN if all(j.met for j in judgements) else Verdict.LOSE
    return Scored(verdict, judgements)


def standards_version(standards: Iterable[Standard]) -> str:
    """A short fingerprint of the standards' content: it changes whenever a standard does."""
    text = "\n".join(repr(s) for s in sorted(standards, key=lambda s: s.standard_id))
    return hashlib.sha256(text.encode()).hexdigest()[:12]
