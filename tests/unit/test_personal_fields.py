"""Personal data is marked where it lives: every string and bytes field of every contract is
either marked `(touchstone.annotations.v1.personal)` or listed here as safe, with the reason; a
new field that is neither fails this test until someone decides. Masking covers strings and
bytes, single and repeated, and leaves a caller their own identifier."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from touchstone.contacts.v1 import contacts_service_pb2 as contacts
from touchstone.contacts.v1 import touchpoint_pb2
from touchstone.notify.v1 import events_pb2 as notify_events
from touchstone.platform.security.personal_data import MASK, is_personal, mask

CONTRACTS = (
    "touchstone.contacts.v1",
    "touchstone.journey.v1",
    "touchstone.loyalty.v1",
    "touchstone.notify.v1",
    "touchstone.audit.v1",
)
OPAQUE_ID = "an opaque id, pseudonymous: it names no one by itself"
WORDS = "a word of the system's own vocabulary (maps, standards, playbooks, statuses)"
GENERATED = "text the system writes from its rules and ids, never what a person typed"
SAFE = {  # field name -> why it is not personal data
    "page_token": "a cursor",
    "next_page_token": "a cursor",
    "currency": WORDS,
    "journey_map": WORDS,
    "stage": WORDS,
    "source": "the producing system's name",
    "topic": "a Kafka topic's name",
    "kind": WORDS,
    "name": WORDS + ", or a standards file's name",
    "channel": WORDS,
    "action": WORDS,
    "owner": WORDS + " (staff, system, duty_manager: a role, not a person)",
    "status": WORDS,
    "tier": WORDS,
    "previous_tier": WORDS,
    "playbook": WORDS,
    "language": "a message's language",
    "preferred_language": "a preference, identifying no one",
    "time_zone": "a preference, identifying no one",
    "start": "quiet hours: a preference, identifying no one",
    "end": "quiet hours: a preference, identifying no one",
    "how": WORDS,
    "what": WORDS,
    "transition": WORDS,
    "area": WORDS,
    "dimension": WORDS,
    "measurement": WORDS,
    "comparator": WORDS,
    "deadline_until": WORDS,
    "deadline_by": WORDS,
    "promised_measurement": WORDS,
    "must_observe": WORDS,
    "must_not_observe": WORDS,
    "applies_when": WORDS,
    "version": "a standards version (a digest)",
    "previous_version": "a standards version (a digest)",
    "standards_version": "a standards version (a digest)",
    "service": "a Touchstone service's name",
    "method": "an RPC's name",
    "outcome": "a gRPC status name",
    "roles": "role names",
    "first_day": "a date",
    "last_day": "a date",
    "field": "a contract field's name",
    "key": "a measurement's name (map key)",
    "reason": GENERATED + " (free-text reasons people give are marked)",
    "reasons": GENERATED,
    "description": GENERATED,
    "message": GENERATED,
    "detail": "audit: why a call was refused, or the ids a command named (" + GENERATED + ")",
    "reason_contains": "a filter on generated reasons",
    "nonce": "random bytes, new for every value sealed",
    "ciphertext": "sealed with the customer's own key, which erasure destroys (sealing.py)",
    "yaml": "a standards file: configuration, not about anyone",
    "standards_yaml": "a standards file: configuration, not about anyone",
    "ids": OPAQUE_ID,
    "id": OPAQUE_ID,
    "redriven": OPAQUE_ID,
    "still_invalid": OPAQUE_ID,
    "recovered_by": OPAQUE_ID + " (the feedback or visit completion that recovered a case)",
    "returned_by": OPAQUE_ID + " (the win's moment)",
}
MUST_BE_MARKED = {  # what a person typed, or names a person: marked, whatever else changes
    "touchstone.contacts.v1.ExternalIdentity.value",
    "touchstone.contacts.v1.Profile.display_name",
    "touchstone.contacts.v1.Profile.department",
    "touchstone.contacts.v1.Feedback.comment",
    "touchstone.contacts.v1.Touchpoint.staff_id",
    "touchstone.contacts.v1.Touchpoint.observations",
    "touchstone.contacts.v1.DeadLetter.key",
    "touchstone.contacts.v1.DeadLetter.value",
    "touchstone.contacts.v1.Header.value",
    "touchstone.contacts.v1.MergeCustomersRequest.reason",
    "touchstone.contacts.v1.CustomersMerged.reason",
    "touchstone.journey.v1.StandardsPromoted.promoted_by",
    "touchstone.notify.v1.CaseStep.taken_by",
    "touchstone.notify.v1.Task.taken_by",
    "touchstone.notify.v1.CaseRecovered.by",
    "touchstone.notify.v1.CaseRecovered.note",
    "touchstone.notify.v1.StepTaken.by",
    "touchstone.notify.v1.StepTaken.note",
    "touchstone.notify.v1.StepCommand.by",
    "touchstone.notify.v1.StepCommand.note",
    "touchstone.notify.v1.Case.resolved_by",
    "touchstone.notify.v1.TimelineEntry.detail",
    "touchstone.audit.v1.AuditRecord.subject",
    "touchstone.audit.v1.AuditRecord.peer",
}


def every_text_field() -> Iterator[FieldDescriptor]:
    """Every string and bytes field of every message of every contract, once."""
    seen: set[str] = set()

    def walk(message: Descriptor) -> Iterator[FieldDescriptor]:
        if message.full_name in seen:
            return
        seen.add(message.full_name)
        for field in message.fields:
            if field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
                yield field
            if field.message_type is not None:
                yield from walk(field.message_type)
        for nested in message.nested_types:
            yield from walk(nested)

    for package in CONTRACTS:
        found = importlib.import_module(package)
        for module in pkgutil.iter_modules(found.__path__):
            if module.name.endswith("_pb2"):
                contract = importlib.import_module(f"{package}.{module.name}")
                for message in contract.DESCRIPTOR.message_types_by_name.values():
                    yield from walk(message)


def test_every_text_field_of_every_contract_is_marked_personal_or_listed_as_safe() -> None:
    fields = list(every_text_field())
    undecided = [
        f.full_name
        for f in fields
        if not is_personal(f)
        and f.name not in SAFE
        and not f.name.endswith(("_id", "_ids"))  # opaque ids (staff_id is marked)
    ]
    assert undecided == []
    marked = {f.full_name for f in fields if is_personal(f)}
    assert marked >= MUST_BE_MARKED, sorted(MUST_BE_MARKED - marked)
    assert len(fields) > 250  # the walk reached every contract


def test_masking_covers_repeated_strings_and_bytes_and_leaves_a_caller_their_own_name() -> None:
    seen = touchpoint_pb2.Touchpoint(
        staff_id="lan@hcm-01", observations=["greeted", "lan's mum is unwell"]
    )
    mask(seen)
    assert (seen.staff_id, list(seen.observations)) == (MASK, [MASK, MASK])
    letter = contacts.DeadLetter(key=b"+84901234567", value=b"\x08\x01phone +84901234567")
    mask(letter)
    assert (letter.key, letter.value) == (MASK.encode(), MASK.encode())
    task = notify_events.Task(taken_by="lan@hcm-01", action="apologise")
    mask(task, own="lan@hcm-01")
    assert (task.taken_by, task.action) == ("lan@hcm-01", "apologise")
    mask(task, own="minh@hcm-01")
    assert task.taken_by == MASK
