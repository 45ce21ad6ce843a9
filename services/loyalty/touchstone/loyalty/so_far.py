"""A customer's history as it stood at each of their lost moments, figured on from the last
moment asked about rather than from the start: what valuation asks again and again of one
history, once per moment it values. Same arithmetic, same order: the same figures."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from touchstone.loyalty.churn import ChurnModel, stay_after
from touchstone.loyalty.domain import Purchase, Spending, ValuePolicy, spending_of


class SpendingSoFar:
    """A customer's spending by the time of each of their lost moments: each distinct set of
    purchases before one figured once (the moments of a long history share a few)."""

    def __init__(self, purchases: Sequence[Purchase], policy: ValuePolicy) -> None:
        self._purchases = sorted(purchases, key=lambda p: p.occurred_at)
        self._times = [p.occurred_at for p in self._purchases]
        self._policy = policy
        self._figured: dict[int, Spending | None] = {}

    def by(self, at: datetime | None) -> Spending | None:
        """The spending of the purchases at or before `at` (None: every purchase)."""
        count = len(self._times) if at is None else bisect_right(self._times, at)
        if count not in self._figured:
            self._figured[count] = spending_of(self._purchases[:count], self._policy)
        return self._figured[count]


class StaysSoFar:
    """The chance of staying a year after a run of lost moments (churn.stay_after of their
    leave chances), each asked for as the moments are valued in event time: a run that starts
    where the last one did is multiplied on from where that one ended, in the same order, so
    the same figure to the last digit without multiplying a long history again for every
    moment valued."""

    def __init__(
        self, model: ChurnModel, chances: Sequence[Decimal], start: Decimal | None = None
    ) -> None:
        self._chances = chances
        self._start = stay_after(model, ()) if start is None else start  # before chances[0]
        self._first, self._end, self._stay = -1, -1, Decimal(0)

    def over(self, first: int, end: int) -> Decimal:
        """stay_after(model, chances[first:end]), multiplied on from `start` if given."""
        if first != self._first or end < self._end:
            self._first, self._end = first, first
            self._stay = self._start
        for chance in self._chances[self._end : end]:
            self._stay *= Decimal(1) - chance
        self._end = end
        return self._stay
