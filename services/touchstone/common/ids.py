"""Deterministic identifiers: a replay of the same log derives the same ids."""

from __future__ import annotations

import uuid

TOUCHSTONE_NAMESPACE = uuid.UUID("6f1c2d3e-4b5a-5c6d-8e7f-90a1b2c3d4e5")


def derived_id(*parts: str) -> str:
    """UUIDv5 of the parts: the same inputs always give the same id."""
    return str(uuid.uuid5(TOUCHSTONE_NAMESPACE, "\x1f".join(parts)))
