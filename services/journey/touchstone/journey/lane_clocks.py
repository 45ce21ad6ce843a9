"""A lane's clock: how far event time has come for the customers of one partition of
contacts.recorded.v1, so deadlines fall and visits end by it.

Contacts merges every partition of its input (and its gRPC ingest) into each lane, so a lane's
records alone say nothing of a source that lags: a callback still waiting in a lagging input
partition would find its deadline already missed. Contacts therefore tells every lane, after the
records they cover, how far each source has come (SourceProgress). Once a lane has heard from
every source, its clock is the least of them: a deadline falls only when every source that could
still carry its keeping contact has passed it; while some have not spoken, it waits. Only on a
log from before contacts told progress do the lane's own records move it, as they always did.
The clock never goes back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime


@dataclass(frozen=True)
class Progress:
    """A source's progress, as one lane heard it."""

    lane: int
    source: int  # the input partition, or GRPC_SOURCE
    partitions: int  # how many partitions contacts' input has: the lane expects them and gRPC
    at: datetime


@dataclass(frozen=True)
class LaneState:
    """A lane's clock and what each source told it."""

    clock: datetime | None = None
    sources: Mapping[int, datetime] = field(default_factory=dict)
    expected: int = 0  # sources a complete lane has heard from (0: no progress heard yet)

    @property
    def complete(self) -> bool:
        """Whether every source has told the lane how far it has come."""
        return bool(self.expected) and len(self.sources) >= self.expected

    def heard(self, progress: Progress) -> LaneState:
        """The lane after a source's progress (a source never goes back)."""
        was = self.sources.get(progress.source)
        at = progress.at if was is None else max(was, progress.at)
        sources = {**self.sources, progress.source: at}
        state = replace(self, sources=sources, expected=progress.partitions + 1)
        if not state.complete:
            return state
        return state.moved_to(min(sources.values()))

    def saw(self, at: datetime) -> LaneState:
        """The lane after one of its own records on time: it moves the clock only on a lane
        that has never heard of progress (an old log); once one source has spoken, the lane
        waits for all of them, since a silent one may still carry what keeps a deadline."""
        return self if self.expected else self.moved_to(at)

    def moved_to(self, at: datetime) -> LaneState:
        """The clock at `at`, unless it was already further."""
        if self.clock is not None and self.clock >= at:
            return self
        return replace(self, clock=at)


LaneStep = datetime | Progress  # one of the lane's records on time (its event time), or progress


def after(state: LaneState, steps: Iterable[LaneStep]) -> LaneState:
    """The lane after its steps, in their order."""
    for step in steps:
        state = state.heard(step) if isinstance(step, Progress) else state.saw(step)
    return state
