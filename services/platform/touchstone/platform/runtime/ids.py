"""Deterministic identifiers: a replay of the same log derives the same ids."""

from __future__ import annotations

import hashlib
import uuid

from google.protobuf.message import Message

TOUCHSTONE_NAMESPACE = uuid.UUID("6f1c2d3e-4b5a-5c6d-8e7f-90a1b2c3d4e5")


_NAMESPACE_BYTES = TOUCHSTONE_NAMESPACE.bytes


def derived_id(*parts: str) -> str:
    """UUIDv5 of the parts: the same inputs always give the same id. Computed as RFC 4122 says
    (what uuid.uuid5 does, byte for byte) without building a UUID object: 1.3 µs an id, not
    3.6, and events, tasks and moments each derive several."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + "\x1f".join(parts).encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    x = digest.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def content_id(kind: str, subject: str, message: Message) -> str:
    """An event id that is a function of everything the event says: its kind, its subject and
    its message's bytes (deterministic serialization, its own id field still empty). The same
    news redelivered gets the same id; different news never shares one."""
    digest = hashlib.sha256(message.SerializeToString(deterministic=True)).hexdigest()
    return derived_id(kind, subject, digest)
