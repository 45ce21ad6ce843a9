"""Shared plumbing: settings, deterministic ids, record headers, gRPC errors and paging."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.rpc import code_pb2, error_details_pb2, status_pb2

from tests.builders import T0, record
from touchstone.platform.messaging.topics import dead_letter_record
from touchstone.platform.runtime.ids import derived_id
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.serving.rpc import (
    InvalidArgument,
    NotFound,
    PageRequest,
    decode_page_token,
    encode_page_token,
    page_size,
    rich_status,
)


def test_settings_default_to_the_embedded_stack() -> None:
    settings = Settings.from_env({})
    assert settings.embedded and settings.kafka_bootstrap == "127.0.0.1:19092"
    assert settings.grpc_address("journey") == "127.0.0.1:50052"


def test_pointing_at_an_existing_broker_turns_the_embedded_stack_off() -> None:
    settings = Settings.from_env(
        {
            "TOUCHSTONE_KAFKA_BOOTSTRAP": "k1:9092,k2:9092",
            "TOUCHSTONE_KAFKA_PLAINTEXT": "1",
            "TOUCHSTONE_NOTIFY_GRPC_PORT": "6004",
        }
    )
    assert not settings.embedded
    assert settings.grpc_address("notify") == "127.0.0.1:6004"


def test_settings_survive_the_trip_to_a_child_process() -> None:
    settings = Settings.from_env(
        {
            "TOUCHSTONE_DATABASE_URL": "postgresql://db/x",
            "TOUCHSTONE_DATABASE_PLAINTEXT": "1",
            "TOUCHSTONE_BATCH_SIZE": "64",
            "TOUCHSTONE_CONSUMER": "faust",
        }
    )
    assert Settings.from_env(settings.as_env()) == settings


def test_an_unknown_consumer_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="TOUCHSTONE_CONSUMER"):
        Settings.from_env({"TOUCHSTONE_CONSUMER": "kafka-streams"})


def test_derived_ids_are_deterministic_and_part_sensitive() -> None:
    assert derived_id("moment", "e1") == derived_id("moment", "e1")
    assert derived_id("moment", "e1") != derived_id("case", "e1")
    assert derived_id("a", "bc") != derived_id("ab", "c")


def test_a_dead_letter_keeps_the_original_record_and_says_why() -> None:
    original = record(b"\x00raw", 41, headers={"ce_id": b"x", "ce_source": b"till-2"})
    letter = dead_letter_record(original, "touchpoints.dlq.v1", "value: bad", "value", T0)
    headers = dict(letter.headers)
    assert (letter.key, letter.value) == (b"cust-1", b"\x00raw")
    assert headers["ce_id"] == b"x" and headers["dlq_source"] == b"till-2"
    assert (headers["dlq_reason"], headers["dlq_offset"]) == (b"value: bad", b"41")
    assert headers["dlq_time"] == T0.isoformat().encode()


def test_content_type_defaults_to_protobuf_and_ignores_parameters() -> None:
    assert record(b"").content_type == "application/protobuf"
    typed = record(b"", headers={"content-type": b"application/json; charset=utf-8"})
    assert typed.content_type == "application/json"


def test_invalid_argument_carries_field_violations_in_the_rich_status() -> None:
    status = rich_status(InvalidArgument(("customer_id", "is required")))
    assert status.code.value[0] == code_pb2.INVALID_ARGUMENT
    (trailer,) = [v for k, v in status.trailing_metadata if k == "grpc-status-details-bin"]
    decoded = status_pb2.Status.FromString(trailer)
    bad_request = error_details_pb2.BadRequest()
    decoded.details[0].Unpack(bad_request)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("customer_id", "is required")
    ]


def test_not_found_is_not_found() -> None:
    assert rich_status(NotFound("case x not found")).code.value[0] == code_pb2.NOT_FOUND


@pytest.mark.parametrize(("asked", "given"), [(0, 50), (10, 10), (10_000, 500)])
def test_page_sizes_default_and_cap(asked: int, given: int) -> None:
    assert page_size(asked) == given


def test_a_negative_page_size_is_invalid() -> None:
    with pytest.raises(InvalidArgument, match="page_size"):
        page_size(-1)


def test_page_tokens_round_trip_and_mangled_ones_are_invalid() -> None:
    token = encode_page_token("2026-11-20T09:00:00+00:00", "m-7")
    assert decode_page_token(token, 2) == ("2026-11-20T09:00:00+00:00", "m-7")
    assert PageRequest.of(0, token).after == (T0, "m-7")
    for mangled in ("%%%", encode_page_token("only-one"), encode_page_token("not a time", "x")):
        with pytest.raises(InvalidArgument, match="page_token"):
            PageRequest.of(0, mangled)


def test_the_next_token_appears_only_after_a_full_page() -> None:
    page = PageRequest.of(2, "")
    rows = [(datetime(2026, 1, d, tzinfo=UTC), f"r{d}") for d in (1, 2)]
    assert page.next_token(rows[:1], lambda r: r) == ""
    assert PageRequest.of(2, page.next_token(rows, lambda r: r)).after == rows[1]
