"""What a lost moment broke: its standards, their weight, and the side of the heaviest.

Loyalty weighs a lost moment's churn by these; notify picks a recovery playbook by them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from touchstone.journey.v1.events_pb2 import SIDE_PERSONAL, MomentScored
from touchstone.platform.messaging.decoding import UnusableRecord


@dataclass(frozen=True)
class Broken:
    """The standards a moment broke."""

    standards: tuple[str, ...]  # their ids, as journey reported them
    side: str  # of the heaviest: personal or procedural (personal on a tie: indifference
    # drives most departures, docs/domain.md §7)
    weight: Decimal  # their weights summed (1 if the moment names none)


def what_it_broke(moment: MomentScored) -> Broken:
    """The standards the moment broke, their weight and the side of the heaviest;
    UnusableRecord if a weight is not a finite number of at least 0."""
    broken = [r for r in moment.results if not r.met]
    if any(not math.isfinite(r.weight) or r.weight < 0 for r in broken):
        raise UnusableRecord("results: a broken standard's weight must be a finite number >= 0")
    weight = sum((Decimal(str(r.weight)) for r in broken), Decimal(0))
    heaviest = max(broken, key=lambda r: (r.weight, r.side == SIDE_PERSONAL), default=None)
    side = "procedural" if heaviest is not None and heaviest.side != SIDE_PERSONAL else "personal"
    return Broken(tuple(r.standard_id for r in broken), side, weight or Decimal(1))
