"""Configuration files: where the shipped ones are, and reading one as a YAML mapping.

Touchstone's rules are data (standards, calendars, churn model, tiers, playbooks); each module
that reads one finds its shipped file and reads its text here, and reports problems its own way.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml


class ConfigFileError(ValueError):
    """A configuration file that cannot be used: every problem, each naming where it is."""

    def __init__(self, origin: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(f"{origin}: " + "; ".join(problems))


def shipped(package: str, *parts: str) -> Path:
    """A file that ships inside a Touchstone package."""
    return Path(str(importlib.resources.files(package).joinpath(*parts)))


def yaml_mapping(
    text: str, origin: str, refuse: Callable[[list[str]], Exception], expected: str
) -> dict[str, Any]:
    """The YAML text's top-level mapping; refuse(problems) is raised if it is not YAML or not a
    mapping (expected says what it should hold)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise refuse([f"not YAML: {error}"]) from error
    if not isinstance(doc, dict):
        raise refuse([f"expected {expected}"])
    return doc
