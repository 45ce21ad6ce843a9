"""Touchpoints framed by Confluent's Schema Registry serializers: protobuf with its message path,
JSON Schema, and framing that does not name a Touchpoint, told apart from plain bytes."""

from __future__ import annotations

import pytest
from google.protobuf import json_format

from tests.builders import touchpoint
from touchstone.contacts.codec import UndecodableTouchpoint, decode_touchpoint
from touchstone.contacts.registry_framing import TOUCHPOINT_PATH, message_path

SCHEMA_7 = bytes([0, 0, 0, 0, 7])  # magic byte, schema id 7


def test_touchpoint_sits_at_its_place_in_its_proto_file() -> None:
    assert TOUCHPOINT_PATH == (4,)  # after ExternalIdentity, CustomerRef, Money, Feedback


@pytest.mark.parametrize(
    ("path", "indexes"),
    [(b"\x00", (0,)), (b"\x02\x08", (4,)), (b"\x04\x02\x06", (1, 3))],
)
def test_a_message_path_is_a_zigzag_count_then_the_indexes(path: bytes, indexes: tuple) -> None:
    assert message_path(path + b"\x0a") == (indexes, len(path))


def test_framed_protobuf_and_json_decode_as_plain_ones_do() -> None:
    tp = touchpoint(measurements={"greeting_seconds": 12})
    raw = tp.SerializeToString()
    assert decode_touchpoint(SCHEMA_7 + b"\x02\x08" + raw, "application/protobuf") == tp
    assert decode_touchpoint(SCHEMA_7 + b"\x00" + raw, "application/protobuf") == tp
    as_json = json_format.MessageToJson(tp).encode()
    assert decode_touchpoint(SCHEMA_7 + as_json, "application/protobuf") == tp  # no header
    assert decode_touchpoint(raw, "application/protobuf") == tp


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (
            SCHEMA_7 + b"\x02\x02\x0a\x01x",
            r"names message \[1\] of schema 7; a Touchpoint is \[4\] in",
        ),
        (SCHEMA_7, "nothing after the id"),
        (SCHEMA_7 + b"\x02", "the message path ends early"),
        (SCHEMA_7 + b"\x01\x0a", "a message path of -1 indexes"),
    ],
)
def test_framing_that_names_no_touchpoint_is_refused_saying_why(value: bytes, says: str) -> None:
    with pytest.raises(UndecodableTouchpoint, match=says):
        decode_touchpoint(value, "application/protobuf")
