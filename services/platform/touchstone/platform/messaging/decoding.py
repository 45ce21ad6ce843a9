"""Decoding records of Touchstone's own topics: what cannot be decoded is dead-lettered."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from google.protobuf.message import DecodeError, Message
from google.protobuf.timestamp_pb2 import Timestamp

from touchstone.platform.messaging.topics import (
    Incoming,
    Outgoing,
    dead_letter_record,
    received_time,
)
from touchstone.platform.runtime.prototime import to_datetime

M = TypeVar("M", bound=Message)


class UnusableRecord(ValueError):
    """A record a service cannot use; it is dead-lettered with this reason."""


def parse_record(record: Incoming, message_type: type[M]) -> M:
    """The protobuf message in the record's value, or UnusableRecord saying why not."""
    message = message_type()
    try:
        message.ParseFromString(record.value or b"")
    except DecodeError as error:
        raise UnusableRecord(f"not a {message_type.__name__}: {error}") from error
    return message


def dead_letter_unusable(record: Incoming, dlq_topic: str, error: UnusableRecord) -> Outgoing:
    """The dead-letter record for an unusable input record."""
    return dead_letter_record(record, dlq_topic, str(error), "value", received_time(record))


LATEST_YEAR = 9000  # later times leave no room for the gaps and deadlines counted from them


def checked_time(ts: Timestamp, field: str) -> datetime:
    """A Timestamp as a datetime, or UnusableRecord: protobuf allows values datetime cannot hold,
    and times near the end of datetime's range leave no room to count visit gaps and deadlines."""
    try:
        at = to_datetime(ts)
    except (ValueError, OverflowError) as error:
        raise UnusableRecord(f"{field} is not a valid timestamp") from error
    if at.year > LATEST_YEAR:
        raise UnusableRecord(f"{field} is after the year {LATEST_YEAR}")
    return at
