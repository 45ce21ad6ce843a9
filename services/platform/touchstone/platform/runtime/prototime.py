"""protobuf Timestamp ⇄ timezone-aware datetime (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp


def to_datetime(ts: Timestamp) -> datetime:
    """The instant a Timestamp names, in UTC."""
    return ts.ToDatetime(tzinfo=UTC)


def to_timestamp(moment: datetime) -> Timestamp:
    """A Timestamp for an aware datetime."""
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts
