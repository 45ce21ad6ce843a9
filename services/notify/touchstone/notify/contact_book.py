"""What notify knows to reach a customer, folded from contacts' profile events
(contacts.profiles.v1): their email address, language, consent by channel and quiet hours.
An erased customer's entry is dropped and nothing more is sent to them.

The address comes sealed with the customer's key (touchstone/platform/security/sealing.py) and
is kept sealed; it is opened only to send, with the key contacts tells on contacts.keys.v1. Erasure
destroys the key, so an address is unreadable from then on, here as on the topic. (Events from
before sealing told the address in clear; such an address is kept as it came.)"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from google.protobuf.message import DecodeError

from touchstone.contacts.v1 import profile_pb2 as profile_pb
from touchstone.contacts.v1.touchpoint_pb2 import IDENTITY_KIND_EMAIL, ExternalIdentity
from touchstone.platform.messaging.decoding import UnusableRecord
from touchstone.platform.security.sealing import KEY_BYTES, CannotOpen, unsealed

CHANNEL_NAMES = {
    profile_pb.CONSENT_CHANNEL_EMAIL: "email",
    profile_pb.CONSENT_CHANNEL_SMS: "sms",
    profile_pb.CONSENT_CHANNEL_PHONE: "phone",
    profile_pb.CONSENT_CHANNEL_PUSH: "push",
}
CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class Contact:
    """How to reach a customer, and when not to."""

    customer_id: str
    email: str = ""  # personal data: an address told in clear, before sealing
    language: str = ""  # BCP 47
    channels: tuple[str, ...] = ()  # consented channels
    quiet_start: str = ""  # "21:00" in time_zone; empty: no quiet hours
    quiet_end: str = ""
    time_zone: str = ""
    sealed_email: bytes = b""  # a SealedIdentity: the address, sealed with the customer's key


@dataclass(frozen=True)
class ConsentGiven:
    """A customer's consent as a profile event states it (replacing what was known)."""

    language: str
    channels: tuple[str, ...]
    quiet_start: str
    quiet_end: str
    time_zone: str


@dataclass(frozen=True)
class ContactChange:
    """What one profile event changes about reaching its customer."""

    customer_id: str
    email: str = ""  # a newly known address told in clear (before sealing), or "" for none
    consent: ConsentGiven | None = None
    erased: bool = False
    sealed_email: bytes = b""  # a newly known address, sealed (a SealedIdentity), or b"" for none


@dataclass(frozen=True)
class KeyChange:
    """A customer's key as contacts.keys.v1 tells it: b"" when it was destroyed (erasure)."""

    customer_id: str
    key: bytes


def key_change_of(told: profile_pb.CustomerKey) -> KeyChange:
    """The key a contacts.keys.v1 record tells; UnusableRecord if it names no customer or its
    key is not a key."""
    if told.key and len(told.key) != KEY_BYTES:
        raise UnusableRecord(f"key: a customer key has {KEY_BYTES} bytes, not {len(told.key)}")
    return KeyChange(_customer(told.customer_id), told.key)


def contact_change_of(event: profile_pb.CustomerEvent) -> ContactChange | None:
    """The change a profile event makes to a contact; None for events that change none.
    UnusableRecord if it names no customer or states impossible quiet hours."""
    change = event.WhichOneof("change")
    if change == "erased":
        return ContactChange(_customer(event.erased.customer_id), erased=True)
    if change == "registered":
        registered = event.registered
        return ContactChange(
            _customer(registered.customer_id),
            email=_email(registered.identities),
            consent=_consent(registered.consent) if registered.HasField("consent") else None,
            sealed_email=_sealed_email(registered.sealed_identities),
        )
    if change == "updated":
        updated = event.updated
        email, sealed = _email(updated.added_identities), _sealed_email(updated.sealed_identities)
        if not (email or sealed):
            return None
        return ContactChange(_customer(updated.customer_id), email=email, sealed_email=sealed)
    if change == "consent_changed":
        changed = event.consent_changed
        return ContactChange(_customer(changed.customer_id), consent=_consent(changed.consent))
    return None


def folded(contact: Contact, change: ContactChange) -> Contact:
    """The contact after the change (an erasure is the store's to carry out)."""
    if change.email:
        contact = replace(contact, email=change.email, sealed_email=b"")
    if change.sealed_email:
        contact = replace(contact, sealed_email=change.sealed_email, email="")
    if change.consent is not None:
        contact = replace(contact, **vars(change.consent))
    return contact


def quiet_until(contact: Contact, now: datetime) -> datetime | None:
    """When the customer's quiet hours end if `now` falls in them, else None."""
    if not (contact.quiet_start and contact.quiet_end and contact.time_zone):
        return None
    local = now.astimezone(ZoneInfo(contact.time_zone))
    start, end = _clock(contact.quiet_start), _clock(contact.quiet_end)
    today = local.time()
    if start == end:
        return None
    overnight = start > end  # e.g. 21:00 to 08:00
    inside = (today >= start or today < end) if overnight else (start <= today < end)
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _customer(customer_id: str) -> str:
    if not customer_id:
        raise UnusableRecord("customer_id is required")
    return customer_id


def _email(identities: Iterable[ExternalIdentity]) -> str:
    """The last email address among the identities (contacts normalised it), or ""."""
    emails = [i.value for i in identities if i.kind == IDENTITY_KIND_EMAIL and i.value]
    return emails[-1] if emails else ""


def _sealed_email(sealed: Iterable[profile_pb.SealedIdentity]) -> bytes:
    """The last sealed email address among the identities, as stored, or b""."""
    emails = [s for s in sealed if s.kind == IDENTITY_KIND_EMAIL and s.ciphertext]
    return emails[-1].SerializeToString() if emails else b""


class AwaitingKey(Exception):
    """The address is sealed and its customer's key has not been heard yet."""


def address_of(contact: Contact, key: bytes | None) -> str:
    """The address to write to: the sealed one opened with the customer's key, or one told in
    clear before sealing; "" when none is known. AwaitingKey if the key is not heard yet (or
    was destroyed by an erasure not heard yet); CannotOpen if the seal does not open with it."""
    if not contact.sealed_email:
        return contact.email
    if key is None:
        raise AwaitingKey(contact.customer_id)
    try:
        sealed = profile_pb.SealedIdentity.FromString(contact.sealed_email)
    except DecodeError:
        raise CannotOpen("the sealed address is not a SealedIdentity") from None
    return unsealed(key, contact.customer_id, sealed)


def _consent(consent: profile_pb.Consent) -> ConsentGiven:
    channels = tuple(
        sorted(
            {
                CHANNEL_NAMES[c.channel]
                for c in consent.channels
                if c.granted and c.channel in CHANNEL_NAMES
            }
        )
    )
    quiet = consent.quiet_hours
    if consent.HasField("quiet_hours"):
        if not (CLOCK_TIME.match(quiet.start) and CLOCK_TIME.match(quiet.end)):
            raise UnusableRecord("consent.quiet_hours: start and end must be HH:MM")
        try:
            ZoneInfo(quiet.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise UnusableRecord(
                f"consent.quiet_hours.time_zone: unknown {quiet.time_zone!r}"
            ) from error
    return ConsentGiven(
        consent.preferred_language,
        channels,
        quiet.start,
        quiet.end,
        quiet.time_zone,
    )
