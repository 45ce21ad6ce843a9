"""Fold purchases into lifetime values and publish each customer's new value."""

from __future__ import annotations

from collections.abc import Sequence

from loyalty.codec import purchase_of, value_updated
from loyalty.domain import DEFAULT_POLICY, CustomerValue, Purchase, ValuePolicy, lifetime_value
from loyalty.store import LoyaltyStore
from touchstone.common.decoding import UnusableRecord, dead_letter_unusable, parse_record
from touchstone.common.topics import (
    LOYALTY_DLQ,
    LOYALTY_VALUES,
    Incoming,
    Outgoing,
    cloudevent_headers,
)
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded

SOURCE = "touchstone/loyalty"
VALUE_TYPE = "touchstone.loyalty.v1.ValueUpdated"


class FoldPurchases:
    """The loyalty batch handler: touchpoints without a purchase change nothing."""

    def __init__(self, store: LoyaltyStore, policy: ValuePolicy = DEFAULT_POLICY) -> None:
        self.store = store
        self.policy = policy

    def value(self, purchases: Sequence[Purchase]) -> CustomerValue | None:
        """The policy's lifetime value of one customer's purchases."""
        return lifetime_value(purchases, self.policy)

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        """Store the batch's purchases and emit every affected customer's value."""
        purchases: list[Purchase] = []
        outgoing: list[Outgoing] = []
        for record in batch:
            try:
                purchase = purchase_of(parse_record(record, TouchpointRecorded))
            except UnusableRecord as error:
                outgoing.append(dead_letter_unusable(record, LOYALTY_DLQ, error))
                continue
            if purchase is not None:
                purchases.append(purchase)
        for value in await self.store.fold_purchases(purchases, self.value):
            event = value_updated(value)
            headers = cloudevent_headers(
                event_id=event.event_id, source=SOURCE, type_=VALUE_TYPE, time=value.as_of
            )
            key = value.customer_id.encode()
            outgoing.append(Outgoing(LOYALTY_VALUES, key, event.SerializeToString(), headers))
        return outgoing
