"""Protobuf ⇄ loyalty's domain."""

from __future__ import annotations

from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.loyalty.at_risk import AtRisk
from touchstone.loyalty.domain import CustomerValue, Purchase
from touchstone.loyalty.history import LOST_MOMENT, PURCHASE, RECOVERY, ValueChange
from touchstone.loyalty.tiers import TierChanged
from touchstone.loyalty.v1 import events_pb2 as pb
from touchstone.loyalty.valuation import Facts, Recovery, Reopening
from touchstone.notify.v1.events_pb2 import CaseEvent
from touchstone.platform.messaging.decoding import UnusableRecord, checked_time
from touchstone.platform.runtime.ids import content_id
from touchstone.platform.runtime.prototime import to_timestamp


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
        site_id=tp.site_id,
    )


def case_facts(event: CaseEvent, customer_id: str) -> Facts:
    """What a case event tells loyalty (its record's key is the customer id): the moments it
    reports recovered, or that the case is no longer recovered (a lost moment joined it, or it
    closed as lost); nothing for its other changes."""
    change = event.WhichOneof("change")
    if change in ("joined", "lost"):
        case_id = event.joined.case_id if change == "joined" else event.lost.case_id
        if not case_id or not customer_id:
            raise UnusableRecord(f"{change}: case_id and the record key are required")
        return Facts(reopened=[Reopening(case_id, customer_id)])
    if change != "recovered":
        return Facts()
    case = event.recovered
    if not case.case_id or not case.customer_id or not case.moment_ids:
        raise UnusableRecord("recovered: case_id, customer_id and moment_ids are required")
    at = checked_time(case.recovered_at, "recovered.recovered_at")
    return Facts(
        recoveries=[Recovery(m, case.customer_id, case.case_id, at) for m in case.moment_ids]
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
        churn_risk=float(value.churn_risk or 0),
        site_id=value.site_id,
        silent=value.silent,
    )


def value_updated(value: CustomerValue, revision: int = 0) -> pb.ValueUpdated:
    """ValueUpdated; its id is a function of the whole value (and, once merges touched the
    customer, of how many did: the same value before a merge and after its unmerge is news
    again), so a replay or redelivery dedupes and different values never share an id."""
    event = pb.ValueUpdated(value=value_message(value))
    merges = f"links-{revision}" if revision else ""
    event.event_id = content_id("value" + merges, value.customer_id, event)
    return event


def at_risk_updated(
    customer_id: str, value: CustomerValue | None, at_risk: AtRisk
) -> pb.ValueUpdated:
    """ValueUpdated for a lost moment: what it put at risk, and the customer's value as loyalty
    had it then; its id is a function of both (the value then depends on what had arrived)."""
    event = pb.ValueUpdated(
        value=value_message(value) if value else pb.CustomerValue(customer_id=customer_id),
        at_risk=at_risk_message(at_risk),
    )
    event.event_id = content_id("value-at-risk", at_risk.moment_id, event)
    return event


def tier_changed(change: TierChanged) -> pb.ValueUpdated:
    """ValueUpdated for a change of tier; its id is a function of the whole change."""
    event = pb.ValueUpdated(
        value=pb.CustomerValue(customer_id=change.customer_id),
        tier_change=pb.TierChange(
            site_id=change.site_id,
            tier=change.tier,
            previous_tier=change.previous_tier,
            rank=change.rank,
            site_customers=change.site_customers,
            currency=change.currency,
            lifetime_value_minor=change.lifetime_value_minor,
        ),
    )
    event.event_id = content_id("tier", change.customer_id, event)
    return event


def at_risk_message(at_risk: AtRisk) -> pb.ValueAtRisk:
    """What a lost moment put at risk, as a contract message."""
    return pb.ValueAtRisk(
        moment_id=at_risk.moment_id,
        site_id=at_risk.site_id,
        occurred_at=to_timestamp(at_risk.occurred_at),
        currency=at_risk.currency,
        lifetime_value_minor=at_risk.lifetime_value_minor,
        risk_before=float(at_risk.risk_before),
        risk_after=float(at_risk.risk_after),
        value_at_risk_minor=at_risk.value_at_risk_minor,
        recovered=at_risk.recovered,
        remaining_minor=at_risk.remaining_minor,
    )


CAUSES = {
    PURCHASE: pb.VALUE_CHANGE_CAUSE_PURCHASE,
    LOST_MOMENT: pb.VALUE_CHANGE_CAUSE_LOST_MOMENT,
    RECOVERY: pb.VALUE_CHANGE_CAUSE_RECOVERY,
}


def change_message(change: ValueChange) -> pb.ValueChange:
    """One change in a customer's value, as a contract message."""
    return pb.ValueChange(
        at=to_timestamp(change.at),
        cause=CAUSES[change.cause],
        cause_id=change.cause_id,
        site_id=change.site_id,
        amount_minor=change.amount_minor,
        currency=change.currency,
        lifetime_value_before_minor=change.lifetime_value_before_minor,
        lifetime_value_after_minor=change.lifetime_value_after_minor,
        churn_risk_before=float(change.churn_risk_before),
        churn_risk_after=float(change.churn_risk_after),
    )
