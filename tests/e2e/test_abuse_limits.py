"""Abuse limits on the real servers, set low: a caller past its rate gets RESOURCE_EXHAUSTED
(others do not), holds at most so many streams, and cannot send an oversized request."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc
import pytest

from tests.conftest import running_stack
from tests.e2e.test_authentication import code_and_details, signed
from touchstone.contacts.v1 import contacts_service_pb2 as contacts
from touchstone.notify.v1 import notify_service_pb2 as notify
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(infra: Settings) -> Iterator[LocalStack]:
    with running_stack(
        infra,
        ("contacts", "notify"),
        rate_calls_per_s=2.0,
        max_streams=1,
        max_request_bytes=4096,
    ) as local:
        yield local


def test_a_caller_past_its_rate_is_told_to_wait_and_others_are_not(stack: LocalStack) -> None:
    busy = signed(stack.settings, roles=["manager"], subject="busy-manager")
    calm = signed(stack.settings, roles=["manager"], subject="calm-manager")
    with Clients(stack.settings, token=busy) as clients:
        outcomes = [
            code_and_details(lambda: clients.notify.ListCases(notify.ListCasesRequest(), timeout=5))
            for _ in range(8)
        ]
    refused = [d for code, d in outcomes if code == "RESOURCE_EXHAUSTED"]
    assert refused and refused[0].startswith("rate limit: 2 calls a second per caller; retry in")
    with Clients(stack.settings, token=calm) as clients:
        assert clients.notify.ListCases(notify.ListCasesRequest(), timeout=5) is not None


def test_a_caller_holds_at_most_its_streams(stack: LocalStack) -> None:
    watcher = signed(stack.settings, roles=["manager"], subject="watcher")
    with Clients(stack.settings, token=watcher) as clients:
        first = clients.notify.WatchCases(notify.WatchCasesRequest(), timeout=30)
        time.sleep(1.0)  # the first stream is open on the server before the second is asked
        try:
            second = clients.notify.WatchCases(notify.WatchCasesRequest(), timeout=5)
            code, details = code_and_details(lambda: next(iter(second)))
            assert (code, details) == (
                "RESOURCE_EXHAUSTED",
                "stream limit: at most 1 open streams per caller",
            )
        finally:
            first.cancel()


def test_an_oversized_request_is_refused(stack: LocalStack) -> None:
    producer = signed(stack.settings, roles=["producer"], subject="big-producer")
    request = contacts.IngestRequest()
    request.touchpoint.event_id = "big"
    request.touchpoint.feedback.comment = "x" * 8000
    with Clients(stack.settings, token=producer) as clients:
        try:
            clients.contacts.Ingest(request, timeout=10)
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        else:
            pytest.fail("an 8 kB request passed a 4 kB limit")


def test_a_client_stream_counts_toward_the_callers_streams(stack: LocalStack) -> None:
    producer = signed(stack.settings, roles=["producer"], subject="streaming-till")
    release = threading.Event()

    def held_open() -> Iterator[contacts.IngestRequest]:
        release.wait(30)  # sends nothing until released: the stream stays open
        yield from ()

    with Clients(stack.settings, token=producer) as clients:
        first = clients.contacts.IngestStream.future(held_open(), timeout=30)
        try:
            time.sleep(1.0)  # the first stream is open on the server before the second is asked
            code, details = code_and_details(
                lambda: clients.contacts.IngestStream(iter(()), timeout=5)
            )
            assert (code, details) == (
                "RESOURCE_EXHAUSTED",
                "stream limit: at most 1 open streams per caller",
            )
        finally:
            release.set()
        assert list(first.result(timeout=10).results) == []  # it ended well, counting nothing
        assert not clients.contacts.IngestStream(iter(()), timeout=5).results  # free again
