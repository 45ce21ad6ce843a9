"""CPU accounting for `make bench`: given /proc as the kernel writes it → then each part's CPU
seconds are its process tree's own and reaped times (a process alone when asked), a vanished
process counts nothing, and the figures per touchpoint add up."""

from __future__ import annotations

from pathlib import Path

from touchstone.tools.dev.cpu_use import (
    CLOCK_TICKS,
    Part,
    core_shares,
    micros_per,
    read_processes,
    seconds_by_part,
)


def write_stat(proc: Path, pid: int, ppid: int, utime: int, stime: int, cutime: int = 0) -> None:
    """A /proc/<pid>/stat line (a command with spaces and parentheses, as comm may be)."""
    (proc / str(pid)).mkdir()
    rest = ["S", str(ppid), *["0"] * 9, str(utime), str(stime), str(cutime), "0", *["0"] * 30]
    (proc / str(pid) / "stat").write_text(f"{pid} (postgres: a (b) c) {' '.join(rest)}\n")


def test_a_part_is_its_process_tree_and_the_bench_is_its_process_alone(tmp_path: Path) -> None:
    ticks = CLOCK_TICKS
    write_stat(tmp_path, 1, 0, 0, 0)
    write_stat(tmp_path, 10, 1, 2 * ticks, 1 * ticks, cutime=4 * ticks)  # postmaster
    write_stat(tmp_path, 11, 10, 3 * ticks, 0)  # a backend
    write_stat(tmp_path, 12, 11, 1 * ticks, 0)  # its child
    write_stat(tmp_path, 20, 1, 5 * ticks, 5 * ticks)  # the bench, which started 21
    write_stat(tmp_path, 21, 20, 7 * ticks, 0)
    (tmp_path / "self").mkdir()  # not a process
    processes = read_processes(tmp_path)
    assert processes[10].ppid == 1 and processes[10].own_s == 3.0

    spent = seconds_by_part(
        {
            "postgres": Part(10),
            "journey": Part(21),
            "load generator": Part(20, with_children=False),
            "gone": Part(99),
        },
        processes,
    )
    assert spent == {"postgres": 3 + 4 + 3 + 1, "journey": 7, "load generator": 10, "gone": 0}


def test_figures_per_touchpoint_and_their_total() -> None:
    assert micros_per({"broker": 0.5, "postgres": 1.25}, 1000) == {
        "broker": 500.0,
        "postgres": 1250.0,
        "total": 1750.0,
    }


def test_shares_of_a_core_over_a_period_and_their_total() -> None:
    assert core_shares({"broker": 1.0, "notify": 0.3}, 20.0) == {
        "broker": 0.05,
        "notify": 0.015,
        "total": 0.065,
    }
