"""Small builders for test inputs: a valid touchpoint, a record carrying it, a scored moment."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.contacts.v1.touchpoint_pb2 import CustomerRef, Money, Touchpoint
from touchstone.journey.v1.events_pb2 import MomentScored
from touchstone.platform.messaging.topics import Incoming, Outgoing

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


# what a message-taking touchpoint observes when the agent did it right (its own standard)
MESSAGE_TAKEN = ("took_name", "took_number", "agreed_callback_time")


def touchpoint(
    stage: str = "enter_store", at: datetime = T0, journey_map: str = "supermarket", **fields: Any
) -> Touchpoint:
    """A valid touchpoint; keyword fields override or add to it."""
    tp = Touchpoint(
        event_id=fields.pop("event_id", f"ev-{stage}-{at.isoformat()}"),
        source=fields.pop("source", "door-sensor"),
        customer=fields.pop("customer", CustomerRef(customer_id="cust-1")),
        site_id=fields.pop("site_id", "hcm-01"),
        journey_map=journey_map,
        stage=stage,
        **fields,
    )
    tp.occurred_at.FromDatetime(at)
    return tp


def payment(minor_units: int, at: datetime = T0, visit_id: str = "visit-1") -> Touchpoint:
    """A payment touchpoint in VND."""
    return touchpoint(
        "pay",
        at,
        purchase=Money(currency="VND", minor_units=minor_units),
        visit_id=visit_id,
        event_id=f"pay-{visit_id}-{at.isoformat()}",
    )


def record(
    value: bytes | None,
    offset: int = 0,
    topic: str = "touchpoints.v1",
    headers: dict[str, bytes] | None = None,
    received: datetime = T0 + timedelta(seconds=1),
    key: bytes = b"cust-1",
) -> Incoming:
    """A consumed record as handlers see it."""
    return Incoming(topic, 0, offset, key, value, headers or {}, int(received.timestamp() * 1000))


def recorded(
    tp: Touchpoint, customer_id: str = "cust-1", visit_id: str = "visit-1", named: bool = True
) -> bytes:
    """The TouchpointRecorded bytes contacts would publish for tp, in this visit: one its
    producer named (unless named=False: contacts' fallback, which journey regroups by gap)."""
    if named and not tp.visit_id:
        tp = Touchpoint.FromString(tp.SerializeToString())
        tp.visit_id = visit_id
    return TouchpointRecorded(
        event_id=f"rec-{tp.event_id}", touchpoint=tp, customer_id=customer_id, visit_id=visit_id
    ).SerializeToString()


def moment(
    verdict: int,
    moment_id: str = "m-1",
    visit_id: str = "visit-1",
    at: datetime = T0,
    reason: str = "greeted within 30 s: 45 (<= 30)",
) -> bytes:
    """MomentScored bytes as journey would publish them."""
    event = MomentScored(
        moment_id=moment_id,
        source_event_id=f"src-{moment_id}",
        customer_id="cust-1",
        visit_id=visit_id,
        site_id="hcm-01",
        journey_map="supermarket",
        stage="enter_store",
        verdict=verdict,
        reason=reason,
    )
    event.occurred_at.FromDatetime(at)
    return event.SerializeToString()


def valued(purchases: Any, lost: Any = (), presence: Any = None, known: Any = None) -> Any:
    """A customer valued as loyalty values them: the default churn model and value policy."""
    from touchstone.loyalty.churn import load_model
    from touchstone.loyalty.domain import DEFAULT_POLICY
    from touchstone.loyalty.valuation import valuation

    return valuation(purchases, lost, load_model(), DEFAULT_POLICY, presence, known)


def value_records(out: Any) -> list[Any]:
    """A loyalty batch's output without its tier changes (tests of values and what is at risk)."""
    from touchstone.loyalty.v1.events_pb2 import ValueUpdated

    return [
        o
        for o in out
        if o.topic != "loyalty.values.v1"
        or not ValueUpdated.FromString(o.value).HasField("tier_change")
    ]


def handled(handler: Any, batch: Sequence[Incoming]) -> list[Outgoing]:
    """What a loyalty batch sends: the handler's dead letters, then what its transaction wrote
    to the outbox (as the relay publishes it)."""
    dead = asyncio.run(handler.handle(list(batch)))
    return [*dead, *handler.store.relayed()]
