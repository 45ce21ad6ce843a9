"""Value customers from their purchases and lost moments, and publish what changed.

Purchases come from contacts' recorded touchpoints, lost moments from journey's verdicts,
recoveries from notify's cases; each batch stores them once and revalues every customer it
touches from their whole history.
"""

from __future__ import annotations

from collections.abc import Sequence

from loyalty.churn import ChurnModel, LostMoment, load_model
from loyalty.codec import at_risk_updated, purchase_of, recoveries_of, value_updated
from loyalty.domain import DEFAULT_POLICY, Purchase, ValuePolicy
from loyalty.history import ValueChange, value_history
from loyalty.store import LoyaltyStore
from loyalty.valuation import Facts, Loss, Recovery, Valuation, lost_moment_of, valuation
from touchstone.common.decoding import UnusableRecord, dead_letter_unusable, parse_record
from touchstone.common.prototime import to_datetime
from touchstone.common.topics import (
    JOURNEY_MOMENTS,
    LOYALTY_DLQ,
    LOYALTY_VALUES,
    NOTIFY_CASES,
    Incoming,
    Outgoing,
    cloudevent_headers,
)
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.journey.v1.events_pb2 import MomentScored
from touchstone.loyalty.v1.events_pb2 import ValueUpdated
from touchstone.notify.v1.events_pb2 import CaseEvent

SOURCE = "touchstone/loyalty"
VALUE_TYPE = "touchstone.loyalty.v1.ValueUpdated"


def loss_of(record: Incoming) -> Loss | None:
    """The lost moment a MomentScored record carries, or None for a win or an unscored one."""
    moment = parse_record(record, MomentScored)
    if not moment.moment_id or not moment.customer_id or not moment.HasField("occurred_at"):
        raise UnusableRecord("moment id, customer id and occurred_at are required")
    lost = lost_moment_of(moment)
    return Loss(moment.customer_id, lost) if lost else None


class ValueCustomers:
    """The loyalty batch handler."""

    def __init__(
        self,
        store: LoyaltyStore,
        model: ChurnModel | None = None,
        policy: ValuePolicy = DEFAULT_POLICY,
    ) -> None:
        self.store = store
        self.model = model or load_model()
        self.policy = policy

    def value(self, purchases: Sequence[Purchase], lost: Sequence[LostMoment]) -> Valuation:
        """One customer valued from their whole history."""
        return valuation(purchases, lost, self.model, self.policy)

    def history(
        self, purchases: Sequence[Purchase], lost: Sequence[LostMoment], limit: int
    ) -> list[ValueChange]:
        """The latest changes of one customer's value, newest first."""
        return value_history(purchases, lost, self.model, limit, self.policy)

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        """Store the batch's purchases, lost moments and recoveries; publish each affected
        customer's new value, and what each new or newly recovered lost moment put at risk."""
        purchases: list[Purchase] = []
        losses: list[Loss] = []
        recoveries: list[Recovery] = []
        outgoing: list[Outgoing] = []
        for record in batch:
            try:
                if record.topic == JOURNEY_MOMENTS:
                    if (loss := loss_of(record)) is not None:
                        losses.append(loss)
                elif record.topic == NOTIFY_CASES:
                    recoveries.extend(recoveries_of(parse_record(record, CaseEvent)))
                elif (
                    purchase := purchase_of(parse_record(record, TouchpointRecorded))
                ) is not None:
                    purchases.append(purchase)
            except UnusableRecord as error:
                outgoing.append(dead_letter_unusable(record, LOYALTY_DLQ, error))
        facts = Facts(purchases, losses, recoveries)
        valued = await self.store.fold(facts, self.value)
        bought, changed = {p.customer_id for p in purchases}, facts.moment_ids
        for customer, valuation_now in sorted(valued.items()):
            value = valuation_now.value
            if customer in bought and value is not None:
                outgoing.append(self.record(customer, value_updated(value)))
            for at_risk in valuation_now.at_risk:
                if at_risk.moment_id in changed:
                    event = at_risk_updated(customer, value, at_risk)
                    outgoing.append(self.record(customer, event))
        return outgoing

    @staticmethod
    def record(customer_id: str, event: ValueUpdated) -> Outgoing:
        """The event as a record on loyalty.values.v1, keyed by customer."""
        at = event.at_risk.occurred_at if event.HasField("at_risk") else event.value.as_of
        headers = cloudevent_headers(
            event_id=event.event_id, source=SOURCE, type_=VALUE_TYPE, time=to_datetime(at)
        )
        return Outgoing(LOYALTY_VALUES, customer_id.encode(), event.SerializeToString(), headers)
