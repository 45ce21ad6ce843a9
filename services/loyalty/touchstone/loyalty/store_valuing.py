"""How a fold values the customer groups it touches: each from what loyalty remembered of it
and the lost moments since (remembered.py), or from its whole history where it cannot go on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg import AsyncConnection

from touchstone.loyalty.at_risk import Known
from touchstone.loyalty.churn import LostMoment
from touchstone.loyalty.domain import Purchase
from touchstone.loyalty.ports import Valuer
from touchstone.loyalty.remembered import THE_BEGINNING, Kept, NeedsWholeHistory
from touchstone.loyalty.store_sql import SELECT_LOSSES_SINCE, losses_of, since_columns, stored_marks
from touchstone.loyalty.valuation import Facts, Presence, Valuation, known_figures
from touchstone.loyalty.valued import value_as
from touchstone.platform.runtime.metrics import VALUATIONS


def history_of(
    group: Sequence[str],
    bought: dict[str, list[Purchase]],
    lost: dict[str, list[LostMoment]],
) -> tuple[list[Purchase], list[LostMoment]]:
    """A group's purchases and lost moments, from each member's."""
    return (
        [p for member in group for p in bought.get(member, [])],
        [m for member in group for m in lost.get(member, [])],
    )


@dataclass(frozen=True)
class Valuing:
    """A fold's valuing of its groups: each from what it remembered and the lost moments since
    (remembered.read_from), or from its whole history where it cannot go on from it."""

    facts: Facts
    valuer: Valuer
    bought: dict[str, list[Purchase]]
    presence: Mapping[str, Presence]
    recovery_changed: set[str]  # lost moments whose recovery the facts changed
    kept: dict[str, Kept]  # what is remembered of each group, by root

    async def groups(
        self,
        conn: AsyncConnection,
        groups: dict[str, tuple[str, ...]],
        since: dict[str, datetime],
    ) -> dict[str, Valuation]:
        """Every group valued, by root."""
        valued, whole = await self._value(conn, groups, since)
        if whole:  # what was remembered could not be gone on from: their whole history
            again = {root: groups[root] for root in whole}
            valued |= (await self._value(conn, again, dict.fromkeys(whole, THE_BEGINNING)))[0]
        return dict(sorted(valued.items()))

    async def _value(
        self,
        conn: AsyncConnection,
        groups: dict[str, tuple[str, ...]],
        since: dict[str, datetime],
    ) -> tuple[dict[str, Valuation], list[str]]:
        """The groups valued from the lost moments read since their times, and those that
        need their whole history read."""
        reads = {member: since[root] for root, group in groups.items() for member in group}
        rows = await (await conn.execute(SELECT_LOSSES_SINCE, since_columns(reads))).fetchall()
        lost, stored = losses_of(rows), stored_marks(rows)
        valued, whole = {}, []
        for root, group in groups.items():
            purchases, moments = history_of(group, self.bought, lost)
            if since[root] == THE_BEGINNING:
                known = known_figures(self.facts, group, moments, self.recovery_changed, stored)
            else:
                remembered = self.kept[root].remembered
                known = Known(stored, remembered=remembered, read_from=since[root])
            try:
                valuation = self.valuer(purchases, moments, self.presence.get(root), known)
            except NeedsWholeHistory:
                whole.append(root)
                continue
            valued[root] = value_as(root, valuation)
        recent = sum(since[root] != THE_BEGINNING for root in valued)
        VALUATIONS.labels("recent").inc(recent)
        VALUATIONS.labels("whole").inc(len(valued) - recent)
        return valued, whole
