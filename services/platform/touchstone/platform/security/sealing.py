"""Crypto-shredding: personal data on a topic kept forever is sealed with its customer's own key.

A record kept forever cannot be taken back: not from the broker, its backups or mirrors, nor from
whatever copied it. So what must be told there about a customer (the address notify writes to)
is told sealed with AES-256-GCM under a key of that customer's alone. Contacts holds the key and
tells it on contacts.keys.v1, a compacted topic; erasure destroys it, in contacts, in notify,
and (by compaction) on the topic. Every sealed copy then stays unreadable, in every replay.

The customer id and the identity's kind are the seal's associated data: a sealed value moved to
another customer's event, or told as another kind, does not open.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from touchstone.contacts.v1.profile_pb2 import SealedIdentity
from touchstone.contacts.v1.touchpoint_pb2 import IdentityKind

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM's standard nonce; random, so a key seals at most a few values (2^32 safe)


class CannotOpen(ValueError):
    """A sealed value that does not open under the key given, and why."""


def new_customer_key() -> bytes:
    """A fresh random key for one customer."""
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def _associated(customer_id: str, kind: IdentityKind) -> bytes:
    return f"{customer_id}\x00{int(kind)}".encode()


def seal(key: bytes, customer_id: str, kind: IdentityKind, value: str) -> SealedIdentity:
    """The value sealed for this customer and kind."""
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, value.encode(), _associated(customer_id, kind))
    return SealedIdentity(kind=kind, nonce=nonce, ciphertext=ciphertext)


def unsealed(key: bytes, customer_id: str, sealed: SealedIdentity) -> str:
    """The value a seal holds; CannotOpen if the key, customer or kind is not the one it was
    sealed with, or the bytes were changed."""
    if len(key) != KEY_BYTES:
        raise CannotOpen(f"a customer key has {KEY_BYTES} bytes, not {len(key)}")
    if len(sealed.nonce) != NONCE_BYTES:
        raise CannotOpen(f"a seal's nonce has {NONCE_BYTES} bytes, not {len(sealed.nonce)}")
    try:
        plain = AESGCM(key).decrypt(
            sealed.nonce, sealed.ciphertext, _associated(customer_id, sealed.kind)
        )
    except InvalidTag:
        raise CannotOpen("the seal does not open with this customer's key") from None
    return plain.decode()
