"""Keyed pseudonyms for identities: HMAC-SHA256 under a secret (TOUCHSTONE_IDENTITY_KEYS).

A provisional customer id and an erased identity's record are both derived from a phone number
or an address. Unkeyed (a bare SHA-256 or UUIDv5), anyone can try every phone number of a country
in seconds and find whose they are; keyed, nobody without the secret can. The key ring rotates:
the first key derives everything new, and every key still finds what it derived (an erased
identity is recognised under whichever key remembered it).

The digest is the HMAC of the identity's SHA-256, so records that held the bare SHA-256 before
can be rekeyed without the identity itself (PostgresErasure.rekey_erased).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass

from touchstone.platform.runtime.env_reader import SettingError

log = logging.getLogger(__name__)
VARIABLE = "TOUCHSTONE_IDENTITY_KEYS"
MIN_KEY_BYTES = 32
KEY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
# The embedded stack's key: public, so only ever for development (contacts refuses to start
# without TOUCHSTONE_IDENTITY_KEYS anywhere else).
DEVELOPMENT_SECRET = b"touchstone-development-only-identity"
DEVELOPMENT = "dev:" + base64.urlsafe_b64encode(DEVELOPMENT_SECRET).decode()


class BadIdentityKeys(SettingError):
    """TOUCHSTONE_IDENTITY_KEYS cannot be used, and why."""


def identity_sha256(kind: str, canonical_value: str) -> bytes:
    """The bare SHA-256 of an identity: the HMAC's input, never stored as it is."""
    return hashlib.sha256(f"{kind}:{canonical_value}".encode()).digest()


@dataclass(frozen=True)
class IdentityKeys:
    """The key ring: (key id, secret) pairs, the first of them current."""

    keys: tuple[tuple[str, bytes], ...]

    @property
    def current_id(self) -> str:
        """The id of the key that derives everything new."""
        return self.keys[0][0]

    def digest(self, kind: str, canonical_value: str) -> bytes:
        """The identity's pseudonym under the current key."""
        return self.rekeyed(identity_sha256(kind, canonical_value))

    def rekeyed(self, sha256: bytes) -> bytes:
        """The pseudonym under the current key of an identity known by its bare SHA-256."""
        return hmac.new(self.keys[0][1], sha256, hashlib.sha256).digest()

    def digests(self, kind: str, canonical_value: str) -> list[bytes]:
        """The identity's pseudonym under every key of the ring, current first."""
        sha256 = identity_sha256(kind, canonical_value)
        return [hmac.new(secret, sha256, hashlib.sha256).digest() for _, secret in self.keys]

    @classmethod
    def parse(cls, text: str) -> IdentityKeys:
        """`id:base64-secret[,id:secret…]` (base64url or standard), current first; each secret
        at least 32 bytes."""
        keys: list[tuple[str, bytes]] = []
        for n, item in enumerate((i.strip() for i in text.split(",")), 1):
            key_id, _, encoded = item.partition(":")
            if not KEY_ID.match(key_id):
                raise BadIdentityKeys(
                    f"{VARIABLE}: key {n} needs an id of lower-case letters, digits and '-' "
                    "before a ':' (id:base64url-secret, the current key first)"
                )
            if any(key_id == seen for seen, _ in keys):
                raise BadIdentityKeys(f"{VARIABLE}: key id {key_id!r} appears twice")
            try:
                standard = encoded.replace("-", "+").replace("_", "/").rstrip("=")
                secret = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
            except (binascii.Error, ValueError):
                raise BadIdentityKeys(f"{VARIABLE}: key {key_id!r} is not base64url") from None
            if len(secret) < MIN_KEY_BYTES:
                raise BadIdentityKeys(
                    f"{VARIABLE}: key {key_id!r} has {len(secret)} bytes; at least "
                    f"{MIN_KEY_BYTES} (e.g. `openssl rand -base64 32`)"
                )
            keys.append((key_id, secret))
        return cls(tuple(keys))


DEVELOPMENT_KEYS = IdentityKeys.parse(DEVELOPMENT)


def identity_keys_of(secret_text: str, embedded: bool) -> IdentityKeys:
    """The key ring the settings give; the public development key on the embedded stack only."""
    if secret_text:
        keys = IdentityKeys.parse(secret_text)
        if not embedded and any(secret == DEVELOPMENT_SECRET for _, secret in keys.keys):
            log.warning(
                "%s holds the public development key: anyone can derive customer ids from "
                "phone numbers here; set a secret of your own for real data",
                VARIABLE,
            )
        return keys
    if embedded:
        return DEVELOPMENT_KEYS
    raise BadIdentityKeys(
        f"{VARIABLE} is not set: contacts derives customer ids and remembers erased identities "
        "by a keyed hash, and needs a secret of its own (id:base64url, at least 32 bytes; "
        "docs/configuration.md)"
    )
