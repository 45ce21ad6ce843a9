"""Journey's rules: judge each moment of truth against measurable standards (DOMAIN §2-4)."""

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


class Verdict(Enum):
    """A moment is a win, a lose, or unscored when no standard applies (never guessed)."""

    WIN = "win"
    LOSE = "lose"
    UNSCORED = "unscored"


@dataclass(frozen=True)
class Standard:
    """A clear, observable, measurable standard for one stage of one journey map (DOMAIN §4).

    It measures either a number (measurement compared with threshold) or the presence of
    observations (every one of required_observations must have been seen).
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
    required_observations: tuple[str, ...] = ()
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.comparator not in COMPARATORS:
            raise ValueError(f"{self.standard_id}: unknown comparator {self.comparator!r}")
        if bool(self.measurement) == bool(self.required_observations):
            raise ValueError(f"{self.standard_id}: needs a measurement or observations, not both")
        if self.area not in PROCEDURAL_AREAS or self.dimension not in QUALITY_DIMENSIONS:
            raise ValueError(f"{self.standard_id}: unknown area or dimension")
        if self.side not in SIDES:
            raise ValueError(f"{self.standard_id}: side must be procedural or personal")


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

    def describe(self) -> str:
        """Readable account of a broken standard, e.g. 'greeted within 30 s: 45 (<= 30)'."""
        s = self.standard
        if s.required_observations:
            return f"{s.description}: missing {', '.join(self.missing)}"
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
    """Judge the moment by the standard; None if the moment does not carry what it measures."""
    if standard.required_observations:
        missing = tuple(o for o in standard.required_observations if o not in moment.observations)
        needed = len(standard.required_observations)
        return Judgement(
            standard, not missing, float(needed - len(missing)), float(needed), missing
        )
    if standard.measurement not in moment.measurements:
        return None
    value = moment.measurements[standard.measurement]
    met = COMPARATORS[standard.comparator](value, standard.threshold)
    return Judgement(standard, met, value, standard.threshold)


def score(moment: Moment, standards: Iterable[Standard]) -> Scored:
    """LOSE if any applicable standard is broken, WIN if all are met, UNSCORED if none applies."""
    judgements = tuple(
        j
        for s in standards
        if s.journey_map == moment.journey_map and s.stage == moment.stage
        for j in [judge(s, moment)]
        if j is not None
    )
    if not judgements:
        return Scored(Verdict.UNSCORED, ())
    verdict = Verdict.WIN if all(j.met for j in judgements) else Verdict.LOSE
    return Scored(verdict, judgements)


def standards_version(standards: Iterable[Standard]) -> str:
    """A short fingerprint of the standards' content: it changes whenever a standard does."""
    text = "\n".join(repr(s) for s in sorted(standards, key=lambda s: s.standard_id))
    return hashlib.sha256(text.encode()).hexdigest()[:12]
