"""Contacts' ports: what its handler and APIs need from storage (ContactsStore, ProfileStore,
MergeStore, ErasureStore, DeadLetterStore), whatever holds it, and the rows they speak in."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from touchstone.contacts.domain import (
    Outcome,
    VocabularyGap,
    conflict_violation,
    printable,
)
from touchstone.contacts.profiles import (
    Identity,
    Merge,
    Owner,
)
from touchstone.platform.messaging.topics import (
    TOUCHPOINTS,
    Outgoing,
)


@dataclass(frozen=True)
class RecordedTouchpoint:
    """A valid touchpoint with its resolved customer and visit, ready to store."""

    event_id: str
    customer_id: str
    visit_id: str
    occurred_at: datetime
    source: str
    journey_map: str
    stage: str
    site_id: str
    payload: bytes  # the Touchpoint, serialised deterministically: equal content, equal bytes
    identity: tuple[str, str] | None  # (kind, canonical value) when the producer sent one
    late: bool = False
    gaps: tuple[VocabularyGap, ...] = ()  # what of it the stage's vocabulary does not know


@dataclass(frozen=True)
class Arrival:
    """Where and when a Kafka record arrived, with its bytes exactly as they came."""

    topic: str
    partition: int
    offset: int
    received_at: datetime
    key: bytes = b""
    value: bytes = b""
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def source(self) -> str:
        """The producer's CloudEvents source, if it said."""
        raw = dict(self.headers).get("ce_source", b"")
        return printable(raw.decode("utf-8", "replace"), 256)


@dataclass(frozen=True)
class DeadLetter:
    """A record contacts could not record, and why."""

    arrival: Arrival
    reason: str
    field: str


@dataclass(frozen=True)
class CustomerRow:
    """A customer as contacts knows them."""

    customer_id: str
    first_seen: datetime | None  # None: registered, no touchpoint yet
    last_seen: datetime | None
    touchpoint_count: int
    identities: tuple[tuple[str, str], ...]
    status: str = "provisional"
    profile: bytes | None = None  # touchstone.contacts.v1.Profile
    consent: bytes | None = None  # touchstone.contacts.v1.Consent
    merged_ids: tuple[str, ...] = ()  # customers merged into this one, counted in it


@dataclass(frozen=True)
class StoredTouchpoint:
    """A recorded touchpoint as it is read back."""

    event_id: str
    customer_id: str
    visit_id: str
    occurred_at: datetime
    payload: bytes


@dataclass(frozen=True)
class VocabularyGapCount:
    """How many recorded touchpoints of one producer at one stage carried one gap."""

    source: str
    journey_map: str
    stage: str
    kind: str
    name: str
    touchpoints: int


def gaps_recorded(
    rows: Sequence[RecordedTouchpoint], outcomes: Sequence[Outcome]
) -> list[VocabularyGapCount]:
    """The gaps the newly recorded rows add (a duplicate adds nothing), in key order."""
    counts: Counter[tuple[str, str, str, str, str]] = Counter(
        (row.source, row.journey_map, row.stage, gap.kind, gap.name)
        for row, outcome in zip(rows, outcomes, strict=True)
        if outcome is Outcome.RECORDED
        for gap in row.gaps
    )
    return [VocabularyGapCount(*key, n) for key, n in sorted(counts.items())]


