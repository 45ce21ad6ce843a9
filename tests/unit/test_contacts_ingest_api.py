"""gRPC ingest: per-event answers, durable acks through the outbox, rich errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from tests.builders import touchpoint
from tests.fakes.contacts import MemoryContactsStore
from touchstone.contacts.api import MAX_BATCH, ContactsApi
from touchstone.contacts.v1 import contacts_service_pb2 as pb
from touchstone.platform.messaging.topics import CONTACTS_RECORDED


class Aborted(Exception):
    """What FakeContext.abort_with_status raises, carrying the status."""

    def __init__(self, status: grpc.Status) -> None:
        self.status = status


class FakeContext:
    """The one ServicerContext call the servicers make."""

    async def abort_with_status(self, status: grpc.Status) -> None:
        raise Aborted(status)


def call(method: Any, request: Any) -> Any:
    return asyncio.run(method(request, FakeContext()))


def violations(error: Aborted) -> list[tuple[str, str]]:
    (trailer,) = [v for k, v in error.status.trailing_metadata if k == "grpc-status-details-bin"]
    bad_request = error_details_pb2.BadRequest()
    status_pb2.Status.FromString(trailer).details[0].Unpack(bad_request)
    return [(v.field, v.description) for v in bad_request.field_violations]


def test_an_accepted_touchpoint_is_recorded_and_its_event_queued_in_the_outbox() -> None:
    store = MemoryContactsStore()
    tp = touchpoint()
    result = call(ContactsApi(store).Ingest, pb.IngestRequest(touchpoint=tp))
    assert (result.event_id, result.status, result.customer_id) == (
        tp.event_id,
        pb.INGEST_STATUS_ACCEPTED,
        "cust-1",
    )
    assert list(store.touchpoints) == [tp.event_id]
    assert [o.topic for o in store.outbox] == [CONTACTS_RECORDED]


def test_the_same_touchpoint_again_is_a_duplicate_and_queues_nothing_more() -> None:
    store = MemoryContactsStore()
    api, tp = ContactsApi(store), touchpoint()
    call(api.Ingest, pb.IngestRequest(touchpoint=tp))
    again = call(api.Ingest, pb.IngestRequest(touchpoint=tp))
    assert again.status == pb.INGEST_STATUS_DUPLICATE
    assert len(store.outbox) == 1


def test_an_invalid_touchpoint_is_invalid_argument_with_field_violations() -> None:
    with pytest.raises(Aborted) as raised:
        call(
            ContactsApi(MemoryContactsStore()).Ingest,
            pb.IngestRequest(touchpoint=touchpoint(stage="", site_id="")),
        )
    assert raised.value.status.code == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(raised.value) == [
        ("touchpoint.stage", "is required"),
        ("touchpoint.site_id", "is required"),
    ]


def test_other_content_under_a_recorded_event_id_is_already_exists() -> None:
    store = MemoryContactsStore()
    api = ContactsApi(store)
    call(api.Ingest, pb.IngestRequest(touchpoint=touchpoint(staff_id="a")))
    with pytest.raises(Aborted) as raised:
        call(api.Ingest, pb.IngestRequest(touchpoint=touchpoint(staff_id="b")))
    assert raised.value.status.code == grpc.StatusCode.ALREADY_EXISTS
    assert len(store.conflicts) == 1


def test_a_batch_answers_each_touchpoint_in_order_with_counts() -> None:
    store = MemoryContactsStore()
    good, bad = touchpoint(), touchpoint(stage="pay", event_id="")
    request = pb.IngestBatchRequest(touchpoints=[good, bad, good])
    response = call(ContactsApi(store).IngestBatch, request)
    assert [r.status for r in response.results] == [
        pb.INGEST_STATUS_ACCEPTED,
        pb.INGEST_STATUS_REJECTED,
        pb.INGEST_STATUS_DUPLICATE,
    ]
    assert response.results[1].violations[0].field == "event_id"
    assert (response.accepted, response.rejected, response.duplicates) == (1, 1, 1)


def test_a_batch_over_the_limit_is_refused_whole() -> None:
    request = pb.IngestBatchRequest(touchpoints=[touchpoint()] * (MAX_BATCH + 1))
    with pytest.raises(Aborted) as raised:
        call(ContactsApi(MemoryContactsStore()).IngestBatch, request)
    assert violations(raised.value) == [("touchpoints", f"at most {MAX_BATCH} per batch")]


def test_a_stream_records_everything_it_carried() -> None:
    store = MemoryContactsStore()
    sent = [touchpoint(event_id=f"e{n}") for n in range(1203)]

    async def requests() -> AsyncIterator[pb.IngestRequest]:
        for tp in sent:
            yield pb.IngestRequest(touchpoint=tp)

    response = asyncio.run(ContactsApi(store).IngestStream(requests(), FakeContext()))
    assert response.accepted == 1203 and len(response.results) == 1203
    assert len(store.touchpoints) == len(store.outbox) == 1203
