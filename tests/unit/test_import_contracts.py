"""The floors hold (docs/architecture.md): every import goes down or stays on its floor, the
services never import each other (only each other's contracts), nothing imports in a circle,
a model module reaches no database, RPC or broker library, however indirectly, and inside a
service only the assembly imports an adapter: rules, handlers and APIs speak to ports.

The graph is read from the source with `ast`, every import counted: at module level, inside a
function and under TYPE_CHECKING alike (an import a function defers is still a dependency).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SOURCE_ROOTS = sorted((Path(__file__).resolve().parents[2] / "services").glob("*/touchstone"))
SERVICES = ("contacts", "journey", "loyalty", "notify")
# Lowest first. A module may import its own floor's modules and those of any floor below.
FLOORS = (
    ("contracts", ("touchstone.annotations", "touchstone.audit", "touchstone.*.v1")),
    ("platform", ("touchstone.platform",)),
    ("shared kernel", ("touchstone.shared_kernel",)),
    ("services", tuple(f"touchstone.{s}" for s in SERVICES)),
    ("operator tools", ("touchstone.tools.ops",)),
    ("console", ("touchstone.tools.console",)),
    ("development tools", ("touchstone.tools.dev",)),
    ("command line", ("touchstone.tools",)),
)
# A model decides; it neither stores, calls nor publishes. These and whatever they import (the
# import's top-level name) stay out of it.
IO_LIBRARIES = frozenset(
    {
        *("psycopg", "psycopg_pool", "grpc", "kafka", "aiokafka", "faust", "mode", "aiohttp"),
        *("aiosmtplib", "smtplib", "socket", "ssl"),
    }
)
DATABASE_LIBRARIES = frozenset({"psycopg", "psycopg_pool"})
ASSEMBLY = ("service", "__main__")  # a service's modules that wire its adapters in
# modules that import a database library without speaking to the database, and why
NOT_ADAPTERS = {
    "touchstone.platform.runtime.outages": "names the database's errors, to tell an outage "
    "from a bug; it opens nothing",
}
MODELS = (
    *(f"touchstone.{s}.domain" for s in SERVICES),
    "touchstone.shared_kernel",
    # the decisions stores are handed, and the rules they are made of
    *("touchstone.journey.batch_decision", "touchstone.journey.deadlines"),
    *("touchstone.journey.lane_clocks", "touchstone.journey.visits"),
    *("touchstone.loyalty.valuation", "touchstone.loyalty.churn", "touchstone.loyalty.tiers"),
    *("touchstone.loyalty.at_risk", "touchstone.loyalty.remembered", "touchstone.loyalty.valued"),
    "touchstone.loyalty.fold_decision",
    *("touchstone.notify.openings", "touchstone.notify.outcome_settlement"),
    *("touchstone.notify.staff_commands", "touchstone.notify.value_escalation"),
    *("touchstone.notify.recovery", "touchstone.notify.overdue", "touchstone.notify.playbooks"),
    *("touchstone.notify.deliveries", "touchstone.notify.delivery_decision"),
    *("touchstone.contacts.profiles", "touchstone.contacts.admission"),
)


@dataclass(frozen=True)
class Module:
    name: str
    path: Path


@cache
def modules() -> dict[str, Module]:
    """Every module of the namespace, by dotted name."""
    found = {}
    for root in SOURCE_ROOTS:
        for path in root.rglob("*.py"):
            parts = path.relative_to(root.parent).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = Module(name, path)
    return found


@cache
def imports_of(name: str) -> frozenset[str]:
    """What a module imports: modules of the namespace by name, other libraries by top name."""
    known = modules()
    found: set[str] = set()
    tree = ast.parse(known[name].path.read_text(), str(known[name].path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            relative = f"{name}: a relative import, line {node.lineno}"
            assert node.level == 0 and node.module, relative
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
    return frozenset(
        imported if imported in known else imported.partition(".")[0]
        for imported in found
        if imported != name
    )


def matches(name: str, pattern: str) -> bool:
    """touchstone.x matches touchstone.x and below; a * stands for one name."""
    parts, wanted = name.split("."), pattern.split(".")
    return len(parts) >= len(wanted) and all(
        w in ("*", p) for w, p in zip(wanted, parts, strict=False)
    )


def floor_of(name: str) -> int:
    """The floor a module stands on: the first (lowest) floor whose patterns match it."""
    for level, (_, patterns) in enumerate(FLOORS):
        if any(matches(name, p) for p in patterns):
            return level
    raise AssertionError(f"{name} stands on no floor: give it one in FLOORS")


def service_of(name: str) -> str | None:
    parts = name.split(".")
    return (
        parts[1]
        if parts[1] in SERVICES and floor_of(name) == floor_of("touchstone.contacts")
        else None
    )


def internal_edges() -> Iterator[tuple[str, str]]:
    known = modules()
    for name in sorted(known):
        for imported in sorted(imports_of(name)):
            if imported in known:
                yield name, imported


def test_the_namespace_is_read_whole() -> None:
    assert len(SOURCE_ROOTS) == 6, SOURCE_ROOTS  # platform, the four services, the tools
    assert {"touchstone.platform.runtime.worker", "touchstone.journey.domain"} <= set(modules())
    assert not any((root / "__init__.py").exists() for root in SOURCE_ROOTS), "one namespace"


def test_every_import_goes_down_or_stays_on_its_floor() -> None:
    upward = [
        f"{a} ({FLOORS[floor_of(a)][0]}) imports {b} ({FLOORS[floor_of(b)][0]})"
        for a, b in internal_edges()
        if floor_of(b) > floor_of(a)
    ]
    assert upward == []


def test_a_service_imports_no_other_service_only_its_contracts() -> None:
    across = [
        f"{a} imports {b}"
        for a, b in internal_edges()
        if service_of(a) and service_of(b) and service_of(a) != service_of(b)
    ]
    assert across == []


def test_a_service_package_imports_nothing_so_its_contract_comes_alone() -> None:
    assert [s for s in SERVICES if imports_of(f"touchstone.{s}")] == []


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components of more than one module: each one a circle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_no_module_imports_in_a_circle() -> None:
    graph: dict[str, set[str]] = {name: set() for name in modules()}
    for a, b in internal_edges():
        graph[a].add(b)
    assert strongly_connected(graph) == []


def reach(name: str) -> set[str]:
    """Everything a module imports, directly or through the namespace's modules."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        for imported in imports_of(todo.pop()):
            if imported not in seen:
                seen.add(imported)
                if imported in modules():
                    todo.append(imported)
    return seen