class ContactsStore(Protocol):
    """What the contacts handler and API need from storage."""

    async def record(
        self,
        rows: Sequence[RecordedTouchpoint],
        arrivals: Sequence[Arrival | None],
        dead: Sequence[DeadLetter],
        announce: Sequence[Outgoing] = (),
    ) -> list[Outcome]:
        """Record a batch in one transaction: each row's outcome, in order.

        A conflict is quarantined with both versions and, when it came by Kafka (its arrival is
        known), dead-lettered too. `announce`, when given, holds one event per row; the events of
        rows recorded now go to the outbox in the same transaction.
        """

    async def identity_owners(
        self, identities: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        """The customer each known (kind, canonical value) identity belongs to."""

    async def erased_among(self, customer_ids: Sequence[str]) -> set[str]:
        """Which of these customers are erased (their touchpoints are stored without PII)."""

    async def vocabulary_gaps(self) -> list[VocabularyGapCount]:
        """Every vocabulary gap recorded touchpoints carried, counted, most touchpoints first."""

    async def get_customer(self, customer_id: str) -> CustomerRow | None:
        """The customer (the one it is merged into, if it is), with everyone merged in; or None."""

    async def list_touchpoints(
        self,
        customer_id: str,
        after: tuple[datetime, str] | None,
        limit: int,
        until: datetime | None = None,
    ) -> list[StoredTouchpoint]:
        """The customer's touchpoints by event time, after a keyset position and before until."""

    async def seen_at(self, customer_id: str, sites: Collection[str]) -> bool:
        """Whether the customer (or anyone merged into them) came to one of these sites."""

    async def stats(self, sites: Sequence[str] | None = None) -> tuple[int, int]:
        """(touchpoints recorded, records dead-lettered): at the sites, or (None) at every site
        with every dead letter (a dead letter has no site)."""


def conflict_letter(row: RecordedTouchpoint, arrival: Arrival) -> DeadLetter:
    """The dead letter for a conflicting touchpoint that came by Kafka."""
    violation = conflict_violation(row.event_id)
    return DeadLetter(arrival, f"{violation.field}: {violation.reason}", violation.field)


@dataclass(frozen=True)
class DeadLetterQuery:
    """Which dead letters: every condition given must hold."""

    reason_contains: str = ""
    field: str = ""
    source: str = ""
    since: datetime | None = None
    until: datetime | None = None
    include_redriven: bool = False
    ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredDeadLetter:
    """A dead letter as stored: the original record, why it was refused, whether redriven."""

    arrival: Arrival
    reason: str
    field: str
    redriven_at: datetime | None

    @property
    def id(self) -> str:
        """topic/partition/offset of the original record."""
        a = self.arrival
        return f"{a.topic}/{a.partition}/{a.offset}"

    @property
    def has_bytes(self) -> bool:
        """Whether the original record is still kept (erasure and age take it away: there is
        nothing to redrive or show then, only why it died)."""
        return bool(self.arrival.value or self.arrival.key)

    def redrive_record(self) -> Outgoing:
        """The original record again, for touchpoints.v1, saying which dead letter it was."""
        a = self.arrival
        headers = (*a.headers, (REDRIVE_HEADER, self.id.encode()))
        return Outgoing(TOUCHPOINTS, a.key, a.value, headers)


def parse_id(dead_letter_id: str) -> tuple[str, int, int] | None:
    """(topic, partition, offset) of a dead letter id, or None if it is not one."""
    parts = dead_letter_id.rsplit("/", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return parts[0], int(parts[1]), int(parts[2])


class DeadLetterStore(Protocol):
    """What the dead-letter API needs from storage."""

    async def list_dead_letters(
        self, query: DeadLetterQuery, after: tuple[datetime, str] | None, limit: int
    ) -> tuple[list[StoredDeadLetter], int, list[tuple[str, str, int]]]:
        """A page of matches by arrival time, the total, and counts by (field, source)."""

    async def get_dead_letter(self, dead_letter_id: str) -> StoredDeadLetter | None:
        """The dead letter, or None."""

    async def redrive(
        self, query: DeadLetterQuery, wanted: Callable[[StoredDeadLetter], bool], dry_run: bool
    ) -> tuple[list[str], list[str]]:
        """Queue matching dead letters for touchpoints.v1 again: (redriven ids, skipped ids)."""

    async def forget_bytes_before(self, cutoff: datetime) -> int:
        """Drop the original key, value and headers of dead letters received before cutoff
        (why each died stays); how many."""


Scrub = Callable[[bytes], bytes]  # a stored payload without its personal data


@dataclass(frozen=True)
class Erased:
    """What an erasure removed."""

    identities: int
    touchpoints: int
    dead_letters: int

    def __add__(self, other: Erased) -> Erased:
        return Erased(
            self.identities + other.identities,
            self.touchpoints + other.touchpoints,
            self.dead_letters + other.dead_letters,
        )


Erasing = Callable[[str], Outgoing]  # the event telling a customer id erased


class ErasureStore(Protocol):
    """What erasure needs from storage."""

    async def erase(
        self, customer_id: str, scrub_touchpoint: Scrub, scrub_recorded: Scrub, event: Erasing
    ) -> Erased | None:
        """Erase the customer and everyone merged into them, in one transaction (an event for
        each); None if there is no such customer."""

    async def erased_among(self, customer_ids: Sequence[str]) -> set[str]:
        """Which of these customers are erased."""


class UnknownCustomer(LookupError):
    """No customer has that id."""


class MergeStore(Protocol):
    """What merging and unmerging need from storage."""

    async def merge(self, survivor_id: str, absorbed_id: str, reason: str) -> Merge:
        """Fold the absorbed customer's root into the survivor's, in one transaction."""

    async def unmerge(self, absorbed_id: str, reason: str) -> Merge | None:
        """Undo the live merge that absorbed the customer; None if there is none."""


# the event to publish, given the customer id and their key (for what it seals)
EventFor = Callable[[str, bytes], Outgoing]


@dataclass(frozen=True)
class ProfileChange:
    """What a command changes: profile and consent are protobuf bytes (None: keep as is)."""

    identities: tuple[Identity, ...] = ()
    profile: bytes | None = None
    consent: bytes | None = None
    reason: str = ""  # why, when the identities merge customers


class ProfileStore(Protocol):
    """What the profile commands need from storage."""

    async def owners(self, identities: Sequence[Identity]) -> dict[Identity, Owner]:
        """Who each known identity belongs to."""

    async def register(self, requested: str, change: ProfileChange, event: EventFor) -> str:
        """Register (or adopt) a customer in one transaction; their id."""

    async def update(self, customer_id: str, change: ProfileChange, event: EventFor) -> bool:
        """Change a customer in one transaction; False if there is no such customer."""

    async def profile_of(self, customer_id: str) -> tuple[str, bytes | None, bytes | None] | None:
        """(status, profile, consent) of a customer, or None."""


REDRIVE_HEADER = "redrive_of"
