"""Protobuf ⇄ loyalty's domain."""

from __future__ import annotations

from loyalty.domain import CustomerValue, Purchase
from touchstone.common.decoding import checked_time
from touchstone.common.ids import derived_id
from touchstone.common.prototime import to_timestamp
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.loyalty.v1 import events_pb2 as pb


def purchase_of(recorded: TouchpointRecorded) -> Purchase | None:
    """The purchase a recorded touchpoint carries, or None if it carries none."""
    tp = recorded.touchpoint
    if not tp.HasField("purchase") or not tp.purchase.currency:
        return None
    return Purchase(
        event_id=tp.event_id,
        customer_id=recorded.customer_id,
        visit_id=recorded.visit_id,
        occurred_at=checked_time(tp.occurred_at, "touchpoint.occurred_at"),
        currency=tp.purchase.currency,
        minor_units=tp.purchase.minor_units,
    )


def value_message(value: CustomerValue) -> pb.CustomerValue:
    """A customer's value as a contract message."""
    return pb.CustomerValue(
        customer_id=value.customer_id,
        currency=value.currency,
        average_spend_minor=value.average_spend_minor,
        purchases=value.purchases,
        visits=value.visits,
        visits_per_year=float(value.visits_per_year),
        expected_years=float(value.expected_years),
        lifetime_value_minor=value.lifetime_value_minor,
        as_of=to_timestamp(value.as_of),
    )


def value_updated(value: CustomerValue) -> pb.ValueUpdated:
    """ValueUpdated; its id names the customer's state (purchases folded in), so replays dedupe."""
    event_id = derived_id("value", value.customer_id, str(value.purchases), value.as_of.isoformat())
    return pb.ValueUpdated(event_id=event_id, value=value_message(value))
