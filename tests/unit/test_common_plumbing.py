"""Shared plumbing at its edges: settings, ids, records and headers, rich errors, paging."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2
from grpc_status import rpc_status
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import T0, record
from touchstone.platform.messaging.topics import (
    cloudevent_headers,
    content_type_of,
    dead_letter_record,
    header_map,
    headers_from_json,
    headers_to_json,
    received_time,
)
from touchstone.platform.runtime.ids import TOUCHSTONE_NAMESPACE, derived_id
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.serving.rpc import (
    AlreadyExists,
    InvalidArgument,
    NotFound,
    PageRequest,
    decode_page_token,
    encode_page_token,
    page_size,
    require,
    rich_status,
    rpc_method,
)


def test_every_setting_can_be_set_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "TOUCHSTONE_STATE_DIR": "/var/lib/ts",
            "TOUCHSTONE_GRPC_HOST": "0.0.0.0",
            "TOUCHSTONE_TOPIC_PARTITIONS": "12",
            "TOUCHSTONE_BATCH_WITHIN_S": "0.5",
            "TOUCHSTONE_REBALANCE_TIMEOUT_S": "9",
            "TOUCHSTONE_LOG_LEVEL": "debug",
            "TOUCHSTONE_MAPS_DIR": "/etc/ts/maps",
            "TOUCHSTONE_JOURNEY_GRPC_PORT": "7002",
        }
    )
    assert (settings.state_dir, settings.grpc_host, settings.topic_partitions) == (
        Path("/var/lib/ts"),
        "0.0.0.0",
        12,
    )
    assert (settings.batch_within_s, settings.rebalance_timeout_s) == (0.5, 9.0)
    assert (settings.log_level, settings.maps_dir) == ("debug", Path("/etc/ts/maps"))
    assert settings.grpc_address("journey") == "0.0.0.0:7002"
    assert settings.grpc_address("contacts") == "0.0.0.0:50051"


def test_an_external_database_alone_also_turns_the_embedded_stack_off() -> None:
    url = "postgresql://db/t?sslmode=verify-full"
    assert not Settings.from_env({"TOUCHSTONE_DATABASE_URL": url}).embedded


@pytest.mark.parametrize(("flag", "embedded"), [("1", True), ("yes", True), ("off", False)])
def test_an_explicit_embedded_flag_wins_over_the_inference(flag: str, embedded: bool) -> None:
    env = {
        "TOUCHSTONE_KAFKA_BOOTSTRAP": "k:9092",
        "TOUCHSTONE_KAFKA_PLAINTEXT": "1",
        "TOUCHSTONE_EMBEDDED": flag,
    }
    assert Settings.from_env(env).embedded is embedded


def test_external_settings_with_every_field_changed_survive_as_env() -> None:
    settings = Settings(
        kafka_bootstrap="k1:9092",
        kafka_security_protocol="SASL_SSL",
        kafka_tls_ca=Path("/etc/ts/kafka-ca.pem"),
        kafka_tls_cert=Path("/etc/ts/kafka.pem"),
        kafka_tls_key=Path("/etc/ts/kafka.key"),
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="touchstone",
        kafka_sasl_password="s3cret",
        database_url="postgresql://db/x",
        database_tls_ca=Path("/etc/ts/pg-ca.pem"),
        database_tls_cert=Path("/etc/ts/pg.pem"),
        database_tls_key=Path("/etc/ts/pg.key"),
        state_dir=Path("/tmp/s"),
        grpc_ports={"contacts": 1, "journey": 2, "loyalty": 3, "notify": 4},
        topic_partitions=8,
        batch_size=10,
        batch_within_s=0.1,
        rebalance_timeout_s=1.5,
        embedded=False,
        log_level="info",
        maps_dir=Path("/maps"),
        consumer="faust",
        churn_model_file=Path("/etc/ts/churn.yaml"),
        tiers_file=Path("/etc/ts/tiers.yaml"),
        playbooks_file=Path("/etc/ts/playbooks.yaml"),
    )
    env = settings.as_env()
    assert env["TOUCHSTONE_EMBEDDED"] == "0" and env["TOUCHSTONE_LOYALTY_GRPC_PORT"] == "3"
    assert Settings.from_env(env) == settings


def test_derived_ids_are_uuid5_in_touchstones_namespace_and_never_change() -> None:
    value = derived_id("moment", "e1")
    assert uuid.UUID(value).version == 5
    assert value == str(uuid.uuid5(TOUCHSTONE_NAMESPACE, "moment\x1fe1"))
    assert value == "cc9bf64e-0ae2-52a5-ae2f-518d59471917"  # replays depend on it staying put


@settings(max_examples=300)
@given(st.lists(st.text(), min_size=1, max_size=5))
def test_derived_ids_are_what_uuid5_gives_for_any_parts(parts: list[str]) -> None:
    assert derived_id(*parts) == str(uuid.uuid5(TOUCHSTONE_NAMESPACE, "\x1f".join(parts)))


def test_the_content_type_may_come_from_the_cloudevents_header() -> None:
    assert content_type_of({"ce_datacontenttype": b"application/json"}) == "application/json"
    assert content_type_of({"content-type": b" application/json ;charset=utf-8"}) == (
        "application/json"
    )


def test_a_media_type_is_read_case_insensitively() -> None:
    assert content_type_of({"content-type": b"Application/JSON"}) == "application/json"


def test_a_dead_letter_of_a_record_without_key_or_value_carries_empty_bytes() -> None:
    original = record(None, 3, key=b"")
    letter = dead_letter_record(original, "x.dlq", "value: empty value", "value", T0)
    assert (letter.topic, letter.key, letter.value) == ("x.dlq", b"", b"")
    headers = dict(letter.headers)
    assert (headers["dlq_source"], headers["dlq_topic"], headers["dlq_partition"]) == (
        b"",
        b"touchpoints.v1",
        b"0",
    )


def test_a_dead_letter_lists_the_original_headers_first_then_the_dlq_ones() -> None:
    original = record(b"v", headers={"b": b"2", "a": b"1"})
    letter = dead_letter_record(original, "x.dlq", "r", "f", T0)
    assert [name for name, _ in letter.headers] == [
        "b",
        "a",
        "dlq_reason",
        "dlq_field",
        "dlq_source",
        "dlq_topic",
        "dlq_partition",
        "dlq_offset",
        "dlq_time",
    ]


def test_the_received_time_is_the_records_broker_timestamp_in_utc() -> None:
    assert received_time(record(b"", received=T0)) == T0
    assert received_time(record(b"", received=T0)).tzinfo is UTC


def test_stored_headers_come_back_in_order_with_repeats_and_binary_values() -> None:
    headers = (("a", b"\x00\xff"), ("b", b""), ("a", b"again"))
    assert headers_from_json(json.loads(headers_to_json(headers))) == headers


def test_header_maps_accept_pairs_and_missing_values() -> None:
    assert header_map([("a", b"1"), ("n", None), ("a", b"2")]) == {"a": b"2", "n": b""}
    assert header_map(None) == {}


def test_an_event_with_no_time_has_no_ce_time_header() -> None:
    headers = dict(cloudevent_headers(event_id="e", source="s", type_="t", time=None))
    assert "ce_time" not in headers and headers["ce_id"] == b"e"


def test_a_rich_status_lists_every_field_violation_and_the_message() -> None:
    status = rich_status(InvalidArgument(("a", "is required"), ("b", "is too long")))
    call = grpc_status_of(status)
    assert call.message == "a: is required; b: is too long"
    bad_request = error_details_pb2.BadRequest()
    assert call.details[0].Unpack(bad_request)
    assert [v.field for v in bad_request.field_violations] == ["a", "b"]


def grpc_status_of(status: grpc.Status):
    """The google.rpc.Status a client would read back from the call's trailers."""

    class Call:
        def code(self):
            return status.code

        def details(self):
            return status.details

        def trailing_metadata(self):
            return status.trailing_metadata

    decoded = rpc_status.from_call(Call())
    assert decoded is not None
    return decoded


