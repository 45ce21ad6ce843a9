"""The whole journey, given bad input: garbage, oversized records and touchpoints broken field
by field are dead-lettered with their reasons while the good ones around them are scored;
dead letters are listed, shown whole and redriven; bad requests get field violations."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from kafka import KafkaProducer

from tests.e2e.journey_support import eventually, moments_of, on_topic, publish, supermarket_visit
from touchstone.contacts.v1.contacts_service_pb2 import (
    DeadLetterFilter,
    GetCustomerRequest,
    GetDeadLetterRequest,
    IngestRequest,
    ListDeadLettersRequest,
    RedriveDeadLettersRequest,
)
from touchstone.contacts.v1.touchpoint_pb2 import CustomerRef, Touchpoint
from touchstone.journey.v1.journey_service_pb2 import ListMomentsRequest
from touchstone.notify.v1.notify_service_pb2 import GetCaseRequest
from touchstone.platform.messaging.topics import TOUCHPOINTS, TOUCHPOINTS_DLQ
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients

pytestmark = pytest.mark.e2e


def dead_letters(settings: Settings) -> list[tuple[bytes, dict[str, bytes]]]:
    """Everything on the dead-letter topic so far (read without a consumer group)."""
    return on_topic(settings, TOUCHPOINTS_DLQ)


def test_garbage_is_dead_lettered_with_its_reason_and_the_valid_one_scored(
    stack: LocalStack, clients: Clients, producer: KafkaProducer
) -> None:
    customer_id = f"cust-{uuid.uuid4()}"
    garbage = b"\xff\xfe not a touchpoint " + uuid.uuid4().bytes
    valid = supermarket_visit(CustomerRef(customer_id=customer_id), datetime.now(UTC))[1]
    producer.send(TOUCHPOINTS, key=customer_id.encode(), value=garbage)
    publish(producer, [valid], customer_id.encode())

    moments = eventually(lambda: moments_of(clients, customer_id, 1), "the valid touchpoint scored")
    assert moments[0].source_event_id == valid.event_id
    letter = eventually(
        lambda: next((h for v, h in dead_letters(stack.settings) if v == garbage), None),
        "the garbage on touchpoints.dlq.v1",
    )
    assert letter["dlq_field"] == b"value"
    assert b"not a application/protobuf Touchpoint" in letter["dlq_reason"]
    assert letter["dlq_topic"] == TOUCHPOINTS.encode()


def test_a_2_mib_record_is_dead_lettered_cut_to_fit_kept_whole_and_the_stream_goes_on(
    stack: LocalStack, clients: Clients, producer: KafkaProducer
) -> None:
    """A producer with a larger limit than Touchstone's writes a 2 MiB record: contacts refuses
    it by size, its dead letter on the topic is cut to fit the broker (what was cut in its
    headers), Postgres keeps it whole, and the touchpoint behind it is scored."""
    customer_id, source = f"cust-{uuid.uuid4()}", f"huge-{uuid.uuid4().hex[:8]}"
    huge = Touchpoint(event_id=str(uuid.uuid4()), observations=["x" * (2 << 20)])
    value = huge.SerializeToString()
    careless = KafkaProducer(
        bootstrap_servers=stack.settings.kafka_bootstrap, max_request_size=4 << 20
    )
    careless.send(
        TOUCHPOINTS, key=customer_id.encode(), value=value, headers=[("ce_source", source.encode())]
    )
    careless.flush()
    careless.close()
    valid = supermarket_visit(CustomerRef(customer_id=customer_id), datetime.now(UTC))[1]
    publish(producer, [valid], customer_id.encode())  # same key: behind it on its partition

    eventually(lambda: moments_of(clients, customer_id, 1), "the touchpoint behind it scored")
    letter, headers = eventually(
        lambda: next(
            (
                (v, h)
                for v, h in dead_letters(stack.settings)
                if h.get("dlq_source") == source.encode()
            ),
            None,
        ),
        "its dead letter on touchpoints.dlq.v1",
    )
    assert len(letter) < stack.settings.max_record_bytes and value.startswith(letter)
    assert headers["dlq_truncated"] == b"1" and headers["dlq_size"] == str(len(value)).encode()
    assert headers["dlq_sha256"] == hashlib.sha256(value).hexdigest().encode()
    assert b"a touchpoint may be at most 65,536" in headers["dlq_reason"]
    (listed,) = clients.contacts.ListDeadLetters(
        ListDeadLettersRequest(filter=DeadLetterFilter(source=source)), timeout=5
    ).dead_letters
    shown = clients.contacts.GetDeadLetter(GetDeadLetterRequest(id=listed.id), timeout=10)
    assert shown.value == value  # whole, in Postgres


def test_bad_requests_get_field_violations_and_unknown_ids_not_found(clients: Clients) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        clients.contacts.GetCustomer(GetCustomerRequest(customer_id=""), timeout=5)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(raised.value)
    assert status is not None
    bad_request = error_details_pb2.BadRequest()
    status.details[0].Unpack(bad_request)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("customer_id", "is required")
    ]
    with pytest.raises(grpc.RpcError) as missing:
        clients.notify.GetCase(GetCaseRequest(case_id="no-such-case"), timeout=5)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as mangled:
        clients.journey.ListMoments(ListMomentsRequest(page_token="%%%"), timeout=5)
    assert mangled.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    unknown_stage = supermarket_visit(CustomerRef(customer_id="c"), datetime.now(UTC))[0]
    unknown_stage.stage = "teleport"
    with pytest.raises(grpc.RpcError) as refused:
        clients.contacts.Ingest(IngestRequest(touchpoint=unknown_stage), timeout=5)
    status = rpc_status.from_call(refused.value)
    assert status is not None
    status.details[0].Unpack(bad_request)
    assert [v.field for v in bad_request.field_violations] == ["touchpoint.stage"]


def test_a_dead_letter_is_listed_shown_and_redriven_through_validation_again(
    clients: Clients, producer: KafkaProducer
) -> None:
    source = f"till-{uuid.uuid4().hex[:8]}"
    garbage = b"\xff\xfe still not a touchpoint"
    producer.send(TOUCHPOINTS, key=b"k", value=garbage, headers=[("ce_source", source.encode())])
    producer.flush()
    only_ours = DeadLetterFilter(source=source)

    listed = eventually(
        lambda: (
            clients.contacts.ListDeadLetters(
                ListDeadLettersRequest(filter=only_ours), timeout=5
            ).dead_letters
        ),
        "the garbage listed as a dead letter",
    )
    (first,) = listed
    shown = clients.contacts.GetDeadLetter(GetDeadLetterRequest(id=first.id), timeout=5)
    assert shown.value == garbage and shown.field == "value"

    reply = clients.contacts.RedriveDeadLetters(
        RedriveDeadLettersRequest(ids=[first.id]), timeout=5
    )
    assert list(reply.redriven) == [first.id]
    again = eventually(
        lambda: [
            d
            for d in clients.contacts.ListDeadLetters(
                ListDeadLettersRequest(filter=only_ours), timeout=5
            ).dead_letters
            if d.id != first.id
        ],
        "the redriven garbage refused again, as a new dead letter",
    )
    redriven = clients.contacts.GetDeadLetter(GetDeadLetterRequest(id=again[0].id), timeout=5)
    assert redriven.value == garbage
    assert ("redrive_of", first.id.encode()) in [(h.name, h.value) for h in redriven.headers]


def test_json_touchpoints_are_scored_and_every_kind_of_bad_one_is_dead_lettered_by_field(
    stack: LocalStack, clients: Clients, producer: KafkaProducer
) -> None:
    source = f"json-{uuid.uuid4().hex[:8]}"
    customer_id = f"cust-{uuid.uuid4()}"
    good = supermarket_visit(
        CustomerRef(customer_id=customer_id), datetime(2026, 11, 4, tzinfo=UTC)
    )
    json_headers = [("content-type", b"application/json"), ("ce_source", source.encode())]
    producer.send(
        TOUCHPOINTS,
        key=b"k",
        value=json_format.MessageToJson(good[1]).encode(),
        headers=json_headers,
    )

    def broken(**change: object) -> bytes:
        tp = Touchpoint()
        tp.CopyFrom(good[2])
        tp.event_id = str(uuid.uuid4())
        for name, value in change.items():
            setattr(tp, name, value)
        return tp.SerializeToString()

    future = Touchpoint()
    future.CopyFrom(good[3])
    future.event_id = str(uuid.uuid4())
    future.occurred_at.FromDatetime(datetime.now(UTC) + timedelta(hours=2))
    bad = {
        "event_id": broken(event_id=""),
        "stage": broken(stage="teleport"),
        "journey_map": broken(journey_map="spaceport"),
        "occurred_at": future.SerializeToString(),
        "value": b"\xff\xfe not protobuf",
    }
    for value in bad.values():
        producer.send(TOUCHPOINTS, key=b"k", value=value, headers=[("ce_source", source.encode())])
    producer.send(
        TOUCHPOINTS,
        key=b"k",
        value=b"a,b,c",
        headers=[("content-type", b"text/csv"), ("ce_source", source.encode())],
    )
    producer.flush()

    (moment,) = eventually(lambda: moments_of(clients, customer_id, 1), "the JSON touchpoint")
    assert moment.source_event_id == good[1].event_id
    letters = eventually(
        lambda: (
            (
                reply := clients.contacts.ListDeadLetters(
                    ListDeadLettersRequest(filter=DeadLetterFilter(source=source)), timeout=5
                )
            ).total
            == 6
            and reply
        ),
        "six dead letters from this producer",
    )
    fields = sorted(c.field for c in letters.counts for _ in range(c.count))
    assert fields == sorted([*bad, "value"])
