"""What a customer group's lost moments leave their chance of staying a year, remembered between
folds, so that a fold need not read a long history again for every new moment.

Every lost moment is valued with the chance of staying over the moments before it in the churn
model's memory, multiplied in event time (valuation.StaysSoFar). A fold remembers where the
group's latest moment leaves that product, and from which moment it runs. The next fold of the
group goes on from it when nothing it brings is at or before that moment (no purchase, loss,
recovery or reopening there, no merge, unmerge or erasure) and no moment falls out of the
memory: it multiplies the new moments on in the same order, so it gives the figures valuing the
whole history would, to the last digit, and reads only the moments since the latest (and those
since the customer's latest contact, which silence is judged by). Anything else reads the whole
history and remembers it afresh; so does a fold whose churn model is not the one remembered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from touchstone.loyalty.churn import ChurnModel, LostMoment

THE_BEGINNING = datetime.min.replace(tzinfo=UTC)  # read a group's lost moments from here: all


class NeedsWholeHistory(Exception):
    """What was remembered cannot be gone on from: the group is valued from its whole history."""


@dataclass(frozen=True)
class Remembered:
    """Where a group's lost moments leave its chance of staying a year, as of the latest."""

    model: str  # the churn model's fingerprint: another model's chances give other figures
    last_at: datetime | None  # the latest lost moment, by (event time, id); None: none yet
    last_id: str
    first_at: datetime | None  # the first moment in the model's memory of the latest
    stay: Decimal  # churn.stay_after over the moments from the first to the latest, unrounded
    same_visit: timedelta  # the model's: silence looks back this far before the latest contact

    def covers(self, moment: LostMoment) -> bool:
        """Whether the moment is one of those remembered (at or before the latest)."""
        if self.last_at is None:
            return False
        return (moment.occurred_at, moment.moment_id) <= (self.last_at, self.last_id)

    def holds(
        self,
        model: ChurnModel,
        as_of: datetime | None,
        last_contact_at: datetime | None,
        read_from: datetime,
    ) -> bool:
        """Whether a valuation as of `as_of` can go on from it, with the group's lost moments
        read from `read_from`: figured with this model, no moment out of the memory since, and
        every moment silence may be judged by read."""
        if self.model != fingerprint(model) or self.same_visit != model.silence_same_visit:
            return False
        if (
            self.first_at is not None
            and as_of is not None
            and self.first_at <= as_of - model.memory
        ):
            return False
        return last_contact_at is None or read_from <= last_contact_at - model.silence_same_visit


@dataclass(frozen=True)
class Kept:
    """What a store keeps of a group: the members it was figured for, and what it remembers."""

    members: tuple[str, ...]  # sorted
    remembered: Remembered


def fingerprint(model: ChurnModel) -> str:
    """A short digest of every parameter of the model."""
    return _digest(repr(model))


@lru_cache(maxsize=8)
def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_from(
    kept: Kept | None,
    group: Sequence[str],
    changed_from: datetime | None,
    last_contact_at: datetime | None,
) -> datetime:
    """From what event time a fold reads the group's lost moments: THE_BEGINNING (all of them)
    unless it remembers the group as it is (changed_from: the earliest event time the facts
    change its history at, None if they change who the group is) and the facts come after
    the latest moment it remembers; then from that moment, or from a same-visit time before
    the latest contact if earlier (silence)."""
    if kept is None or kept.members != tuple(sorted(group)) or changed_from is None:
        return THE_BEGINNING
    last_at = kept.remembered.last_at
    if last_at is None or changed_from <= last_at:
        return THE_BEGINNING
    if last_contact_at is None:
        return last_at
    return min(last_at, last_contact_at - kept.remembered.same_visit)