def test_errors_without_field_violations_carry_no_details() -> None:
    for error, code in ((NotFound("gone"), code_pb2.NOT_FOUND), (AlreadyExists("x"), 6)):
        decoded = grpc_status_of(rich_status(error))
        assert (decoded.code, list(decoded.details)) == (code, [])


def test_a_required_field_left_empty_is_named() -> None:
    assert require("customer_id", "c") == "c"
    with pytest.raises(InvalidArgument) as raised:
        require("customer_id", "")
    assert raised.value.violations == (("customer_id", "is required"),)


class FakeContext:
    """The one grpc.aio.ServicerContext call rpc_method makes."""

    def __init__(self) -> None:
        self.status: grpc.Status | None = None

    async def abort_with_status(self, status: grpc.Status) -> None:
        self.status = status
        raise RuntimeError("aborted")


def test_an_api_error_in_a_servicer_method_aborts_with_its_rich_status() -> None:
    class Servicer:
        @rpc_method
        async def Get(self, request, context):
            raise NotFound(f"case {request} not found")

    context = FakeContext()
    with pytest.raises(RuntimeError, match="aborted"):
        asyncio.run(Servicer().Get("c-1", context))
    assert context.status is not None
    assert grpc_status_of(context.status).message == "case c-1 not found"


@pytest.mark.parametrize(("asked", "given"), [(1, 1), (500, 500), (501, 500)])
def test_page_sizes_cap_at_500(asked: int, given: int) -> None:
    assert page_size(asked) == given


