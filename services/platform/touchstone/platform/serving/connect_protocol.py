"""The Connect protocol's rules (https://connectrpc.com/docs/protocol), as the HTTP gateway
speaks them: content types, envelopes, timeouts, and how a gRPC status becomes an HTTP error.

Pure: bytes and statuses in, bytes and numbers out; http_gateway.py does the serving.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2, json_format, symbol_database
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2

UNARY_TYPES = {"application/json": "json", "application/proto": "proto"}
STREAM_TYPES = {"application/connect+json": "json", "application/connect+proto": "proto"}
TIMEOUT_HEADER = "connect-timeout-ms"
STATUS_DETAILS_KEY = "grpc-status-details-bin"
END_STREAM = 0x02  # an envelope's flag: the last one, holding the end-of-stream message
ENVELOPE = struct.Struct(">BI")  # flags, then the message's length

# The HTTP status of each error code, the protocol's table.
HTTP_STATUS = {
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}


class ProtocolError(ValueError):
    """A request that does not follow the protocol: its error code and what is wrong."""

    def __init__(self, code: grpc.StatusCode, message: str, http_status: int = 0) -> None:
        self.code = code
        self.message = message
        self.http_status = http_status or HTTP_STATUS[code]
        super().__init__(message)


@dataclass(frozen=True)
class ConnectError:
    """An error as the protocol sends it: a code, a message and typed details."""

    code: grpc.StatusCode
    message: str
    details: tuple[any_pb2.Any, ...] = ()

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, 500)

    def as_json(self) -> dict[str, object]:
        """The error's JSON object: code in snake case, message, and each detail as its type,
        its bytes (base64) and, for a type this server knows, a readable `debug` copy."""
        body: dict[str, object] = {"code": code_name(self.code)}
        if self.message:
            body["message"] = self.message
        if self.details:
            body["details"] = [_detail_json(detail) for detail in self.details]
        return body

    def body(self) -> bytes:
        return json.dumps(self.as_json()).encode()

    def retry_after_s(self) -> int | None:
        """The seconds a RetryInfo detail asks the caller to wait, for a Retry-After header."""
        for detail in self.details:
            info = error_details_pb2.RetryInfo()
            if detail.Unpack(info):
                delay = info.retry_delay
                return max(1, math.ceil(delay.seconds + delay.nanos / 1e9))
        return None


def code_name(code: grpc.StatusCode) -> str:
    """The protocol's name of a code: invalid_argument, not_found, ..."""
    return str(code.name).lower()


def error_of(
    code: grpc.StatusCode, message: str, trailing: Iterable[tuple[str, str | bytes]] | None
) -> ConnectError:
    """The error a gRPC call ended with, its rich details (google.rpc.Status) carried over."""
    for key, value in trailing or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            status = status_pb2.Status()
            try:
                status.ParseFromString(value)
            except DecodeError:
                break
            return ConnectError(code, status.message or message, tuple(status.details))
    return ConnectError(code, message)


def _detail_json(detail: any_pb2.Any) -> dict[str, object]:
    name = detail.type_url.rsplit("/", 1)[-1]
    value = detail.value
    entry: dict[str, object] = {"type": name, "value": base64.b64encode(value).decode().rstrip("=")}
    try:
        known = symbol_database.Default().GetSymbol(name)()
        known.ParseFromString(value)
        entry["debug"] = json_format.MessageToDict(known)
    except (KeyError, DecodeError):
        pass  # a type this server does not know: the bytes alone
    return entry


def media_type(content_type: str) -> str:
    """The media type of a Content-Type header, without parameters, in lower case."""
    return content_type.split(";", 1)[0].strip().lower()


def unary_codec(content_type: str) -> str:
    """'json' or 'proto' for a unary request's Content-Type; ProtocolError for anything else."""
    return _codec(
        content_type,
        UNARY_TYPES,
        "is not served: send application/json (or application/proto)",
    )


def stream_codec(content_type: str) -> str:
    """'json' or 'proto' for a streaming request's Content-Type; ProtocolError otherwise."""
    return _codec(
        content_type,
        STREAM_TYPES,
        "is not served by a method that streams its replies: send application/connect+json "
        "(or application/connect+proto) with the request in one envelope",
    )


def _codec(content_type: str, served: dict[str, str], otherwise: str) -> str:
    codec = served.get(media_type(content_type))
    if codec is None:
        raise ProtocolError(
            grpc.StatusCode.UNIMPLEMENTED,
            f"Content-Type {content_type or '(none)'} {otherwise}",
            http_status=415,
        )
    return codec


def timeout_s(header: str | None) -> float | None:
    """The call's deadline from a Connect-Timeout-Ms header (None without one)."""
    if header is None:
        return None
    if not (header.isascii() and header.isdigit()) or len(header) > 10:
        raise ProtocolError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"Connect-Timeout-Ms must be a positive whole number of at most 10 digits, "
            f"not {header!r}",
        )
    return int(header) / 1000


def envelope(payload: bytes, flags: int = 0) -> bytes:
    """One enveloped message: flags, length, bytes."""
    return ENVELOPE.pack(flags, len(payload)) + payload


def unwrap_single(body: bytes) -> bytes:
    """The one message of a streaming request body (a server-streaming call sends exactly one)."""
    messages = list(unwrap(body))
    if len(messages) != 1 or messages[0][0] != 0:
        raise ProtocolError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"a server-streaming request holds exactly one enveloped message, not {len(messages)}",
        )
    return messages[0][1]


def unwrap(body: bytes) -> Iterator[tuple[int, bytes]]:
    """Each envelope's flags and message in a body; ProtocolError if one is cut short."""
    at = 0
    while at < len(body):
        if len(body) - at < ENVELOPE.size:
            raise ProtocolError(grpc.StatusCode.INVALID_ARGUMENT, "an envelope is cut short")
        flags, length = ENVELOPE.unpack_from(body, at)
        at += ENVELOPE.size
        if len(body) - at < length:
            raise ProtocolError(grpc.StatusCode.INVALID_ARGUMENT, "an envelope is cut short")
        if flags & 0x01:
            raise ProtocolError(
                grpc.StatusCode.UNIMPLEMENTED, "compressed envelopes are not served"
            )
        yield flags, body[at : at + length]
        at += length


def end_of_stream(error: ConnectError | None) -> bytes:
    """The last envelope of a streamed reply: the error it ended with, if any."""
    message: dict[str, object] = {"error": error.as_json()} if error else {}
    return envelope(json.dumps(message).encode(), END_STREAM)
