"""The guides name code that exists: every dotted `touchstone.…` name in docs/ (the architecture
guide's walk through one touchpoint names each function it passes) imports and resolves, so a
rename that leaves a guide behind fails here."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
NAME = re.compile(r"`(touchstone(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def names_in(page: Path) -> list[str]:
    """The Python names the page gives (`touchstone.<context>.v1.X` is a protobuf type's full
    name, not a module path: left out)."""
    return sorted({n for n in NAME.findall(page.read_text()) if ".v1." not in n})


def resolves(name: str) -> bool:
    """Whether the longest importable module prefix of the name has the rest as attributes."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_every_name_a_guide_gives_resolves(page: Path) -> None:
    assert [name for name in names_in(page) if not resolves(name)] == []


def test_the_architecture_guide_names_the_functions_a_touchpoint_passes() -> None:
    names = names_in(DOCS / "architecture.md")
    assert len(names) > 50
    for service in ("contacts", "journey", "loyalty", "notify"):
        assert any(n.startswith(f"touchstone.{service}.handlers.") for n in names), service
    assert not resolves("touchstone.journey.batch_decision.decide")  # renamed away: caught
