"""CPU time by process, read from /proc: what each part of the stack spent over a phase.

A part is a process and everything it started (Postgres is its postmaster and every backend),
or a process alone (the bench itself, which also started the services). A child that exited
counts in its parent's reaped-children times, so a tree's figure loses nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


@dataclass(frozen=True)
class Part:
    """A part of the stack to account for: a process, with its descendants or alone."""

    pid: int
    with_children: bool = True


@dataclass(frozen=True)
class ProcessTimes:
    """One process as /proc/<pid>/stat tells it."""

    ppid: int
    own_s: float  # user + system
    reaped_s: float  # user + system of its children that exited and were waited for


def read_processes(proc: Path = PROC) -> dict[int, ProcessTimes]:
    """Every process's parent and CPU seconds (a process that exits meanwhile is left out)."""
    found: dict[int, ProcessTimes] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
        ppid, utime, stime, cutime, cstime = (int(fields[i]) for i in (1, 11, 12, 13, 14))
        found[int(entry.name)] = ProcessTimes(
            ppid, (utime + stime) / CLOCK_TICKS, (cutime + cstime) / CLOCK_TICKS
        )
    return found


def seconds_by_part(
    parts: Mapping[str, Part], processes: Mapping[int, ProcessTimes]
) -> dict[str, float]:
    """Each part's CPU seconds so far: a tree's own and reaped times, or the process's own."""
    children: dict[int, list[int]] = {}
    for pid, times in processes.items():
        children.setdefault(times.ppid, []).append(pid)
    spent: dict[str, float] = {}
    for name, part in parts.items():
        if part.pid not in processes:
            spent[name] = 0.0
            continue
        if not part.with_children:
            spent[name] = processes[part.pid].own_s
            continue
        total, todo = 0.0, [part.pid]
        while todo:
            pid = todo.pop()
            total += processes[pid].own_s + processes[pid].reaped_s
            todo.extend(children.get(pid, ()))
        spent[name] = total
    return spent


class CpuMeter:
    """CPU seconds each part spends from its creation to each reading."""

    def __init__(self, parts: Mapping[str, Part]) -> None:
        self.parts = dict(parts)
        self.started = seconds_by_part(self.parts, read_processes())

    def spent(self) -> dict[str, float]:
        """Each part's CPU seconds since the meter was made."""
        now = seconds_by_part(self.parts, read_processes())
        return {name: max(now[name] - self.started.get(name, 0.0), 0.0) for name in self.parts}


def micros_per(spent: Mapping[str, float], count: int) -> dict[str, float]:
    """CPU µs per item for each part, and their total."""
    per = {name: round(seconds * 1e6 / max(count, 1), 1) for name, seconds in spent.items()}
    return {**per, "total": round(sum(per.values()), 1)}


def core_shares(spent: Mapping[str, float], seconds: float) -> dict[str, float]:
    """Each part's share of one core over a period (0.05 = 5%), and their total."""
    per = {name: round(used / max(seconds, 1e-9), 3) for name, used in spent.items()}
    return {**per, "total": round(sum(per.values()), 3)}
