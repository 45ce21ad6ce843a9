"""Deterministic identifiers: a replay of the same log derives the same ids."""

from __future__ import annotations

import hashlib
import uuid

from google.protobuf.message import Message

TOUCHSTONE_NAMESPACE = uuid.UUID("6f1c2d3e-4b5a-5c6d-8e7f-90a1b2c3d4e5")


def derived_id(*parts: str) -> str:
    """UUIDv5 of the parts: the same inputs always give the same id."""
    return str(uuid.uuid5(TOUCHSTONE_NAMESPACE, "\x1f".join(parts)))


def content_id(kind: str, subject: str, message: Message) -> str:
    """An event id that is a function of everything the event says: its kind, its subject and
    its message's bytes (deterministic serialization, its own id field still empty). The same
    news redelivered gets the same id; different news never shares one."""
    digest = hashlib.sha256(message.SerializeToString(deterministic=True)).hexdigest()
    return derived_id(kind, subject, digest)
