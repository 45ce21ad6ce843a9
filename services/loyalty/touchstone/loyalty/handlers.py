"""Value customers from their purchases and lost moments, and publish what changed.

Purchases come from contacts' recorded touchpoints, lost moments from journey's verdicts,
recoveries from notify's cases, merges and erasures from contacts' profile events; each batch
stores them once and revalues every customer it touches from the whole history of everyone
merged into them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.contacts.v1.profile_pb2 import CustomerEvent
from touchstone.journey.v1.events_pb2 import MomentScored
from touchstone.loyalty.at_risk import Known
from touchstone.loyalty.churn import ChurnModel, LostMoment, load_model
from touchstone.loyalty.codec import (
    at_risk_updated,
    case_facts,
    purchase_of,
    tier_changed,
    value_updated,
)
from touchstone.loyalty.domain import DEFAULT_POLICY, Purchase, ValuePolicy
from touchstone.loyalty.history import ValueChange, value_history
from touchstone.loyalty.ports import Folded, LoyaltyStore
from touchstone.loyalty.v1.events_pb2 import ValueUpdated
from touchstone.loyalty.valuation import (
    ContactSeen,
    Facts,
    Loss,
    Presence,
    Valuation,
    lost_moment_of,
    valuation,
)
from touchstone.notify.v1.events_pb2 import CaseEvent
from touchstone.platform.messaging.customer_links import link_change_of
from touchstone.platform.messaging.decoding import (
    UnusableRecord,
    checked_time,
    dead_letter_unusable,
    parse_record,
)
from touchstone.platform.messaging.progress import is_progress
from touchstone.platform.messaging.topics import (
    CONTACTS_PROFILES,
    JOURNEY_MOMENTS,
    LOYALTY_DLQ,
    LOYALTY_VALUES,
    NOTIFY_CASES,
    Incoming,
    Outgoing,
    cloudevent_headers,
)
from touchstone.platform.runtime.prototime import to_datetime

SOURCE = "touchstone/loyalty"
VALUE_TYPE = "touchstone.loyalty.v1.ValueUpdated"


def loss_of(record: Incoming) -> Loss | None:
    """The lost moment a MomentScored record carries, or None for a win or an unscored one."""
    moment = parse_record(record, MomentScored)
    if not moment.moment_id or not moment.customer_id or not moment.HasField("occurred_at"):
        raise UnusableRecord("moment id, customer id and occurred_at are required")
    lost = lost_moment_of(moment)
    return Loss(moment.customer_id, lost) if lost else None


def read_facts(record: Incoming) -> Facts:
    """What one record brings loyalty (often nothing); UnusableRecord if it cannot be read."""
    if record.topic == JOURNEY_MOMENTS:
        loss = loss_of(record)
        return Facts(losses=[loss] if loss else [])
    if record.topic == NOTIFY_CASES:
        customer_id = (record.key or b"").decode("utf-8", "replace")
        return case_facts(parse_record(record, CaseEvent), customer_id)
    if record.topic == CONTACTS_PROFILES:
        event = parse_record(record, CustomerEvent)
        if (link := link_change_of(event)) is not None:
            return Facts(links=[link])
        if event.WhichOneof("change") != "erased":
            return Facts()
        if not event.erased.customer_id:
            raise UnusableRecord("erased: customer_id is required")
        return Facts(erased=[event.erased.customer_id])
    if is_progress(record.headers):  # contacts' progress, for journey's lane clocks
        return Facts()
    recorded = parse_record(record, TouchpointRecorded)
    purchase = purchase_of(recorded)
    at = checked_time(recorded.touchpoint.occurred_at, "touchpoint.occurred_at")
    contacts = (
        [ContactSeen(recorded.customer_id, record.partition, at)] if recorded.customer_id else []
    )
    return Facts(purchases=[purchase] if purchase else [], contacts=contacts)


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

    def value(
        self,
        purchases: Sequence[Purchase],
        lost: Sequence[LostMoment],
        presence: Presence | None = None,
        known: Known | None = None,
    ) -> Valuation:
        """One customer valued from their whole history (keeping the figures still known)."""
        return valuation(purchases, lost, self.model, self.policy, presence, known)

    def history(
        self, purchases: Sequence[Purchase], lost: Sequence[LostMoment], limit: int
    ) -> list[ValueChange]:
        """The latest changes of one customer's value, newest first."""
        return value_history(purchases, lost, self.model, limit, self.policy)

    async def handle(self, batch: Sequence[Incoming]) -> list[Outgoing]:
        """Store the batch's facts; what they changed goes out through the outbox, written in
        the same transaction (told); only the dead letters are returned."""
        parts: list[Facts] = []
        dead: list[Outgoing] = []
        for record in batch:
            try:
                parts.append(read_facts(record))
            except UnusableRecord as error:
                dead.append(dead_letter_unusable(record, LOYALTY_DLQ, error))
        await self.store.fold(Facts.combined(parts), self.value, self.told)
        return dead

    def told(self, facts: Facts, folded: Folded) -> list[Outgoing]:
        """For each customer the facts concern, what each new, newly recovered or reopened lost
        moment put at risk (with the value now), and each one whose value at risk the batch
        changed (history before it heard after it), or else the new value; and every change of
        tier at the sites the batch touched."""
        outgoing: list[Outgoing] = []
        changed = facts.moment_ids | folded.reopened | folded.revalued
        for customer, valuation_now in sorted(folded.valued.items()):
            value = valuation_now.value
            at_risk = [r for r in valuation_now.at_risk if r.moment_id in changed]
            for moment in at_risk:
                outgoing.append(self.record(customer, at_risk_updated(customer, value, moment)))
            if not at_risk and value is not None:
                revision = folded.revisions.get(customer, 0)
                outgoing.append(self.record(customer, value_updated(value, revision)))
        for change in folded.tier_changes:
            outgoing.append(self.record(change.customer_id, tier_changed(change)))
        return outgoing

    @staticmethod
    def record(customer_id: str, event: ValueUpdated) -> Outgoing:
        """The event as a record on loyalty.values.v1, keyed by customer."""
        at: datetime | None = None
        if event.HasField("at_risk"):
            at = to_datetime(event.at_risk.occurred_at)
        elif event.value.HasField("as_of"):
            at = to_datetime(event.value.as_of)
        headers = cloudevent_headers(
            event_id=event.event_id, source=SOURCE, type_=VALUE_TYPE, time=at
        )
        return Outgoing(LOYALTY_VALUES, customer_id.encode(), event.SerializeToString(), headers)
