"""The fault matrix of issue 19, and `touchstone faults` running it."""

from __future__ import annotations

import itertools
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace

from touchstone.platform.runtime.settings import SERVICES, Settings
from touchstone.tools.dev.faults.injections import (
    broker_cut,
    database_away,
    killed,
    worker_joins_and_dies,
)
from touchstone.tools.dev.faults.runner import (
    QUIET_S,
    Observed,
    Row,
    RowVerdict,
    judged,
    run_row,
    table,
)
from touchstone.tools.dev.faults.workloads import jittered, simulated, with_malformed, with_repeats


@dataclass(frozen=True)
class Plan:
    """How big and how long: `make faults` runs the issue's figures, `make test` a small one."""

    events: int = 20_000
    seed: int = 19
    kills: int = 3  # kill -9 of each service, this many times
    outage_s: float = 30.0  # Postgres stopped, the broker cut
    repeats: float = 0.10
    conflicts: float = 0.01
    malformed: float = 0.01
    overload_per_s: float = 2_000.0  # above what the four services handle end to end
    overload_s: float = 180.0  # offered this long (the issue: 3 minutes); 0: no row
    matrix: bool = True  # False: the overload row alone (it takes longest)
    timeout_s: float = 1_800.0  # per row, to settle
    quiet_s: float = QUIET_S  # settled: nothing changed for this long
    services: tuple[str, ...] = SERVICES  # whose kill -9 rows run


def rows(plan: Plan) -> list[Row]:
    """Every row but the overload's, each compared with a fault-free run of `simulated`."""
    base = simulated(plan.seed, plan.events)
    outage = f"{plan.outage_s:.0f} s"
    return [
        Row("none (a second fault-free run)", base),
        *(Row(f"kill -9 {s} {plan.kills}x", base, killed(s, plan.kills)) for s in plan.services),
        Row(f"Postgres stopped {outage}", base, database_away(plan.outage_s)),
        Row(f"broker connection cut {outage}", base, broker_cut(plan.outage_s)),
        Row("none", with_repeats(base, plan.seed, plan.repeats, plan.conflicts)),
        Row("none", with_malformed(base, plan.seed, plan.malformed)),
        Row("none", jittered(base, plan.seed)),
        Row("2nd journey worker joins, killed -9", base, worker_joins_and_dies("journey")),
    ]


def overload(plan: Plan) -> Row:
    """Touchpoints offered faster than the services handle them, for overload_s."""
    load = simulated(plan.seed + 1, int(plan.overload_per_s * plan.overload_s))
    load = replace(load, name=f"{len(load.records):,} at {plan.overload_per_s:,.0f}/s")
    return Row(f"overload {plan.overload_s:.0f} s", load, offered_per_s=plan.overload_per_s)


def planned(plan: Plan) -> list[tuple[Row, list[Row]]]:
    """Each fault-free reference with the rows judged against it."""
    groups: list[tuple[Row, list[Row]]] = []
    if plan.matrix:
        groups.append((Row("none (reference)", simulated(plan.seed, plan.events)), rows(plan)))
    if plan.overload_s > 0:
        loaded = overload(plan)
        backlog = replace(loaded, fault="none (overload's reference)", offered_per_s=None)
        groups.append((backlog, [loaded]))
    return groups


def run_matrix(
    settings: Settings, plan: Plan, say: Callable[[str], None] = print
) -> list[RowVerdict]:
    """Every row against its fault-free reference: each row's line printed as it finishes, then
    the table."""
    root = settings.state_dir / "faults"
    shutil.rmtree(root, ignore_errors=True)
    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # the suite's own clients lose the
    # broker on purpose; their readings then say "unknown", which the rows report

    def run(row: Row, n: int) -> Observed:
        say(f"[{n}] {row.fault} | {row.workload.name} ({len(row.workload.records):,} records)")
        here = replace(settings, state_dir=root / str(n))
        observed = run_row(here, row, say, plan.timeout_s, plan.quiet_s)
        say(f"    settled {observed.drained_s:.1f} s after the services started")
        return observed

    verdicts: list[RowVerdict] = []
    numbers = itertools.count()  # each run's state directory and printed number
    for reference_row, judged_rows in planned(plan):
        reference = run(reference_row, next(numbers))
        for row in judged_rows:
            verdicts.append(judged(reference, run(row, next(numbers))))
            say("    " + table(verdicts[-1:]).splitlines()[2])  # kept if a later row never ends
    say(table(verdicts))
    return verdicts
