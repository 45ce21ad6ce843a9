"""Contacts' store in memory: storage only, idempotent by key as the SQL is."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from touchstone.contacts.domain import Outcome, classify_repeat
from touchstone.contacts.ports import (
    Arrival,
    CustomerRow,
    DeadLetter,
    RecordedTouchpoint,
    StoredTouchpoint,
    VocabularyGapCount,
    conflict_letter,
    gaps_recorded,
)
from touchstone.platform.messaging.topics import Outgoing


class MemoryContactsStore:
    """ContactsStore in memory."""

    def __init__(self) -> None:
        self.touchpoints: dict[str, RecordedTouchpoint] = {}
        self.dead: dict[tuple[str, int, int], DeadLetter] = {}
        self.gaps: dict[tuple[str, str, str, str, str], int] = {}
        self.identities: dict[tuple[str, str], str] = {}
        self.conflicts: dict[tuple[str, bytes], bytes] = {}  # (event id, conflicting) -> recorded
        self.outbox: list[Outgoing] = []
        self.erased: set[str] = set()

    async def record(
        self,
        rows: Sequence[RecordedTouchpoint],
        arrivals: Sequence[Arrival | None],
        dead: Sequence[DeadLetter],
        announce: Sequence[Outgoing] = (),
    ) -> list[Outcome]:
        outcomes = await self._record(rows, arrivals, dead)
        for gap in gaps_recorded(rows, outcomes):
            key = (gap.source, gap.journey_map, gap.stage, gap.kind, gap.name)
            self.gaps[key] = self.gaps.get(key, 0) + gap.touchpoints
        if announce:
            new = zip(announce, outcomes, strict=True)
            self.outbox += [e for e, o in new if o is Outcome.RECORDED]
        return outcomes

    async def _record(
        self,
        rows: Sequence[RecordedTouchpoint],
        arrivals: Sequence[Arrival | None],
        dead: Sequence[DeadLetter],
    ) -> list[Outcome]:
        outcomes = []
        for row, arrival in zip(rows, arrivals, strict=True):
            recorded = self.touchpoints.get(row.event_id)
            if recorded is None:
                self.touchpoints[row.event_id] = row
                if row.identity:
                    self.identities.setdefault(row.identity, row.customer_id)
                outcomes.append(Outcome.RECORDED)
                continue
            outcome = classify_repeat(row.payload, recorded.payload)
            if outcome is Outcome.CONFLICT:
                self.conflicts.setdefault((row.event_id, row.payload), recorded.payload)
                if arrival is not None:
                    dead = [*dead, conflict_letter(row, arrival)]
            outcomes.append(outcome)
        for letter in dead:
            a = letter.arrival
            self.dead.setdefault((a.topic, a.partition, a.offset), letter)
        return outcomes

    async def identity_owners(
        self, identities: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        return {i: self.identities[i] for i in identities if i in self.identities}

    async def erased_among(self, customer_ids: Sequence[str]) -> set[str]:
        return set(customer_ids) & self.erased

    async def get_customer(self, customer_id: str) -> CustomerRow | None:
        rows = [t for t in self.touchpoints.values() if t.customer_id == customer_id]
        if not rows:
            return None
        ids = tuple(sorted(k for k, c in self.identities.items() if c == customer_id))
        times = [t.occurred_at for t in rows]
        return CustomerRow(customer_id, min(times), max(times), len(rows), ids)

    async def seen_at(self, customer_id: str, sites: Collection[str]) -> bool:
        return any(
            t.customer_id == customer_id and t.site_id in sites for t in self.touchpoints.values()
        )

    async def list_touchpoints(
        self,
        customer_id: str,
        after: tuple[datetime, str] | None,
        limit: int,
        until: datetime | None = None,
    ) -> list[StoredTouchpoint]:
        rows = sorted(
            (
                t
                for t in self.touchpoints.values()
                if t.customer_id == customer_id and (until is None or t.occurred_at < until)
            ),
            key=lambda t: (t.occurred_at, t.event_id),
        )
        rows = [t for t in rows if after is None or (t.occurred_at, t.event_id) > after]
        return [
            StoredTouchpoint(t.event_id, t.customer_id, t.visit_id, t.occurred_at, t.payload)
            for t in rows[:limit]
        ]

    async def stats(self, sites: Sequence[str] | None = None) -> tuple[int, int]:
        if sites is None:
            return len(self.touchpoints), len(self.dead)
        return sum(t.site_id in sites for t in self.touchpoints.values()), 0

    async def vocabulary_gaps(self) -> list[VocabularyGapCount]:
        counts = [VocabularyGapCount(*key, n) for key, n in self.gaps.items()]
        return sorted(
            counts, key=lambda g: (-g.touchpoints, g.source, g.journey_map, g.stage, g.kind, g.name)
        )
