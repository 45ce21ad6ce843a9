"""Confluent Schema Registry wire framing on touchpoints.v1, so a producer using Confluent's
serializers can publish touchpoints as they are (docs/publishing.md).

A framed value is a 0 byte, the schema's id (4 bytes, big-endian), then for protobuf the path
of the message in the schema's file (zig-zag varints: a count, then that many indexes; a lone 0
is the first message) and the message's bytes, or for JSON Schema the JSON text. Plain protobuf
never starts with a 0 byte (field number 0 does not exist), nor does JSON, so framed and plain
values tell themselves apart. Touchstone does not ask the registry: the schema id is carried,
not checked; the message path must be Touchpoint's in touchstone/contacts/v1/touchpoint.proto,
or the first message of the producer's own file (a file of Touchpoint alone)."""

from __future__ import annotations

from dataclasses import dataclass

from touchstone.contacts.v1.touchpoint_pb2 import Touchpoint

MAGIC = 0
HEADER_BYTES = 5  # the magic byte and the schema id
FIRST_MESSAGE = (0,)
TOUCHPOINT_PATH = (list(Touchpoint.DESCRIPTOR.file.message_types_by_name).index("Touchpoint"),)


class BadFraming(ValueError):
    """Framed bytes whose framing cannot be read or does not name a Touchpoint."""


@dataclass(frozen=True)
class Unframed:
    """What a framed value carries."""

    schema_id: int
    payload: bytes  # the protobuf message's bytes, or the JSON text
    is_json: bool


def is_framed(value: bytes) -> bool:
    """Whether the value starts as Schema Registry framing does."""
    return value[:1] == bytes([MAGIC])


def unframe(value: bytes) -> Unframed:
    """The schema id and payload of a framed value; BadFraming saying what is wrong."""
    if len(value) <= HEADER_BYTES:
        raise BadFraming(f"Schema Registry framing of {len(value)} bytes: nothing after the id")
    schema_id, rest = int.from_bytes(value[1:HEADER_BYTES], "big"), value[HEADER_BYTES:]
    if rest.lstrip()[:1] == b"{":
        return Unframed(schema_id, rest, is_json=True)
    path, start = message_path(rest)
    if path not in (FIRST_MESSAGE, TOUCHPOINT_PATH):
        raise BadFraming(
            f"Schema Registry framing names message {list(path)} of schema {schema_id}; "
            f"a Touchpoint is {list(TOUCHPOINT_PATH)} in touchstone/contacts/v1/touchpoint.proto "
            f"or {list(FIRST_MESSAGE)} in a file of its own"
        )
    return Unframed(schema_id, rest[start:], is_json=False)


def message_path(data: bytes) -> tuple[tuple[int, ...], int]:
    """The message indexes at the start of a framed protobuf payload, and where the message
    starts; a count of 0 is the first message, [0]."""
    count, at = _zigzag(data, 0)
    if count < 0 or count > len(data):
        raise BadFraming(f"Schema Registry framing: a message path of {count} indexes")
    if count == 0:
        return FIRST_MESSAGE, at
    indexes = []
    for _ in range(count):
        index, at = _zigzag(data, at)
        indexes.append(index)
    return tuple(indexes), at


def _zigzag(data: bytes, at: int) -> tuple[int, int]:
    """A zig-zag varint at `at`, and where the next byte is."""
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise BadFraming("Schema Registry framing: the message path ends early")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            return (value >> 1) ^ -(value & 1), at
