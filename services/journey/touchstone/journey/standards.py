"""Service standards as data: read from YAML, every problem reported with its line.

The defaults (standards/default.yaml) encode every example of docs/domain.md §4; a deployment uses
its own file through TOUCHSTONE_STANDARDS_FILE. A set of standards is versioned by its content
(standards_version), and every MomentScored names the version that judged it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from touchstone.journey.domain import (
    COMPARATORS,
    DEADLINES,
    PROCEDURAL_AREAS,
    QUALITY_DIMENSIONS,
    SIDES,
    Standard,
    standards_version,
)
from touchstone.platform.runtime.config_files import (
    Lined,
    Problem,
    ProblemsError,
    load_lined,
    shipped,
)
from touchstone.shared_kernel.journey_maps import IDENTIFIER, JourneyMap, load_maps

ENTRY_KEYS = frozenset(
    {
        "id",
        "map",
        "stage",
        "description",
        "area",
        "dimension",
        "side",
        "weight",
        "measure",
        "observe",
        "deadline",
        "source",
        "assumption",
    }
)
DEADLINE_KEYS = frozenset({"until", "by", "promised"})
MEASURE_KEYS = frozenset(
    {"measurement", "comparator", "threshold", "surprise_margin", "when_absent"}
)
WHEN_ABSENT = ("ignore", "lose")  # a touchpoint without the measurement: not judged, or lost
OBSERVE_KEYS = frozenset({"must", "must_not", "applies_when"})
LABELS = (("area", PROCEDURAL_AREAS), ("dimension", QUALITY_DIMENSIONS), ("side", SIDES))


class StandardsError(ProblemsError):
    """A standards file that cannot be used; every problem is listed."""


WEIGHT_DECIMALS = 3  # sums of weights are kept to SUM_DECIMALS (visits.py): exact, in any order


@dataclass(frozen=True)
class StandardSet:
    """The standards in force, and the version that names them."""

    standards: tuple[Standard, ...]
    version: str


def default_standards_file() -> Path:
    """The standards that ship with Touchstone."""
    return shipped("touchstone.journey", "standards", "default.yaml")


@cache
def default_standards() -> tuple[Standard, ...]:
    """The default standards over the default maps (read once, when first asked for)."""
    return load_standards(None, load_maps()).standards


def load_standards(path: Path | None, maps: Mapping[str, JourneyMap]) -> StandardSet:
    """The standards in the file (the defaults if None); StandardsError listing every problem."""
    source = path or default_standards_file()
    standards, problems = parse_standards(source.read_text(encoding="utf-8"), str(source), maps)
    if problems:
        raise StandardsError(problems)
    return StandardSet(standards, standards_version(standards))


def parse_standards(
    text: str, origin: str, maps: Mapping[str, JourneyMap]
) -> tuple[tuple[Standard, ...], list[Problem]]:
    """The standards a YAML text defines, and every problem found in it."""
    doc, problems = load_lined(text, origin)
    if problems:
        return (), problems
    entries = doc.get("standards") if isinstance(doc, Lined) else None
    if not isinstance(entries, list) or not entries:
        line = doc.line if isinstance(doc, Lined) else 1
        return (), [Problem(origin, line, "standards", "expected a non-empty list of standards")]
    reader = _Reader(origin, maps)
    standards = [s for n, entry in enumerate(entries) if (s := reader.standard(n, entry))]
    return tuple(standards), sorted(reader.problems, key=lambda p: p.line)


class _Reader:
    """Reads entries one by one, collecting problems rather than stopping at the first."""

    def __init__(self, origin: str, maps: Mapping[str, JourneyMap]) -> None:
        self.origin = origin
        self.maps = maps
        self.problems: list[Problem] = []
        self.seen: set[str] = set()

    def problem(self, mapping: Lined, where: str, key: str, message: str) -> None:
        """A problem with mapping[key] (with the mapping itself when key is empty)."""
        field = f"{where}.{key}" if key else where
        self.problems.append(Problem(self.origin, mapping.line_of(key), field, message))

    def standard(self, n: int, entry: Any) -> Standard | None:
        where = f"standards[{n}]"
        if not isinstance(entry, Lined):
            self.problems.append(Problem(self.origin, 1, where, "expected a mapping"))
            return None
        before = len(self.problems)
        for key in sorted(set(entry) - ENTRY_KEYS):
            self.problem(entry, where, key, f"unknown key; known: {sorted(ENTRY_KEYS)}")
        standard_id = self.identity(entry, where)
        where = f"{where} ({standard_id})" if standard_id else where
        journey_map = self.place(entry, where)
        fields = self.labels(entry, where)
        kind = self.kind(entry, where, journey_map)
        if len(self.problems) > before:
            return None
        try:
            return Standard(standard_id=standard_id, **fields, **kind)
        except ValueError as error:  # the domain's own checks, should a new one be added
            self.problem(entry, where, "", str(error))
            return None

    def identity(self, entry: Lined, where: str) -> str:
        standard_id = entry.get("id")
        if not isinstance(standard_id, str) or not standard_id.strip():
            self.problem(entry, where, "id", "is required: a unique name for the standard")
            return ""
        if standard_id in self.seen:
            self.problem(entry, where, "id", f"{standard_id!r} is defined twice")
        self.seen.add(standard_id)
        return standard_id

    def place(self, entry: Lined, where: str) -> JourneyMap | None:
        journey_map = self.maps.get(str(entry.get("map")))
        if journey_map is None:
            known = ", ".join(sorted(self.maps))
            self.problem(entry, where, "map", f"unknown map {entry.get('map')!r}; known: {known}")
            return None
        stage = journey_map.stage(str(entry.get("stage")))
        if stage is None:
            stages = ", ".join(s.id for s in journey_map.stages)
            self.problem(
                entry,
                where,
                "stage",
                f"{entry.get('stage')!r} is not a stage of {journey_map.id}; its stages: {stages}",
            )
        return journey_map

    def labels(self, entry: Lined, where: str) -> dict[str, Any]:
        for key, allowed in LABELS:
            if entry.get(key) not in allowed:
                self.problem(entry, where, key, f"must be one of {', '.join(sorted(allowed))}")
        for key in ("source", "assumption"):
            if key in entry and not (isinstance(entry[key], str) and entry[key].strip()):
                self.problem(entry, where, key, "must say where the figure comes from, or why")
        description = entry.get("description")
        if not isinstance(description, str) or not description.strip():
            self.problem(entry, where, "description", "is required: what a manager reads")
        weight = entry.get("weight", 1)
        if not _number(weight) or weight <= 0:
            self.problem(entry, where, "weight", "must be a number above 0")
        elif round(weight, WEIGHT_DECIMALS) != weight:
            self.problem(entry, where, "weight", f"has at most {WEIGHT_DECIMALS} decimals")
        return {
            "journey_map": entry.get("map"),
            "stage": entry.get("stage"),
            "description": description,
            "area": entry.get("area"),
            "dimension": entry.get("dimension"),
            "side": entry.get("side"),
            "weight": float(weight) if _number(weight) else 1.0,
        }

    def kind(self, entry: Lined, where: str, journey_map: JourneyMap | None) -> dict[str, Any]:
        kinds = [k for k in ("measure", "observe", "deadline") if k in entry]
        if len(kinds) != 1:
            self.problem(entry, where, "", "needs exactly one of measure, observe or deadline")
            return {}
        if "measure" in entry:
            return self.measure(entry["measure"], entry, f"{where}.measure", journey_map)
        if "deadline" in entry:
            return self.deadline(entry["deadline"], entry, f"{where}.deadline", journey_map)
        return self.observe(entry["observe"], entry, f"{where}.observe", journey_map)

    def deadline(
        self, raw: Any, entry: Lined, where: str, journey_map: JourneyMap | None
    ) -> dict[str, Any]:
        if not isinstance(raw, Lined):
            self.problem(entry, where, "", "expected {until, by, promised}")
            return {}
        for key in sorted(set(raw) - DEADLINE_KEYS):
            self.problem(raw, where, key, f"unknown key; known: {sorted(DEADLINE_KEYS)}")
        until, by, promised = raw.get("until"), raw.get("by"), raw.get("promised", "")
        if journey_map is not None and journey_map.stage(str(until)) is None:
            self.problem(raw, where, "until", f"{until!r} is not a stage of {journey_map.id}")
        if by not in DEADLINES:
            self.problem(raw, where, "by", f"must be one of {', '.join(sorted(DEADLINES))}")
        stage = journey_map.stage(str(entry.get("stage"))) if journey_map else None
        if by == "promised" and stage is not None and promised not in stage.measurements:
            self.problem(
                raw, where, "promised", f"names the measurement at {stage.id} holding the promise"
            )
        return {"deadline_until": until, "deadline_by": by, "promised_measurement": promised}

    def measure(
        self, raw: Any, entry: Lined, where: str, journey_map: JourneyMap | None
    ) -> dict[str, Any]:
        if not isinstance(raw, Lined):
            self.problem(entry, where, "", "expected {measurement, comparator, threshold}")
            return {}
        for key in sorted(set(raw) - MEASURE_KEYS):
            self.problem(raw, where, key, f"unknown key; known: {sorted(MEASURE_KEYS)}")
        measurement, comparator = raw.get("measurement"), raw.get("comparator", "<=")
        threshold, margin = raw.get("threshold"), raw.get("surprise_margin", 0)
        stage = journey_map.stage(str(entry.get("stage"))) if journey_map else None
        if stage is not None and measurement not in stage.measurements:
            known = ", ".join(stage.measurements) or "none"
            self.problem(
                raw,
                where,
                "measurement",
                f"{measurement!r} is not measured at {stage.id}; the map declares: {known}",
            )
        if comparator not in COMPARATORS:
            self.problem(raw, where, "comparator", f"must be one of {', '.join(COMPARATORS)}")
        if not _number(threshold):
            self.problem(raw, where, "threshold", "must be a number")
        if not _number(margin) or margin < 0:
            self.problem(raw, where, "surprise_margin", "must be a number, 0 or more")
        when_absent = raw.get("when_absent", "ignore")
        if when_absent not in WHEN_ABSENT:
            self.problem(raw, where, "when_absent", f"must be one of {', '.join(WHEN_ABSENT)}")
        return {
            "measurement": measurement,
            "comparator": comparator,
            "threshold": float(threshold) if threshold is not None and _number(threshold) else 0.0,
            "surprise_margin": float(margin) if _number(margin) else 0.0,
            "absent_loses": when_absent == "lose",
        }

    def observe(
        self, raw: Any, entry: Lined, where: str, journey_map: JourneyMap | None
    ) -> dict[str, Any]:
        if not isinstance(raw, Lined):
            self.problem(entry, where, "", "expected {must, must_not, applies_when}")
            return {}
        for key in sorted(set(raw) - OBSERVE_KEYS):
            self.problem(raw, where, key, f"unknown key; known: {sorted(OBSERVE_KEYS)}")
        lists = {key: raw.get(key, []) for key in ("must", "must_not", "applies_when")}
        for key, names in lists.items():
            if not isinstance(names, list) or not all(
                isinstance(o, str) and IDENTIFIER.match(o) for o in names
            ):
                self.problem(raw, where, key, "must be a list of snake_case observations")
                lists[key] = []
        if not lists["must"] and not lists["must_not"]:
            self.problem(raw, where, "", "needs observations that must or must not be seen")
        stage = journey_map.stage(str(entry.get("stage"))) if journey_map else None
        if stage is not None:
            for key, names in lists.items():
                unknown = [o for o in names if not stage.knows("observation", o)]
                if unknown:
                    known = ", ".join(sorted(stage.observations)) or "none"
                    message = f"{', '.join(unknown)}: not observed at {stage.id}; known: {known}"
                    self.problem(raw, where, key, message)
        return {
            "must_observe": tuple(lists["must"]),
            "must_not_observe": tuple(lists["must_not"]),
            "applies_when": tuple(lists["applies_when"]),
        }


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
