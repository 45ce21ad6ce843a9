"""Admission: a touchpoint, however it arrived, becomes a row to record or the reasons it cannot."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from touchstone.contacts.codec import (
    IDENTITY_KIND_NAMES,
    UndecodableTouchpoint,
    anonymised,
    decode_touchpoint,
    facts_of,
)
from touchstone.contacts.domain import (
    CONTROL_CHARACTERS,
    DEFAULT_INGEST_POLICY,
    IDENTITY_KINDS,
    IngestPolicy,
    Violation,
    is_late,
    normalise_identity,
    resolve_customer_id,
    resolve_visit_id,
    too_large,
    validate,
    vocabulary_gaps,
)
from touchstone.contacts.ports import RecordedTouchpoint
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.contacts.v1.touchpoint_pb2 import Touchpoint
from touchstone.platform.messaging.topics import CONTACTS_RECORDED, Outgoing, cloudevent_headers
from touchstone.platform.runtime.ids import derived_id

SOURCE = "touchstone/contacts"
RECORDED_TYPE = "touchstone.contacts.v1.TouchpointRecorded"


@dataclass(frozen=True)
class Admitted:
    """A touchpoint that passed validation, with what contacts resolved for it."""

    touchpoint: Touchpoint
    row: RecordedTouchpoint


def admit_touchpoint(
    touchpoint: Touchpoint,
    received_at: datetime,
    policy: IngestPolicy,
    owners: Mapping[tuple[str, str], str] | None = None,
) -> Admitted | list[Violation]:
    """Validate a decoded touchpoint and resolve its customer (owners: claimed identities)."""
    facts = facts_of(touchpoint)
    violations = too_large(touchpoint.ByteSize(), policy) or validate(facts, received_at, policy)
    if violations:
        return violations
    assert facts.occurred_at is not None  # validated
    customer_id = resolve_customer_id(facts, owners, policy.identity_keys)
    identity = None
    if facts.identity_kind:
        canonical = normalise_identity(facts.identity_kind, facts.identity_value)
        identity = (facts.identity_kind, canonical)
    row = RecordedTouchpoint(
        event_id=facts.event_id,
        customer_id=customer_id,
        visit_id=resolve_visit_id(facts, customer_id, policy),
        occurred_at=facts.occurred_at,
        source=facts.source,
        journey_map=facts.journey_map,
        stage=facts.stage,
        site_id=facts.site_id,
        payload=touchpoint.SerializeToString(deterministic=True),
        identity=identity,
        late=is_late(facts.occurred_at, received_at, policy),
        gaps=vocabulary_gaps(facts, policy),
    )
    return Admitted(touchpoint, row)


def decode_or_refuse(
    value: bytes | None, content_type: str, policy: IngestPolicy = DEFAULT_INGEST_POLICY
) -> Touchpoint | list[Violation]:
    """The touchpoint in the bytes, or why there is none (too many bytes: not even decoded)."""
    if refused := too_large(len(value or b""), policy):
        return refused
    try:
        return decode_touchpoint(value, content_type)
    except UndecodableTouchpoint as error:
        return [Violation("value", str(error))]


def admit_bytes(
    value: bytes | None, content_type: str, received_at: datetime, policy: IngestPolicy
) -> Admitted | list[Violation]:
    """Decode and admit one touchpoint as it arrived on the wire (no claimed identities)."""
    decoded = decode_or_refuse(value, content_type, policy)
    if isinstance(decoded, list):
        return decoded
    return admit_touchpoint(decoded, received_at, policy)


def identity_of(touchpoint: Touchpoint) -> tuple[str, str] | None:
    """The (kind, canonical value) a touchpoint names its customer by, if it uses an identity."""
    ref = touchpoint.customer
    if ref.WhichOneof("ref") != "identity":
        return None
    kind = IDENTITY_KIND_NAMES.get(ref.identity.kind, "")
    value = normalise_identity(kind, ref.identity.value) if kind in IDENTITY_KINDS else ""
    if not value or CONTROL_CHARACTERS.search(value):
        return None  # refused by validation; nothing to look up
    return kind, value


def recorded_event(admitted: Admitted) -> Outgoing:
    """TouchpointRecorded for an admitted touchpoint, keyed by customer id: without the identity's
    value and the feedback comment (contacts.recorded.v1 is kept forever, and every service
    downstream knows the customer by customer_id; contacts keeps the whole touchpoint)."""
    row = admitted.row
    event = TouchpointRecorded(
        event_id=derived_id("recorded", row.event_id),
        touchpoint=anonymised(admitted.touchpoint),
        customer_id=row.customer_id,
        visit_id=row.visit_id,
        late=row.late,
    )
    headers = cloudevent_headers(
        event_id=event.event_id, source=SOURCE, type_=RECORDED_TYPE, time=row.occurred_at
    )
    return Outgoing(CONTACTS_RECORDED, row.customer_id.encode(), event.SerializeToString(), headers)


def anonymise(admitted: Admitted) -> Admitted:
    """An erased customer's touchpoint as it may be stored and published: no personal data."""
    clean = anonymised(admitted.touchpoint)
    row = replace(admitted.row, payload=clean.SerializeToString(deterministic=True), identity=None)
    return Admitted(clean, row)


class IdentityLookup(Protocol):
    """What admission asks storage: who holds identities, who is erased."""

    async def identity_owners(
        self, identities: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], str]: ...

    async def erased_among(self, customer_ids: Sequence[str]) -> set[str]: ...


async def admit_many(
    decoded: Sequence[Touchpoint | list[Violation]],
    received: Sequence[datetime],
    policy: IngestPolicy,
    lookup: IdentityLookup,
) -> list[Admitted | list[Violation]]:
    """Admit a batch: identities resolved to their holders, erased customers' data removed."""
    named = {i for d in decoded if not isinstance(d, list) and (i := identity_of(d))}
    owners = await lookup.identity_owners(sorted(named))
    results = [
        d if isinstance(d, list) else admit_touchpoint(d, at, policy, owners)
        for d, at in zip(decoded, received, strict=True)
    ]
    customers = {r.row.customer_id for r in results if isinstance(r, Admitted)}
    erased = await lookup.erased_among(sorted(customers))
    return [
        anonymise(r) if isinstance(r, Admitted) and r.row.customer_id in erased else r
        for r in results
    ]


def names_customer(
    key: bytes,
    value: bytes,
    content_type: str,
    customer_id: str,
    identities: Collection[tuple[str, str]],
) -> bool:
    """Whether a stored record (a dead letter, say) concerns this customer, by key or content."""
    if key == customer_id.encode():
        return True
    kind, _, raw = key.decode("utf-8", "replace").partition(":")
    if kind in IDENTITY_KINDS and (kind, normalise_identity(kind, raw)) in identities:
        return True
    try:
        decoded = decode_touchpoint(value, content_type)  # however large: it may name them
    except UndecodableTouchpoint:
        return False
    return decoded.customer.customer_id == customer_id or identity_of(decoded) in identities
