"""Journey maps as data: the ordered stages of each journey, read from YAML files.

They ship with the shared package (services/platform/touchstone/shared_kernel/maps/*.yaml): journey
scores by
them, and contacts reads the same files to
refuse touchpoints for maps and stages that do not exist. A deployment adds its own maps by
pointing TOUCHSTONE_MAPS_DIR at a folder of such files.
"""

from __future__ import annotations

import importlib.resources
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from touchstone.platform.runtime.config_files import ConfigError, Lined, LinedList, load_lined

UNITS = frozenset({"seconds", "minutes", "hours", "count", "number"})
SIDES = frozenset({"procedural", "personal"})
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class MapError(ConfigError):
    """A map file that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Stage:
    """One moment of truth in a journey, and the vocabulary its producers speak there: what
    they may measure (with unit and plausible range) and what they may observe."""

    id: str
    name: str
    side: str
    measurements: Mapping[str, str] = field(default_factory=dict)  # name -> unit
    on_route: bool = True  # False: a moment that may come at any point (a complaint, say)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # name -> (lo, hi)
    observations: frozenset[str] = frozenset()
    team: str = ""  # the staff team that serves the stage ("" for none): placed in a quadrant too

    def knows(self, kind: str, name: str) -> bool:
        """Whether the stage declares this measurement or observation (kind: either word)."""
        return name in (self.measurements if kind == "measurement" else self.observations)


@dataclass(frozen=True)
class JourneyMap:
    """A journey: its stages in order."""

    id: str
    name: str
    visit_gap: timedelta
    stages: tuple[Stage, ...]

    def stage(self, stage_id: str) -> Stage | None:
        """The stage with this id, or None."""
        return next((s for s in self.stages if s.id == stage_id), None)


def default_maps_dir() -> Path:
    """The maps that ship with Touchstone (supermarket, phone)."""
    return Path(str(importlib.resources.files("touchstone.shared_kernel").joinpath("maps")))


def load_maps(directory: Path | None = None) -> dict[str, JourneyMap]:
    """Every map in the folder's *.yaml files, by id."""
    folder = directory or default_maps_dir()
    maps: dict[str, JourneyMap] = {}
    for path in sorted(folder.glob("*.yaml")):
        journey_map = parse_map(path.read_text(encoding="utf-8"), str(path))
        if journey_map.id in maps:
            raise MapError(f"{path}: map {journey_map.id!r} is defined twice")
        maps[journey_map.id] = journey_map
    if not maps:
        raise MapError(f"{folder}: no journey maps (*.yaml) found")
    return maps


def parse_map(text: str, origin: str) -> JourneyMap:
    """One map from YAML text; MapError naming the origin, the line and the problem."""
    doc, problems = load_lined(text, origin)
    if problems:
        raise MapError(str(problems[0]))
    if not isinstance(doc, Lined):
        raise MapError(f"{origin}:1: expected a mapping with id, name and stages")
    map_id = _identifier(doc.get("id"), f"{origin}:{doc.line_of('id')}: id")
    stages = doc.get("stages")
    if not isinstance(stages, LinedList) or not stages:
        raise MapError(
            f"{origin}:{doc.line_of('stages')}: map {map_id!r} needs a non-empty list of stages"
        )
    parsed = tuple(
        _stage(s, f"{origin}:{stages.line_of(n)}: map {map_id}, stage {n + 1}")
        for n, s in enumerate(stages)
    )
    if len({s.id for s in parsed}) != len(parsed):
        raise MapError(f"{origin}:{doc.line_of('stages')}: map {map_id!r} repeats a stage id")
    gap = doc.get("visit_gap_minutes", 120)
    if not isinstance(gap, int) or gap <= 0:
        raise MapError(
            f"{origin}:{doc.line_of('visit_gap_minutes')}: visit_gap_minutes must be a positive "
            "whole number"
        )
    return JourneyMap(map_id, str(doc.get("name", map_id)), timedelta(minutes=gap), parsed)


def _stage(raw: Any, where: str) -> Stage:
    if not isinstance(raw, dict):
        raise MapError(f"{where}: expected a mapping with id, name and side")
    stage_id = _identifier(raw.get("id"), f"{where}: id")
    side = raw.get("side")
    if side not in SIDES:
        raise MapError(f"{where} ({stage_id}): side must be procedural or personal, not {side!r}")
    where = f"{where} ({stage_id})"
    measurements = raw.get("measurements") or {}
    if not isinstance(measurements, dict):
        raise MapError(f"{where}: measurements must map names to units")
    units, ranges = {}, {}
    for name, declared in measurements.items():
        _identifier(name, f"{where}: measurement")
        units[name], ranges[name] = _measurement(declared, f"{where}: measurement {name}")
    observations = raw.get("observations") or []
    if not isinstance(observations, list):
        raise MapError(f"{where}: observations must be a list of snake_case names")
    for name in observations:
        _identifier(name, f"{where}: observation")
    on_route = raw.get("route", True)
    if not isinstance(on_route, bool):
        raise MapError(f"{where}: route must be true or false")
    team = raw.get("team", "")
    if team:
        _identifier(team, f"{where}: team")
    name = str(raw.get("name", stage_id))
    return Stage(stage_id, name, side, units, on_route, ranges, frozenset(observations), team)


def _measurement(declared: Any, where: str) -> tuple[str, tuple[float, float]]:
    """A measurement's unit and plausible range: `unit` alone, or {unit, range: [lo, hi]}."""
    raw = declared if isinstance(declared, dict) else {"unit": declared}
    unit, bounds = raw.get("unit"), raw.get("range", [0, math.inf])
    if unit not in UNITS:
        raise MapError(f"{where}: unit must be one of {sorted(UNITS)}, not {unit!r}")
    if set(raw) - {"unit", "range"}:
        raise MapError(f"{where}: only unit and range may be given, not {sorted(set(raw))}")
    if (
        not isinstance(bounds, list)
        or len(bounds) != 2
        or not all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
        or not 0 <= bounds[0] < bounds[1]
    ):
        raise MapError(f"{where}: range must be [low, high] with 0 <= low < high, not {bounds!r}")
    return unit, (float(bounds[0]), float(bounds[1]))


def _identifier(value: Any, where: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise MapError(f"{where} must be snake_case (a-z, 0-9, _), not {value!r}")
    return value