def test_a_token_with_the_wrong_number_of_parts_or_not_base64_is_refused() -> None:
    assert decode_page_token("", 2) is None
    for mangled in (encode_page_token("a", "b", "c"), "not base64!", "YQ"):
        with pytest.raises(InvalidArgument, match="page_token"):
            decode_page_token(mangled, 2)


def test_no_next_token_after_an_empty_page() -> None:
    assert PageRequest.of(1, "").next_token([], lambda r: r) == ""


def test_a_token_whose_time_has_no_offset_is_not_one_this_service_issued() -> None:
    with pytest.raises(InvalidArgument, match="page_token"):
        PageRequest.of(0, encode_page_token("2026-11-20T09:00:00", "m-1"))


def test_a_page_token_keeps_the_exact_instant_and_id() -> None:
    at = datetime(2026, 11, 20, 9, 0, 0, 123456, tzinfo=UTC)
    token = PageRequest.of(1, "").next_token([(at, "id/with\x1e odd")], lambda r: r)
    assert PageRequest.of(1, token).after == (at, "id/with\x1e odd")


def test_a_measured_handler_counts_what_it_consumes_publishes_and_dead_letters() -> None:
    from touchstone.platform.messaging.topics import Incoming, Outgoing
    from touchstone.platform.runtime.metrics import (
        CONSUMED,
        DEAD_LETTERED,
        PRODUCED,
        MeasuredHandler,
    )

    class Echo:
        async def handle(self, batch):
            return [Outgoing("out.v1", b"k", b"v"), Outgoing("svc.dlq.v1", b"k", b"bad")]

    def value(counter, *labels) -> float:
        return counter.labels(*labels)._value.get()

    before = (
        value(CONSUMED, "svc", "in.v1"),
        value(PRODUCED, "svc", "out.v1"),
        value(DEAD_LETTERED, "svc", "svc.dlq.v1"),
    )
    handler = MeasuredHandler("svc", Echo(), "svc.dlq.v1")
    batch = [Incoming("in.v1", 0, n, b"k", b"v", {}, 0) for n in range(3)]
    out = asyncio.run(handler.handle(batch))
    assert len(out) == 2
    after = (
        value(CONSUMED, "svc", "in.v1"),
        value(PRODUCED, "svc", "out.v1"),
        value(DEAD_LETTERED, "svc", "svc.dlq.v1"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [3, 1, 1]


def test_log_lines_are_json_with_the_service_and_the_ids_passed_along() -> None:
    import json
    import logging

    from touchstone.platform.runtime.json_logs import JsonFormatter

    record = logging.LogRecord(
        "notify.sender", logging.WARNING, __file__, 1, "delivery %s: %s", ("d-1", "SMTP 421"), None
    )
    record.delivery_id = "d-1"
    line = json.loads(JsonFormatter("notify").format(record))
    assert (line["level"], line["logger"], line["service"]) == (
        "warning",
        "notify.sender",
        "notify",
    )
    assert (line["message"], line["delivery_id"]) == ("delivery d-1: SMTP 421", "d-1")
    assert line["time"].endswith("+00:00")


def test_the_topics_services_rebuild_from_are_kept_forever() -> None:
    from touchstone.platform.messaging.topics import (
        ALL_TOPICS,
        JOURNEY_STANDARDS,
        NOTIFY_TASKS,
        TOUCHPOINTS,
        TOUCHPOINTS_DLQ,
        topic_config,
    )

    def retention(topic: str) -> str:
        return topic_config(topic, 1_048_576)["retention.ms"]

    assert retention(JOURNEY_STANDARDS) == "-1"
    assert retention(TOUCHPOINTS) == str(30 * 24 * 3600 * 1000)  # producers' raw records
    assert retention(TOUCHPOINTS_DLQ) == str(30 * 24 * 3600 * 1000)
    assert retention(NOTIFY_TASKS) == str(7 * 24 * 3600 * 1000)
    forever = [t for t in ALL_TOPICS if retention(t) == "-1"]
    assert len(forever) == len(ALL_TOPICS) - 6  # the intake, 4 dead-letter topics, the tasks


def test_every_topic_takes_the_records_its_producers_may_send() -> None:
    from touchstone.platform.messaging.topics import ALL_TOPICS, topic_config

    limits = {topic_config(t, 2_000_000)["max.message.bytes"] for t in ALL_TOPICS}
    assert limits == {"2000000"}