@pytest.mark.parametrize("model", MODELS)
def test_a_model_reaches_no_database_rpc_or_broker_library(model: str) -> None:
    members = [m for m in modules() if matches(m, model)]
    assert members, f"no model module {model}"
    reached = {m: sorted(reach(m) & IO_LIBRARIES) for m in members}
    assert {m: libraries for m, libraries in reached.items() if libraries} == {}


def adapters() -> set[str]:
    """The adapters: modules that speak to the database themselves (a service's, the
    platform's), the assemblies that wire them in aside."""
    return {
        m
        for m in modules()
        if imports_of(m) & DATABASE_LIBRARIES and not is_assembly(m) and m not in NOT_ADAPTERS
    }


def is_assembly(name: str) -> bool:
    return name.rpartition(".")[2] in ASSEMBLY


@pytest.mark.parametrize("service", SERVICES)
def test_only_a_services_assembly_and_its_adapters_import_adapters(service: str) -> None:
    every = adapters()
    assert any(a.startswith(f"touchstone.{service}.") for a in every), "no adapter: a slip?"
    callers = [m for m in modules() if m.startswith(f"touchstone.{service}.")]
    reaching = {
        m: sorted(imports_of(m) & every) for m in callers if m not in every and not is_assembly(m)
    }
    assert {m: a for m, a in reaching.items() if a} == {}


def test_the_checks_catch_what_they_are_for() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert floor_of("touchstone.journey.v1.events_pb2") == 0
    assert floor_of("touchstone.journey.domain") == 3
    assert floor_of("touchstone.tools.cli") == len(FLOORS) - 1
    assert service_of("touchstone.contacts.v1.events_pb2") is None
    assert service_of("touchstone.notify.store") == "notify"
