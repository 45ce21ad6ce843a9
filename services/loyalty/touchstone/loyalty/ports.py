"""Loyalty's ports: what its handler and API need from storage (LoyaltyStore), and the rows
that cross it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from touchstone.loyalty.at_risk import AtRisk, Known
from touchstone.loyalty.churn import LostMoment
from touchstone.loyalty.domain import Purchase
from touchstone.loyalty.tiers import TierChanged
from touchstone.loyalty.valuation import Facts, Presence, Valuation
from touchstone.platform.messaging.customer_links import CustomerLinks
from touchstone.platform.messaging.topics import Outgoing


class Valuer(Protocol):
    """Values one customer from their history (and their presence, for silence); given what a
    fold remembered (known.remembered), from the moments read since, or NeedsWholeHistory."""

    def __call__(
        self,
        purchases: Sequence[Purchase],
        lost: Sequence[LostMoment],
        presence: Presence | None = None,
        known: Known | None = None,
    ) -> Valuation: ...


@dataclass(frozen=True)
class AtRiskTotal:
    """What lost moments put at stake in one currency."""

    currency: str
    at_stake_minor: int  # still at stake: all of an unrecovered moment, a recovered one's rest
    saved_minor: int  # what recovery took off
    lost_moments: int
    recovered_moments: int


@dataclass(frozen=True)
class History:
    """Everything recorded of a customer and everyone merged into them."""

    customer_id: str  # the id they are known by now
    purchases: list[Purchase]
    lost: list[LostMoment]
    presence: Presence | None = None  # their latest contact and their lane's clock
    at_risk: Mapping[str, AtRisk] = field(default_factory=dict)  # what each lost moment was
    # last valued at, as stored: every fold keeps these current (valuation.known_figures)


@dataclass(frozen=True)
class Standing:
    """Where a customer ranks among their home site's customers."""

    site_id: str
    rank: int  # 1 = the highest lifetime value
    site_customers: int


@dataclass(frozen=True)
class Folded:
    """What a batch's facts changed: the valuations of the customers they concern (as known
    now; erased ones left out) and every tier that moved at the sites they touched."""

    valued: dict[str, Valuation]
    tier_changes: list[TierChanged]
    revisions: dict[str, int] = field(default_factory=dict)  # merges touching each customer
    reopened: set[str] = field(default_factory=set)  # moments no longer recovered
    revalued: set[str] = field(default_factory=set)  # moments whose value at risk is new or
    # other than loyalty had it (a purchase or loss before them in event time heard after them)


# What a folded batch publishes, from its facts and what they changed (the handler's rule)
Told = Callable[[Facts, Folded], Sequence[Outgoing]]


def tell_nothing(facts: Facts, folded: Folded) -> Sequence[Outgoing]:
    """A fold that publishes nothing (a query benchmark, a store test)."""
    return ()


@dataclass(frozen=True)
class Ranked:
    """A customer in a site's ranking."""

    customer_id: str
    currency: str
    lifetime_value_minor: int
    churn_risk: Decimal


class LoyaltyStore(CustomerLinks, Protocol):
    """What the loyalty handler and API need from storage."""

    async def fold(self, facts: Facts, valuer: Valuer, told: Told = tell_nothing) -> Folded:
        """Store the facts, revalue every customer they concern from the whole history of
        everyone merged into them, and re-tier the sites they touched, in one transaction; what
        `told` makes of the facts and what they changed goes to the outbox in it too (what a
        batch changed is known only to the transaction that changed it). Erased customers are
        left out: nothing of theirs is valued any more."""

    async def get_history(self, customer_id: str) -> History | None:
        """Everything recorded of the customer and everyone merged into them; None if nothing
        of theirs was recorded."""

    async def is_erased(self, customer_id: str) -> bool:
        """Whether contacts erased the customer (or anyone merged with them)."""

    async def get_value(self, customer_id: str, valuer: Valuer) -> Valuation | None:
        """The customer's valuation now, with everyone merged into them valued as one; None if
        nothing of theirs was recorded."""

    async def standing(self, customer_id: str) -> Standing | None:
        """Where the customer's value ranks at their home site; None if they have no value."""

    async def retier(self) -> list[TierChanged]:
        """Re-tier every site (after loading values in bulk, or changing tiers.yaml)."""

    async def site_customers(self, site_id: str) -> int:
        """How many customers have this home site."""

    async def ranked(self, site_id: str, offset: int, limit: int) -> list[Ranked]:
        """The site's customers by lifetime value, best first: limit of them after offset."""

    async def value_at_risk(
        self, site_id: str, since: datetime, until: datetime
    ) -> list[AtRiskTotal]:
        """What the moments lost at the site (every site if "") in [since, until) put at stake,
        by currency."""
