"""Touchpoint bytes ⇄ protobuf ⇄ the domain's facts."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import json_format
from google.protobuf.message import DecodeError

from touchstone.contacts.domain import TouchpointFacts
from touchstone.contacts.registry_framing import BadFraming, is_framed, unframe
from touchstone.contacts.v1.touchpoint_pb2 import IdentityKind, Touchpoint
from touchstone.platform.messaging.topics import JSON, PROTOBUF
from touchstone.platform.runtime.prototime import to_datetime

MAX_TOUCHPOINT_BYTES = 64 * 1024
UNSPECIFIED_KIND = "unspecified"
IDENTITY_KIND_NAMES = {
    IdentityKind.IDENTITY_KIND_LOYALTY_CARD: "loyalty_card",
    IdentityKind.IDENTITY_KIND_PHONE: "phone",
    IdentityKind.IDENTITY_KIND_EMAIL: "email",
    IdentityKind.IDENTITY_KIND_ACCOUNT: "account",
}


class UndecodableTouchpoint(ValueError):
    """The bytes are not a Touchpoint in the declared content type."""


def decode_touchpoint(value: bytes | None, content_type: str) -> Touchpoint:
    """Parse a touchpoint from protobuf or protobuf-JSON bytes, Schema Registry framed or not
    (framed JSON is read as JSON whatever the content-type header says)."""
    if not value:
        raise UndecodableTouchpoint("empty value")
    if len(value) > MAX_TOUCHPOINT_BYTES:
        raise UndecodableTouchpoint(f"{len(value)} bytes, more than {MAX_TOUCHPOINT_BYTES}")
    if is_framed(value):  # Confluent Schema Registry wire framing
        try:
            framed = unframe(value)
        except BadFraming as error:
            raise UndecodableTouchpoint(str(error)) from error
        value, content_type = framed.payload, JSON if framed.is_json else PROTOBUF
    touchpoint = Touchpoint()
    try:
        if content_type == JSON:
            json_format.Parse(value.decode("utf-8"), touchpoint)
        elif content_type == PROTOBUF:
            touchpoint.ParseFromString(value)
        else:
            raise UndecodableTouchpoint(f"unsupported content-type {content_type!r}")
    except (DecodeError, json_format.ParseError, UnicodeDecodeError, RecursionError) as error:
        raise UndecodableTouchpoint(f"not a {content_type} Touchpoint: {error}") from error
    return touchpoint


def facts_of(tp: Touchpoint) -> TouchpointFacts:
    """The domain's view of a decoded touchpoint."""
    identity = tp.customer.identity if tp.customer.HasField("identity") else None
    kind = ""
    if identity is not None:
        kind = IDENTITY_KIND_NAMES.get(identity.kind, UNSPECIFIED_KIND)
    occurred_at, occurred_at_error = _occurred_at(tp)
    return TouchpointFacts(
        event_id=tp.event_id,
        occurred_at=occurred_at,
        occurred_at_error=occurred_at_error,
        source=tp.source,
        customer_id=tp.customer.customer_id,
        identity_kind=kind,
        identity_value=identity.value if identity is not None else "",
        journey_map=tp.journey_map,
        stage=tp.stage,
        site_id=tp.site_id,
        visit_id=tp.visit_id,
        measurements=dict(tp.measurements),
        observations=tuple(tp.observations),
        purchase_currency=tp.purchase.currency,
        purchase_minor_units=tp.purchase.minor_units,
        feedback_rating=tp.feedback.rating,
    )


def _occurred_at(tp: Touchpoint) -> tuple[datetime | None, str]:
    """The touchpoint's time, or why it cannot be read (protobuf allows any seconds and nanos)."""
    if not tp.HasField("occurred_at"):
        return None, ""
    try:
        return to_datetime(tp.occurred_at), ""
    except (ValueError, OverflowError):
        return None, "is not a valid timestamp (years 1 to 9999, nanos 0 to 999,999,999)"


def anonymised(touchpoint: Touchpoint) -> Touchpoint:
    """The touchpoint without personal data: identity value and feedback comment removed.

    What happened (stage, measurements, amounts, rating) stays, so aggregates stay true.
    """
    clean = Touchpoint()
    clean.CopyFrom(touchpoint)
    if clean.customer.HasField("identity"):
        clean.customer.identity.value = ""
    if clean.HasField("feedback"):  # setting a field of an absent one would make it present
        clean.feedback.comment = ""
    return clean
