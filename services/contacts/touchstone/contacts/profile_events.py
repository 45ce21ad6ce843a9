"""Contacts' profile events (contacts.profiles.v1): registered, updated, merged, erased…"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from touchstone.contacts.profiles import Merge
from touchstone.contacts.v1 import profile_pb2 as profile_pb
from touchstone.contacts.v1.touchpoint_pb2 import ExternalIdentity, IdentityKind
from touchstone.platform.messaging.topics import (
    CONTACTS_KEYS,
    CONTACTS_PROFILES,
    Outgoing,
    cloudevent_headers,
)
from touchstone.platform.runtime.prototime import to_timestamp
from touchstone.platform.security.sealing import seal

PROFILE_EVENT_TYPE = "touchstone.contacts.v1.CustomerEvent"
KEY_EVENT_TYPE = "touchstone.contacts.v1.CustomerKey"


def profile_event(customer_id: str, **change: object) -> Outgoing:
    """A CustomerEvent for contacts.profiles.v1, keyed by customer id."""
    event = profile_pb.CustomerEvent(event_id=str(uuid.uuid4()), **change)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    event.at.CopyFrom(to_timestamp(now))
    headers = cloudevent_headers(
        event_id=event.event_id, source="touchstone/contacts", type_=PROFILE_EVENT_TYPE, time=now
    )
    return Outgoing(CONTACTS_PROFILES, customer_id.encode(), event.SerializeToString(), headers)


# What profile events tell, on a topic kept forever: only what a service downstream uses. Notify
# writes to an email address, and every service follows merges, unmerges, consent and erasures;
# names, departments, phone numbers, cards, accounts and the free-text reasons for a merge stay
# in contacts (GetCustomer serves them to whoever may see them). The addresses are told sealed
# with the customer's key (touchstone/platform/security/sealing.py), which erasure destroys.
TOLD_IDENTITY_KINDS = (IdentityKind.IDENTITY_KIND_EMAIL,)


def sealed_identities(
    customer_id: str, key: bytes, identities: Iterable[ExternalIdentity]
) -> list[profile_pb.SealedIdentity]:
    """The identities a profile event tells (the addresses notify writes to), sealed."""
    return [
        seal(key, customer_id, i.kind, i.value) for i in identities if i.kind in TOLD_IDENTITY_KINDS
    ]


def registered_event(
    customer_id: str,
    key: bytes,
    identities: Iterable[ExternalIdentity],
    consent: profile_pb.Consent,
) -> Outgoing:
    """CustomerRegistered: the customer, their addresses (sealed) and their consent."""
    registered = profile_pb.CustomerRegistered(
        customer_id=customer_id,
        sealed_identities=sealed_identities(customer_id, key, identities),
        consent=consent,
    )
    return profile_event(customer_id, registered=registered)


def updated_event(customer_id: str, key: bytes, added: Iterable[ExternalIdentity]) -> Outgoing:
    """CustomerUpdated: the customer, and any address they gave (sealed)."""
    updated = profile_pb.CustomerUpdated(
        customer_id=customer_id, sealed_identities=sealed_identities(customer_id, key, added)
    )
    return profile_event(customer_id, updated=updated)


def key_event(customer_id: str, key: bytes) -> Outgoing:
    """The customer's key, for contacts.keys.v1 (compacted, keyed by customer id)."""
    told = profile_pb.CustomerKey(customer_id=customer_id, key=key)
    headers = cloudevent_headers(
        event_id=str(uuid.uuid4()),
        source="touchstone/contacts",
        type_=KEY_EVENT_TYPE,
        time=datetime.now(UTC),
    )
    return Outgoing(CONTACTS_KEYS, customer_id.encode(), told.SerializeToString(), headers)


def destroyed_key_event(customer_id: str) -> Outgoing:
    """The customer's key destroyed (at erasure): their record on contacts.keys.v1, keyless."""
    return key_event(customer_id, b"")


def merged_event(merge: Merge) -> Outgoing:
    """CustomersMerged, keyed by the absorbed customer so its unmerge follows it in order."""
    merged = profile_pb.CustomersMerged(
        merge_id=merge.merge_id, survivor_id=merge.survivor_id, absorbed_id=merge.absorbed_id
    )
    return profile_event(merge.absorbed_id, merged=merged)


def unmerged_event(merge: Merge) -> Outgoing:
    """CustomersUnmerged, keyed like the merge it undoes."""
    unmerged = profile_pb.CustomersUnmerged(
        merge_id=merge.merge_id, survivor_id=merge.survivor_id, absorbed_id=merge.absorbed_id
    )
    return profile_event(merge.absorbed_id, unmerged=unmerged)


def new_merge(survivor_id: str, absorbed_id: str, reason: str) -> Merge:
    """A merge with a new id (a command's own fact, so a random id is right here)."""
    return Merge(str(uuid.uuid4()), survivor_id, absorbed_id, reason)
