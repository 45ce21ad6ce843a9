"""A small fault matrix (`make faults` runs the whole one): each row on a fresh embedded stack,
compared row by row with a fault-free run of the same touchpoints: nothing lost, nothing twice,
every verdict, case and value the same, and contacts refusing exactly what it must."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.faults.injections import broker_cut, database_away, killed
from touchstone.tools.dev.faults.runner import Observed, Row, judged, run_row, table
from touchstone.tools.dev.faults.workloads import jittered, simulated, with_malformed, with_repeats

if os.environ.get("TOUCHSTONE_TEST_INFRA", "embedded") != "embedded":
    pytest.skip(
        "the fault suite cuts and stops the embedded broker and Postgres", allow_module_level=True
    )

BASE = simulated(seed=23, count=3_000)
SPOILT = with_malformed(with_repeats(jittered(BASE, 23), 23, 0.10, 0.01), 23, 0.01)
ROWS = [
    # journey starts once contacts has handled the backlog: it keeps up with contacts, and
    # killed beside it, it had 3,000 records behind it before the first lag reading came
    Row("kill -9 journey", BASE, killed("journey", times=1), behind=("journey",)),
    Row("Postgres stopped 5 s", BASE, database_away(5.0)),
    Row("broker connection cut 5 s", BASE, broker_cut(5.0)),
    # any order within 10 minutes, then repeats and conflicts (each after what it repeats: the
    # first version recorded is the one kept) and malformed records (a 2 MiB one too)
    Row("none", SPOILT),
]
QUIET_S = 10.0


def run(row: Row, state: Path) -> Observed:
    return run_row(Settings(state_dir=state), row, lambda _: None, timeout_s=300, quiet_s=QUIET_S)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    yield run(Row("none (reference)", BASE), tmp_path_factory.mktemp("reference"))


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.fault} | {r.workload.name}" for r in ROWS])
def test_the_row_leaves_what_the_fault_free_run_left(
    row: Row, reference: Observed, tmp_path: Path
) -> None:
    verdict = judged(reference, run(row, tmp_path))
    assert verdict.passed, table([verdict])  # and struck each time with records in flight
    assert reference.snapshot.count("journey.moments") >= len(BASE.records)
