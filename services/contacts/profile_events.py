"""Contacts' profile events (contacts.profiles.v1): registered, updated, merged, erased…"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from contacts.profiles import Merge
from touchstone.common.prototime import to_timestamp
from touchstone.common.topics import CONTACTS_PROFILES, Outgoing, cloudevent_headers
from touchstone.contacts.v1 import profile_pb2 as profile_pb

PROFILE_EVENT_TYPE = "touchstone.contacts.v1.CustomerEvent"


def profile_event(customer_id: str, **change: object) -> Outgoing:
    """A CustomerEvent for contacts.profiles.v1, keyed by customer id."""
    event = profile_pb.CustomerEvent(event_id=str(uuid.uuid4()), **change)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    event.at.CopyFrom(to_timestamp(now))
    headers = cloudevent_headers(
        event_id=event.event_id, source="touchstone/contacts", type_=PROFILE_EVENT_TYPE, time=now
    )
    return Outgoing(CONTACTS_PROFILES, customer_id.encode(), event.SerializeToString(), headers)


def merged_event(merge: Merge) -> Outgoing:
    """CustomersMerged, keyed by the absorbed customer so its unmerge follows it in order."""
    merged = profile_pb.CustomersMerged(
        merge_id=merge.merge_id,
        survivor_id=merge.survivor_id,
        absorbed_id=merge.absorbed_id,
        reason=merge.reason,
    )
    return profile_event(merge.absorbed_id, merged=merged)


def unmerged_event(merge: Merge, reason: str) -> Outgoing:
    """CustomersUnmerged, keyed like the merge it undoes."""
    unmerged = profile_pb.CustomersUnmerged(
        merge_id=merge.merge_id,
        survivor_id=merge.survivor_id,
        absorbed_id=merge.absorbed_id,
        reason=reason,
    )
    return profile_event(merge.absorbed_id, unmerged=unmerged)


def new_merge(survivor_id: str, absorbed_id: str, reason: str) -> Merge:
    """A merge with a new id (a command's own fact, so a random id is right here)."""
    return Merge(str(uuid.uuid4()), survivor_id, absorbed_id, reason)
