"""Configuration files: where the shipped ones are, and reading one as a YAML mapping.

Touchstone's rules are data (standards, calendars, churn model, tiers, playbooks); each module
that reads one finds its shipped file and reads its text here, and reports problems its own way.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A configuration file that cannot be used; its message says where and what is wrong."""


class ConfigFileError(ConfigError):
    """A configuration file that cannot be used: every problem ("field: what is wrong and what is
    allowed"), each told on a line of its own with the file and the line the field is on (when
    the file's lined YAML is given)."""

    def __init__(self, origin: str, problems: Sequence[str], doc: Any = None) -> None:
        self.problems = list(problems)
        self.lines = [line_of_field(doc, problem.split(": ", 1)[0]) for problem in problems]
        where = [f"{origin}:{line}" if line else origin for line in self.lines]
        super().__init__("\n".join(f"{w}: {p}" for w, p in zip(where, problems, strict=True)))


def shipped(package: str, *parts: str) -> Path:
    """A file that ships inside a Touchstone package."""
    return Path(str(importlib.resources.files(package).joinpath(*parts)))


def yaml_mapping(
    text: str, origin: str, refuse: Callable[[list[str]], Exception], expected: str
) -> Lined:
    """The YAML text's top-level mapping, with its lines (LinedLoader); refuse(problems) is
    raised if it is not YAML or not a mapping (expected says what it should hold)."""
    doc, problems = load_lined(text, origin)
    if problems:
        raise refuse([f"file: line {p.line}: {p.message}" for p in problems])
    if not isinstance(doc, Lined):
        raise refuse([f"file: expected {expected}"])
    return doc


FIELD_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def line_of_field(doc: Any, field: str) -> int | None:
    """The line of a field named as problems name it (`playbooks.quick[1].due`) in lined YAML:
    of the deepest part of it the file has; None when there is no lined YAML to look in."""
    if not isinstance(doc, Lined):
        return None
    line, here, found = doc.line, doc, False
    for name, index in FIELD_STEP.findall(field):
        if name and isinstance(here, Lined) and name in here:
            line, here = here.line_of(name), here[name]
        elif index and isinstance(here, LinedList) and int(index) < len(here):
            line, here = here.line_of(int(index)), here[int(index)]
        else:
            break
        found = True
    return line if found else None  # a field the file lacks altogether has no line


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a configuration file: where, which field, what (and what is allowed)."""

    origin: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.origin}:{self.line}: {self.field}: {self.message}"


class ProblemsError(ConfigError):
    """A configuration file that cannot be used; every problem is listed, a line each."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Lined(dict[str, Any]):
    """A YAML mapping that remembers its line and the line of each of its keys."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        """The line of key, or of the mapping when the key is absent."""
        return self.key_lines.get(key, self.line)


class LinedList(list[Any]):
    """A YAML sequence that remembers its line and the line of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        """The line of the item at index."""
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class LinedLoader(yaml.SafeLoader):
    """A safe loader whose mappings and sequences know their lines, and which leaves dates as
    the text they were written as (a YAML date that does not exist, 2026-02-30, is otherwise a
    bare ValueError with no line), so a reader can say where and what is wrong."""


def _lined_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Lined:
    mapping = Lined(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
    return mapping


def _lined_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LinedList:
    sequence = LinedList(loader.construct_sequence(node, deep=True))
    sequence.line = node.start_mark.line + 1
    sequence.item_lines = [item.start_mark.line + 1 for item in node.value]
    return sequence


LinedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _lined_mapping)
LinedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _lined_sequence)
LinedLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_lined(text: str, origin: str) -> tuple[Any, list[Problem]]:
    """The YAML text with its lines (LinedLoader), or a problem naming where it is not YAML."""
    try:
        return yaml.load(text, Loader=LinedLoader), []  # a safe loader
    except (yaml.YAMLError, ValueError) as error:  # ValueError: an explicit !!timestamp that
        # does not exist, say; YAML gives no line for it
        mark = getattr(error, "problem_mark", None)
        return None, [Problem(origin, mark.line + 1 if mark else 1, "file", f"not YAML: {error}")]
