"""The HTTP gateway's share of the Connect protocol: content types, envelopes, deadlines, how a
gRPC status becomes an HTTP error, and what the gateway refuses before calling the server.
A real grpc.aio server on a Unix socket stands behind it, answering as told."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import grpc
import pytest

from touchstone.journey.v1 import journey_service_pb2 as journey
from touchstone.platform.security.call_audit import FORWARDED_PEER, caller_peer, forwarded_peer
from touchstone.platform.serving.connect_protocol import (
    ConnectError,
    ProtocolError,
    end_of_stream,
    envelope,
    error_of,
    stream_codec,
    timeout_s,
    unary_codec,
    unwrap,
    unwrap_single,
)
from touchstone.platform.serving.http_gateway import (
    HttpGateway,
    private_socket,
    remove_private_socket,
    routes,
)
from touchstone.platform.serving.rpc import InvalidArgument, Overloaded, rich_status
from touchstone.tools.dev.embedded import free_port

JOURNEY = "touchstone.journey.v1.JourneyService"
LIST_STANDARDS = f"/{JOURNEY}/ListStandards"


def test_unary_calls_take_json_or_proto_and_nothing_else() -> None:
    assert unary_codec("application/json; charset=utf-8") == "json"
    assert unary_codec("application/proto") == "proto"
    with pytest.raises(ProtocolError) as refused:
        unary_codec("text/plain")
    assert refused.value.http_status == 415
    assert "send application/json" in refused.value.message


def test_a_streaming_method_asks_for_envelopes() -> None:
    assert stream_codec("application/connect+json") == "json"
    with pytest.raises(ProtocolError) as refused:
        stream_codec("application/json")
    assert "application/connect+json" in refused.value.message


def test_a_deadline_is_read_from_connect_timeout_ms() -> None:
    assert timeout_s(None) is None
    assert timeout_s("1500") == 1.5
    for wrong in ("-5", "\u00b2"):  # a superscript two is a digit to str.isdigit
        with pytest.raises(ProtocolError, match="positive whole number"):
            timeout_s(wrong)


def test_envelopes_round_trip_and_a_cut_one_is_refused() -> None:
    body = envelope(b'{"a":1}') + envelope(b"{}", 0x02)
    assert list(unwrap(body)) == [(0, b'{"a":1}'), (2, b"{}")]
    assert unwrap_single(envelope(b"x")) == b"x"
    with pytest.raises(ProtocolError, match="cut short"):
        list(unwrap(body[:-1]))
    with pytest.raises(ProtocolError, match="exactly one"):
        unwrap_single(body)


def test_a_rich_status_becomes_the_protocols_error_with_readable_details() -> None:
    status = rich_status(InvalidArgument(("page_size", "must not be negative")))
    error = error_of(status.code, status.details, status.trailing_metadata)

    assert error.http_status == 400
    body = error.as_json()
    assert body["code"] == "invalid_argument"
    assert body["message"] == "page_size: must not be negative"
    (detail,) = body["details"]  # type: ignore[misc]
    assert detail["type"] == "google.rpc.BadRequest"
    assert detail["debug"] == {
        "fieldViolations": [{"field": "page_size", "description": "must not be negative"}]
    }


def test_a_server_that_asks_for_patience_says_how_long() -> None:
    status = rich_status(Overloaded("journey is 90 s behind"))
    error = error_of(status.code, status.details, status.trailing_metadata)
    assert (error.http_status, error.retry_after_s()) == (429, 5)


def test_a_stream_ends_with_its_error_or_nothing() -> None:
    assert end_of_stream(None) == struct.pack(">BI", 2, 2) + b"{}"
    ended = end_of_stream(ConnectError(grpc.StatusCode.DEADLINE_EXCEEDED, "too slow"))
    assert json.loads(ended[5:]) == {"error": {"code": "deadline_exceeded", "message": "too slow"}}


def test_routes_know_every_method_and_how_it_streams() -> None:
    found = routes([JOURNEY])
    assert found[LIST_STANDARDS].request_type is journey.ListStandardsRequest
    watch = found[f"/{JOURNEY}/WatchMoments"]
    assert (watch.client_streams, watch.server_streams) == (False, True)


class _Context:
    def __init__(self, peer: str, metadata: list[tuple[str, str]]) -> None:
        self._peer, self._metadata = peer, metadata

    def peer(self) -> str:
        return self._peer

    def invocation_metadata(self) -> list[tuple[str, str]]:
        return self._metadata


def test_the_forwarded_address_is_believed_only_from_this_processs_gateway() -> None:
    forwarded = [(FORWARDED_PEER, forwarded_peer("ipv4:10.1.2.3:5555"))]
    assert caller_peer(_Context("unix:/tmp/x/grpc.sock", forwarded)) == "ipv4:10.1.2.3:5555"
    assert caller_peer(_Context("ipv4:10.9.9.9:4444", forwarded)) == "ipv4:10.9.9.9:4444"
    forged = [(FORWARDED_PEER, "guess ipv4:6.6.6.6:1")]  # another process on the socket
    assert caller_peer(_Context("unix:/tmp/x/grpc.sock", forged)) == "unix:/tmp/x/grpc.sock"


Answer = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]


def through_gateway(
    answer: Answer,
    call: Callable[[aiohttp.ClientSession, str], Awaitable[Any]],
    max_request_bytes: int = 1 << 20,
) -> Any:
    """Serve ListStandards with answer on a real gRPC server behind a gateway; call it."""

    async def run() -> Any:
        local = private_socket()
        server = grpc.aio.server()
        handler = grpc.unary_unary_rpc_method_handler(
            answer,
            request_deserializer=journey.ListStandardsRequest.FromString,
            response_serializer=journey.ListStandardsResponse.SerializeToString,
        )
        server.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler(JOURNEY, {"ListStandards": handler})]
        )
        server.add_insecure_port(local)
        await server.start()
        gateway = HttpGateway(routes([JOURNEY]), local, max_request_bytes)
        port = free_port()
        await gateway.start("127.0.0.1", port)
        try:
            async with aiohttp.ClientSession() as session:
                return await call(session, f"http://127.0.0.1:{port}")
        finally:
            await gateway.stop()
            await server.stop(None)
            remove_private_socket(local)

    return asyncio.run(run())


async def _standards(request: Any, context: grpc.aio.ServicerContext) -> Any:
    return journey.ListStandardsResponse(version=caller_peer(context))


async def _overloaded(request: Any, context: grpc.aio.ServicerContext) -> Any:
    await context.abort_with_status(rich_status(Overloaded("journey is 90 s behind")))


def posted(body: bytes, content_type: str = "application/json") -> Any:
    async def call(session: aiohttp.ClientSession, base: str) -> Any:
        headers = {"Content-Type": content_type}
        async with session.post(base + LIST_STANDARDS, data=body, headers=headers) as reply:
            return reply.status, dict(reply.headers), await reply.json(content_type=None)

    return call


def test_a_call_reaches_the_server_with_the_http_callers_address() -> None:
    status, _, body = through_gateway(_standards, posted(b"{}"))
    assert status == 200
    assert body["version"].startswith("ipv4:127.0.0.1:")


def test_too_many_requests_carry_retry_after() -> None:
    status, headers, body = through_gateway(_overloaded, posted(b"{}"))
    assert (status, headers["Retry-After"], body["code"]) == (429, "5", "resource_exhausted")


def test_a_body_over_the_limit_is_413_naming_the_setting() -> None:
    status, _, body = through_gateway(_standards, posted(b"{}" + b" " * 2048), 1024)
    assert (status, body["code"]) == (413, "resource_exhausted")
    assert "TOUCHSTONE_MAX_REQUEST_BYTES" in body["message"]


def test_a_body_that_is_not_json_is_400_before_the_server_sees_it() -> None:
    status, _, body = through_gateway(_standards, posted(b"{not json"))
    assert (status, body["code"]) == (400, "invalid_argument")
    assert "touchstone.journey.v1.ListStandardsRequest in json" in body["message"]


def test_other_content_types_are_415() -> None:
    status, _, body = through_gateway(_standards, posted(b"x", "text/plain"))
    assert (status, body["code"]) == (415, "unimplemented")
