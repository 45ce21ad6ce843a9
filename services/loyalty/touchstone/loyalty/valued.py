"""A customer's valuation as loyalty keeps and answers it: under the id they are known by now,
from their stored history; and the silence clocks a fold values them by."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from touchstone.loyalty.at_risk import Known
from touchstone.loyalty.ports import History, Valuer
from touchstone.loyalty.valuation import Presence, Valuation


def value_as(customer_id: str, valuation: Valuation) -> Valuation:
    """A merged customer's valuation, under the id they are known by now."""
    value = valuation.value
    return replace(valuation, value=replace(value, customer_id=customer_id) if value else None)


def valued_history(history: History | None, valuer: Valuer) -> Valuation | None:
    """A customer's valuation from their history, under the id they are known by now."""
    if history is None:
        return None
    known = Known(history.at_risk)  # nothing has changed since the figures were stored
    valuation = valuer(history.purchases, history.lost, history.presence, known)
    return value_as(history.customer_id, valuation)


@dataclass(frozen=True)
class SilenceClock(Presence):
    """A customer's presence, and the lane whose clock judges their silence."""

    lane: int = 0


def presence_of(
    group: Sequence[str], latest: Mapping[str, tuple[datetime, int, datetime]]
) -> SilenceClock | None:
    """A group's presence: its members' latest contact (latest: each member's, with its lane
    and that lane's clock); None if none of them was in contact."""
    seen = [latest[m] for m in group if m in latest]
    if not seen:
        return None
    last_at, lane, clock = max(seen)
    return SilenceClock(last_at, clock, lane)
