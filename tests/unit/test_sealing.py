"""Crypto-shredding: given a customer's key → then what contacts seals about them opens with that
key only, for that customer and kind only; profile events tell addresses sealed, keys on their own
compacted topic, and a destroyed key as a keyless record; notify keeps an address sealed and
opens it only to send, waiting for a key not heard yet."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from touchstone.contacts.profile_events import (
    destroyed_key_event,
    key_event,
    registered_event,
    updated_event,
)
from touchstone.contacts.v1 import profile_pb2 as profile_pb
from touchstone.contacts.v1.touchpoint_pb2 import (
    IDENTITY_KIND_EMAIL,
    IDENTITY_KIND_PHONE,
    ExternalIdentity,
)
from touchstone.notify.contact_book import (
    AwaitingKey,
    Contact,
    KeyChange,
    address_of,
    contact_change_of,
    folded,
    key_change_of,
)
from touchstone.notify.deliveries import DEFAULT_DELIVERY_POLICY, Defer, Send, Skip, email_decision
from touchstone.platform.messaging.decoding import UnusableRecord
from touchstone.platform.messaging.topics import CONTACTS_KEYS, CONTACTS_PROFILES, topic_config
from touchstone.platform.security.sealing import CannotOpen, new_customer_key, seal, unsealed

KEY = new_customer_key()
NOON = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
EMAIL = ExternalIdentity(kind=IDENTITY_KIND_EMAIL, value="lan@example.vn")
PHONE = ExternalIdentity(kind=IDENTITY_KIND_PHONE, value="+84912345678")


def test_a_seal_opens_with_its_customers_key_for_its_customer_and_kind_only() -> None:
    sealed = seal(KEY, "lan", IDENTITY_KIND_EMAIL, "lan@example.vn")
    assert unsealed(KEY, "lan", sealed) == "lan@example.vn"
    assert b"lan@example.vn" not in sealed.SerializeToString()
    assert seal(KEY, "lan", IDENTITY_KIND_EMAIL, "lan@example.vn").nonce != sealed.nonce
    with pytest.raises(CannotOpen, match="does not open"):
        unsealed(new_customer_key(), "lan", sealed)  # another key
    with pytest.raises(CannotOpen, match="does not open"):
        unsealed(KEY, "binh", sealed)  # moved to another customer's event
    moved = profile_pb.SealedIdentity()
    moved.CopyFrom(sealed)
    moved.kind = IDENTITY_KIND_PHONE
    with pytest.raises(CannotOpen, match="does not open"):
        unsealed(KEY, "lan", moved)  # told as another kind
    tampered = profile_pb.SealedIdentity()
    tampered.CopyFrom(sealed)
    tampered.ciphertext = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
    with pytest.raises(CannotOpen, match="does not open"):
        unsealed(KEY, "lan", tampered)
    with pytest.raises(CannotOpen, match="32 bytes, not 16"):
        unsealed(os.urandom(16), "lan", sealed)


def test_profile_events_tell_only_email_addresses_and_those_sealed() -> None:
    consent = profile_pb.Consent(preferred_language="vi")
    record = registered_event("lan", KEY, [EMAIL, PHONE], consent)
    assert record.topic == CONTACTS_PROFILES
    assert b"lan@example.vn" not in record.value and b"+849" not in record.value
    event = profile_pb.CustomerEvent.FromString(record.value)
    assert not event.registered.identities  # nothing in clear
    (sealed,) = event.registered.sealed_identities
    assert unsealed(KEY, "lan", sealed) == "lan@example.vn"
    updated = profile_pb.CustomerEvent.FromString(updated_event("lan", KEY, [PHONE, EMAIL]).value)
    assert [unsealed(KEY, "lan", s) for s in updated.updated.sealed_identities] == [EMAIL.value]


def test_keys_go_on_their_compacted_topic_and_a_destroyed_one_is_a_keyless_record() -> None:
    told, destroyed = key_event("lan", KEY), destroyed_key_event("lan")
    assert (told.topic, told.key, destroyed.topic, destroyed.key) == (
        CONTACTS_KEYS,
        b"lan",
        CONTACTS_KEYS,
        b"lan",
    )  # one key per customer: compaction keeps the last record, the keyless one
    assert key_change_of(profile_pb.CustomerKey.FromString(told.value)) == KeyChange("lan", KEY)
    gone = key_change_of(profile_pb.CustomerKey.FromString(destroyed.value))
    assert gone == KeyChange("lan", b"")
    config = topic_config(CONTACTS_KEYS, 1_048_576)
    assert config["cleanup.policy"] == "compact"
    assert config["max.compaction.lag.ms"] == str(24 * 3600 * 1000)
    assert "cleanup.policy" not in topic_config(CONTACTS_PROFILES, 1_048_576)
    with pytest.raises(UnusableRecord, match="32 bytes, not 3"):
        key_change_of(profile_pb.CustomerKey(customer_id="lan", key=b"abc"))
    with pytest.raises(UnusableRecord, match="customer_id"):
        key_change_of(profile_pb.CustomerKey(key=KEY))


def _contact_from(record_value: bytes) -> Contact:
    change = contact_change_of(profile_pb.CustomerEvent.FromString(record_value))
    assert change is not None
    return folded(Contact(change.customer_id), change)


def test_notify_keeps_an_address_sealed_and_opens_it_only_with_the_customers_key() -> None:
    consent = profile_pb.Consent(
        channels=[profile_pb.ChannelConsent(channel=profile_pb.CONSENT_CHANNEL_EMAIL, granted=True)]
    )
    contact = _contact_from(registered_event("lan", KEY, [EMAIL], consent).value)
    assert contact.email == "" and contact.sealed_email  # kept sealed
    assert address_of(contact, KEY) == "lan@example.vn"
    with pytest.raises(AwaitingKey):
        address_of(contact, None)
    assert email_decision(contact, False, 0, NOON, key=KEY) == Send()
    assert email_decision(contact, False, 0, NOON) == Defer(
        NOON + timedelta(minutes=1), "the address's key is not heard yet"
    )
    assert email_decision(contact, True, 0, NOON) == Skip("the customer was erased")
    wrong = email_decision(contact, False, 0, NOON, key=new_customer_key())
    assert wrong == Skip(
        "the address cannot be read: the seal does not open with this customer's key"
    )
    assert DEFAULT_DELIVERY_POLICY.key_wait == timedelta(minutes=1)


def test_an_address_told_in_clear_before_sealing_is_still_used_until_a_sealed_one_comes() -> None:
    before = profile_pb.CustomerEvent()
    before.registered.customer_id = "lan"
    before.registered.identities.append(EMAIL)
    contact = _contact_from(before.SerializeToString())
    assert address_of(contact, None) == "lan@example.vn"  # no key needed
    update = contact_change_of(
        profile_pb.CustomerEvent.FromString(
            updated_event(
                "lan", KEY, [ExternalIdentity(kind=IDENTITY_KIND_EMAIL, value="n@x.vn")]
            ).value
        )
    )
    assert update is not None
    now_sealed = folded(contact, update)
    assert now_sealed.email == "" and address_of(now_sealed, KEY) == "n@x.vn"
