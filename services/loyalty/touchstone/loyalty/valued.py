"""A customer's valuation as loyalty keeps and answers it: under the id they are known by now,
from their stored history; and the groups and silence clocks a fold values them by."""

from __future__ import annotations

from dataclasses import dataclass, replace

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


def disjoint(groups: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """One group per set of members: while links folded from different partitions form a cycle
    for a moment, two ids may each look like the root of the same members; the smallest wins."""
    by_members: dict[frozenset[str], str] = {}
    for root, members in groups.items():
        key = frozenset(members)
        by_members[key] = min(root, by_members.get(key, root))
    return {root: groups[root] for root in sorted(by_members.values())}
