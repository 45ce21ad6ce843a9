"""Journey's ports: what its handler, API and views need from storage (JourneyStore,
SettlementStore, PromotionStore), whatever holds it, and the rows and batch ledgers they speak
in. The batch's decision (batch_decision.py) reads a Ledger and makes a Settlement."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from touchstone.journey.deadlines import Deadline
from touchstone.journey.lane_clocks import LaneState, LaneStep
from touchstone.journey.stage_days import MomentMark, StageFigures
from touchstone.journey.visits import (
    VisitState,
)
from touchstone.platform.messaging.customer_links import CustomerLinks
from touchstone.platform.messaging.topics import (
    Outgoing,
)


@dataclass(frozen=True)
class Promotion:
    """A promoted standards version as journey stores it."""

    event_id: str
    version: str
    standards_yaml: str
    promoted_at: datetime
    payload: bytes
    effective_from: datetime


class PromotionStore(Protocol):
    """The standards versions promoted to live, in the order journey took them."""

    async def take_promotions(self, promotions: Sequence[Promotion]) -> None:
        """Store promotions not stored yet (by event id), in order."""

    async def latest_promotion(self) -> Promotion | None:
        """The version in force last (latest effective_from), or None if none was promoted."""

    async def promotions(self) -> list[Promotion]:
        """Every promoted version, by effective_from."""


@dataclass(frozen=True)
class MomentRow:
    """A scored moment as stored; payload is the MomentScored protobuf."""

    moment_id: str
    source_event_id: str
    customer_id: str
    visit_id: str
    site_id: str
    journey_map: str
    stage: str
    occurred_at: datetime
    verdict: str
    payload: bytes


@dataclass(frozen=True)
class MomentFilter:
    """Optional filters for listing moments; empty strings mean 'any'."""

    customer_id: str = ""
    visit_id: str = ""
    site_id: str = ""
    verdict: str = ""
    journey_map: str = ""
    stage: str = ""
    since: datetime | None = None  # occurred at or after
    until: datetime | None = None  # occurred before


@dataclass(frozen=True)
class VisitFilter:
    """Optional filters for listing visits."""

    customer_id: str = ""
    site_id: str = ""
    completed_only: bool = False


@dataclass(frozen=True)
class VisitRow:
    """A visit's roll-up."""

    visit_id: str
    customer_id: str
    site_id: str
    journey_map: str
    wins: int
    losses: int
    completion: bytes | None = None  # the VisitCompleted protobuf, once the visit is over
    first_at: datetime | None = None
    last_at: datetime | None = None


class JourneyStore(CustomerLinks, PromotionStore, Protocol):
    """What the journey handler and API need from storage."""

    async def save_moments(self, moments: Sequence[MomentRow]) -> None:
        """Store moments not stored yet and roll them into their visits, in one transaction."""

    async def list_moments(
        self, where: MomentFilter, after: tuple[datetime, str] | None, limit: int
    ) -> list[MomentRow]:
        """Moments matching the filter in event-time order, after a keyset position."""

    async def get_visit(self, visit_id: str) -> tuple[VisitRow, list[MomentRow]] | None:
        """The visit and its moments in event-time order, or None."""

    async def list_visits(
        self, where: VisitFilter, after: tuple[datetime, str] | None, limit: int
    ) -> list[VisitRow]:
        """Visits by last contact, after a keyset position."""

    async def stage_figures(
        self, journey_map: str, site_id: str, first: date, last: date
    ) -> dict[str, StageFigures]:
        """Each stage's figures over the local days first..last (every site if site_id is "")."""

    async def verdict_counts(self, sites: Sequence[str] | None = None) -> dict[str, int]:
        """How many moments have each verdict, at the sites (None: at every site)."""


@dataclass(frozen=True)
class Completion:
    """A visit that is over, and the VisitCompleted record that says so."""

    visit_id: str
    completed_at: datetime
    level: int
    quadrant: str
    perception: float
    satisfaction: float
    completion: bytes
    record: Outgoing


Past = Mapping[str, tuple[tuple[datetime, float], ...]]  # customer -> (last contact, perception)


@dataclass(frozen=True)
class BatchKeys:
    """What a batch touches, and what moves each of its lanes' clocks (lane_clocks.py)."""

    customers: tuple[str, ...]
    visits: tuple[str, ...]
    moments: tuple[str, ...]
    steps: Mapping[int, tuple[LaneStep, ...]]  # every lane of the batch: its steps in order
    earliest: Mapping[str, datetime] = field(default_factory=dict)  # each customer's earliest


@dataclass(frozen=True)
class Ledger:
    """What a batch is decided against."""

    lanes: Mapping[int, LaneState]  # the batch's lanes before it (none yet: absent)
    after: Mapping[int, LaneState]  # and after it (lane_clocks.after of its steps)
    waiting: tuple[Deadline, ...] = ()  # open deadlines of the customers concerned
    overdue: tuple[Deadline, ...] = ()  # open deadlines their lane's watermark passes
    visits: tuple[VisitState, ...] = ()  # the batch's visits, and those that may end by it
    past: Past = field(default_factory=dict)
    known: frozenset[str] = frozenset()  # the batch's moments already stored (redelivered)

    @property
    def watermarks(self) -> dict[int, datetime]:
        """Each lane's clock after the batch, where it has one."""
        return {lane: s.clock for lane, s in self.after.items() if s.clock is not None}


@dataclass(frozen=True)
class MissedDeadline:
    """A deadline that passed: its lost moment, and that moment as a record to publish."""

    deadline_id: str
    moment: MomentRow | None  # None: its standard is no longer in force, so nobody judges it
    record: Outgoing | None


@dataclass(frozen=True)
class Settlement:
    """Everything a batch decided."""

    moments: list[MomentRow]
    marks: dict[str, MomentMark] = field(default_factory=dict)  # by moment: what a new one adds
    opened: list[Deadline] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # deadline id -> the moment that came
    missed: list[MissedDeadline] = field(default_factory=list)
    completed: list[Completion] = field(default_factory=list)
    seen: dict[str, datetime] = field(default_factory=dict)  # visit -> lane clock at its last


Decide = Callable[[Ledger], Settlement]


class SettlementStore(Protocol):
    """Settling batches against the deadlines, the visits and the event clock."""

    async def settle(
        self, keys: BatchKeys, lateness: timedelta, visit_gap: timedelta, decide: Decide
    ) -> list[MomentRow]:
        """Decide and store the batch in one transaction; the batch's moments as stored (a
        redelivered moment as it was first stored, so it is re-published unchanged)."""

    async def open_deadlines(self) -> list[Deadline]:
        """Every deadline still waiting, by due time."""
