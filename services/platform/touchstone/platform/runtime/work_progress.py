"""How far a long piece of work has come (a replay, a re-scoring, a benchmark's wait): items
done of a total, the time so far and the stage it is in, so a line can give rate and ETA."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class WorkProgress:
    """How far the work has come."""

    done: int
    total: int
    elapsed_s: float
    stage: str = ""

    @property
    def rate(self) -> float:
        """Items per second so far."""
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the rate so far; None before there is a rate."""
        return max(self.total - self.done, 0) / self.rate if self.rate > 0 else None


Reporter = Callable[[WorkProgress], None]


def staged(report: Reporter, stage: str) -> Reporter:
    """A reporter that names the stage on everything it passes on."""
    return lambda progress: report(replace(progress, stage=stage))


def unreported(progress: WorkProgress) -> None:
    """A reporter that tells no one."""
