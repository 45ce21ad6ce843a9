"""Notify's ports: what its handler and API need from storage (NotifyStore), whatever holds it.
The rows it speaks in are rows.py's; the decisions it is handed, value_escalation.py's and
staff_commands.py's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from touchstone.notify.contact_book import ContactChange, KeyChange
from touchstone.notify.domain import CaseOpening, LostMoment, MomentValue, Win
from touchstone.notify.messages import Message
from touchstone.notify.openings import LayOut
from touchstone.notify.rows import CaseFilter, CaseRow, TimelineRow
from touchstone.notify.staff_commands import Resolve, TakeStep
from touchstone.notify.touchpoint_signals import Complaint, SiteVisit
from touchstone.notify.value_escalation import Escalate
from touchstone.platform.messaging.customer_links import CustomerLinks


class NotifyStore(CustomerLinks, Protocol):
    """What the notify handler and API need from storage."""

    async def open_or_join(
        self, openings: Sequence[CaseOpening], moments: Sequence[LostMoment], lay_out: LayOut
    ) -> dict[str, CaseRow]:
        """Hand the openings and the cases they name (locked) to lay_out (openings.py), write
        the cases it opens or moves with their steps and messages, and join the moments; each
        moment's case by moment id, as laid out now."""

    async def settle(
        self, wins: Sequence[Win], customers: Sequence[str], joined: Sequence[str]
    ) -> None:
        """Keep the wins; decide again the outcome of every open or recovered case (not one staff
        resolved) of these customers and everyone merged with them, under a lock per customer
        so that two workers never decide one customer at once. A case that became recovered, or
        that stays recovered while one of the joined lost moments joined it, gets its event
        written to the outbox in the same transaction."""

    async def take_step(self, case_id: str, decide: TakeStep) -> CaseRow:
        """Hand the case (locked) to decide (staff_commands.taking) and write the step it moves,
        with its events in the outbox, in one transaction; the case as it is now. UnknownCase
        if there is no such case (and whatever decide raises)."""

    async def resolve(self, case_id: str, decide: Resolve) -> CaseRow:
        """Hand the case (locked) to decide (staff_commands.resolving) and write the
        confirmation it decides, with its events in the outbox; the case as it is now.
        UnknownCase if there is no such case."""

    async def list_cases(
        self, where: CaseFilter, after: tuple[datetime, str] | None, limit: int
    ) -> tuple[list[CaseRow], int]:
        """Cases matching the filter by opening time after a keyset position, and their total."""

    async def get_case(self, case_id: str) -> CaseRow | None:
        """The case with its moments, or None."""

    async def record_visits(
        self, visits: Sequence[SiteVisit], complaints: Sequence[Complaint]
    ) -> None:
        """Keep the visits seen at each site (by their first touchpoint) and the complaints
        made, once each: what the control figures count."""

    async def case_timeline(self, case_id: str) -> list[TimelineRow]:
        """What happened to the case, in time order."""

    async def fold_tiers(self, tiers: Sequence[tuple[str, str]]) -> None:
        """Keep each customer's latest tier (customer id, tier), in order."""

    async def tiers_of(self, customer_ids: Sequence[str]) -> dict[str, str]:
        """Each customer's tier, theirs or (merged) their survivor's; "" if not ranked."""

    async def fold_contacts(self, changes: Sequence[ContactChange]) -> None:
        """Fold what profile events say about reaching customers, in order; an erased customer's
        contact and staff's notes on their cases are dropped, and they are remembered as
        erased."""

    async def fold_keys(self, changes: Sequence[KeyChange]) -> None:
        """Keep the customers' keys contacts tells, in order; a destroyed key is deleted."""

    async def weigh(
        self, values: Sequence[MomentValue], moment_ids: Sequence[str], decide: Escalate
    ) -> None:
        """Keep what lost moments put at risk; hand every open case of these moments (valued or
        joined) not escalated for its value yet to decide (value_escalation.py), and write the
        escalations it decides, their records in the outbox, in one transaction."""


@dataclass(frozen=True)
class Swept:
    """What one sweep of the clock told."""

    due: int = 0  # steps told late
    escalated: int = 0  # steps escalated to the duty manager
    lost: int = 0  # cases closed as lost
    pruned_wins: int = 0  # wins too old to recover any case

    def __add__(self, other: Swept) -> Swept:
        return Swept(
            *(a + b for a, b in zip(vars(self).values(), vars(other).values(), strict=True))
        )


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt to make: where to, what, and the key the receiver knows it by."""

    delivery_id: str  # the idempotency key of every attempt
    channel: str
    case_id: str
    customer_id: str
    site_id: str
    action: str
    n: int
    address: str  # the email address; "" for a webhook
    message: Message
    number: int  # 1 for the first attempt
    in_doubt: bool  # a repeat of an attempt whose outcome a crash hid

    def payload(self) -> dict[str, Any]:
        """What a webhook carries: ids and the message, never personal data."""
        return {
            "delivery_id": self.delivery_id,
            "case_id": self.case_id,
            "customer_id": self.customer_id,
            "site_id": self.site_id,
            "step": self.n,
            "action": self.action,
            "language": self.message.language,
            "subject": self.message.subject,
            "text": self.message.body,
        }


@dataclass(frozen=True)
class Settled:
    """A delivery taken and settled without an attempt: skipped, or deferred."""

    delivery_id: str
    outcome: str  # "skipped" or "deferred"
    reason: str


class DeliveryQueue(Protocol):
    """What the sender needs of the delivery outbox."""

    async def take(self, channel: str, now: datetime) -> list[Attempt | Settled]:
        """The channel's next due deliveries, settled or to attempt."""

    async def sent(self, attempt: Attempt, now: datetime) -> None:
        """The receiver has it."""

    async def failed(self, attempt: Attempt, now: datetime, error: str, permanent: bool) -> str:
        """The attempt failed: "retry" or "dead"."""
