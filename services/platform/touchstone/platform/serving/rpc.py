"""gRPC plumbing: rich errors (google.rpc.Status with BadRequest), page tokens, the server."""

from __future__ import annotations

import base64
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from touchstone.platform.runtime.outages import DATABASE_AWAY

log = logging.getLogger(__name__)

# what a server interceptor calls to reach the next interceptor, or the servicer's handler
Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]]


def status_name(context: grpc.aio.ServicerContext) -> str:
    """The status code a call has ended with so far ('' while none is set: OK)."""
    code = context.code() if hasattr(context, "code") else None
    return code.name if isinstance(code, grpc.StatusCode) else ""


DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class ApiError(Exception):
    """A request the service cannot answer as asked; mapped to a gRPC status."""

    code = code_pb2.UNKNOWN


class InvalidArgument(ApiError):
    """One or more request fields are wrong: INVALID_ARGUMENT with BadRequest field violations."""

    code = code_pb2.INVALID_ARGUMENT

    def __init__(self, *violations: tuple[str, str]) -> None:
        self.violations = violations
        super().__init__("; ".join(f"{f}: {d}" for f, d in violations))


class NotFound(ApiError):
    """The named thing does not exist: NOT_FOUND."""

    code = code_pb2.NOT_FOUND


class FailedPrecondition(ApiError):
    """The system is not in a state where this can be done yet: FAILED_PRECONDITION."""

    code = code_pb2.FAILED_PRECONDITION


class PermissionDenied(ApiError):
    """The caller may not do this (another site's case, say): PERMISSION_DENIED."""

    code = code_pb2.PERMISSION_DENIED


class AlreadyExists(ApiError):
    """Something else already holds the name: ALREADY_EXISTS."""

    code = code_pb2.ALREADY_EXISTS


class Unavailable(ApiError):
    """The service cannot answer now (its database is away): UNAVAILABLE, retry shortly."""

    code = code_pb2.UNAVAILABLE
    retry_after_s = 1


class Overloaded(ApiError):
    """The service is too far behind to take more now: RESOURCE_EXHAUSTED, retry later."""

    code = code_pb2.RESOURCE_EXHAUSTED
    retry_after_s = 5


def require(field: str, value: str) -> str:
    """The value of a required string field, or InvalidArgument naming the field."""
    if not value:
        raise InvalidArgument((field, "is required"))
    return value


def rich_status(error: ApiError) -> grpc.Status:
    """The google.rpc.Status for an API error, with field violations where there are any."""
    if isinstance(error, InvalidArgument):
        detail = any_pb2.Any()
        detail.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
                    for f, d in error.violations
                ]
            )
        )
        status = status_pb2.Status(
            code=code_pb2.INVALID_ARGUMENT, message=str(error), details=[detail]
        )
    elif isinstance(error, (Unavailable, Overloaded)):
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.RetryInfo(retry_delay={"seconds": error.retry_after_s}))
        status = status_pb2.Status(code=error.code, message=str(error), details=[detail])
    else:
        status = status_pb2.Status(code=error.code, message=str(error))
    return rpc_status.to_status(status)


T = TypeVar("T")
R = TypeVar("R")
Method = Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[T]]


DATABASE_AWAY_MESSAGE = "the database is unreachable right now; try again shortly"


def rpc_method(method: Method[T]) -> Method[T]:
    """Map ApiError raised by a servicer method to its rich gRPC status, and the database
    being away to UNAVAILABLE (within TOUCHSTONE_DATABASE_TIMEOUT_S, not the caller's deadline)."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> T:
        try:
            try:
                return await method(self, request, context)
            except DATABASE_AWAY as away:
                log.warning("%s: %s", method.__name__, away)
                raise Unavailable(DATABASE_AWAY_MESSAGE) from away
        except ApiError as error:
            await context.abort_with_status(rich_status(error))
            raise  # unreachable: abort raises

    return wrapper


def page_size(requested: int) -> int:
    """The page size to use for a request's page_size field (0 means the default)."""
    if requested < 0:
        raise InvalidArgument(("page_size", "must not be negative"))
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_page_token(*parts: str) -> str:
    """An opaque token for the keyset position after the last row of a page."""
    return base64.urlsafe_b64encode("\x1f".join(parts).encode()).decode()


def decode_page_token(token: str, parts: int) -> tuple[str, ...] | None:
    """The keyset position in a page token, None for the first page; InvalidArgument if mangled."""
    if not token:
        return None
    try:
        values = tuple(base64.urlsafe_b64decode(token.encode()).decode().split("\x1f"))
    except (ValueError, UnicodeDecodeError):
        values = ()
    if len(values) != parts:
        raise InvalidArgument(("page_token", "is not a token this service issued"))
    return values


def issued_time(text: str) -> datetime:
    """The time in a page token; the service only issues times with an offset."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise InvalidArgument(("page_token", "is not a token this service issued"))
    return at


@dataclass(frozen=True)
class PageRequest:
    """How many rows a list call wants, and the keyset position (event time, id) to start after."""

    size: int
    after: tuple[datetime, str] | None

    @classmethod
    def of(cls, requested_size: int, page_token: str) -> PageRequest:
        """The page a request's page_size and page_token fields ask for."""
        position = decode_page_token(page_token, 2)
        after = (issued_time(position[0]), position[1]) if position else None
        return cls(page_size(requested_size), after)

    def next_token(self, rows: Sequence[R], position: Callable[[R], tuple[datetime, str]]) -> str:
        """The token for the page after these rows ('' when they were the last)."""
        if len(rows) < self.size or not rows:
            return ""
        at, last_id = position(rows[-1])
        return encode_page_token(at.isoformat(), last_id)


LIVENESS = "liveness"  # the health service name that only says the process answers (k8s liveness)
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclass(frozen=True)
class ServiceBinding:
    """A servicer and how to add it to a server."""

    full_name: str  # e.g. touchstone.journey.v1.JourneyService
    servicer: object
    add_to_server: Callable[[Any, grpc.aio.Server], None]


async def start_server(
    address: str,
    bindings: Sequence[ServiceBinding],
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    credentials: grpc.ServerCredentials | None = None,
    max_request_bytes: int = 4 * 1024 * 1024,
    ready: bool = True,
    local_address: str | None = None,
) -> tuple[grpc.aio.Server, health.aio.HealthServicer]:
    """Start a grpc.aio server with the bindings, the health service and reflection; TLS with
    the credentials, plaintext without. Health: LIVENESS is SERVING while the server runs; the
    whole server ("") and each bound service start SERVING if ready, else NOT_SERVING until a
    readiness watch says otherwise. A local_address (a private Unix socket) serves the same
    services in plaintext to this process's HTTP gateway."""
    server = grpc.aio.server(
        interceptors=list(interceptors),
        options=[("grpc.max_receive_message_length", max_request_bytes)],
    )
    for binding in bindings:
        binding.add_to_server(binding.servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [b.full_name for b in bindings]
    reflection.enable_server_reflection(
        [
            *names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
    )
    bound = (
        server.add_secure_port(address, credentials)
        if credentials is not None
        else server.add_insecure_port(address)
    )
    if bound == 0:
        raise OSError(f"cannot listen on {address}: is the port taken?")
    if local_address is not None and server.add_insecure_port(local_address) == 0:
        raise OSError(f"cannot listen on {local_address}")
    await server.start()
    await health_servicer.set(LIVENESS, SERVING)
    status = SERVING if ready else NOT_SERVING
    for name in ["", *names]:
        await health_servicer.set(name, status)
    log.info("gRPC listening on %s: %s", address, ", ".join(names))
    return server, health_servicer


async def start_health_server(address: str, health_servicer: health.aio.HealthServicer) -> Any:
    """A plaintext server that answers grpc.health.v1 alone, from the service's own health
    servicer: for probes that cannot speak TLS (Kubernetes' gRPC probes) in front of a server
    that speaks nothing else. It tells whether the service is ready, and nothing more."""
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])  # a port taken is an error
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError:  # grpc's word for a port it cannot bind
        bound = 0
    if bound == 0:
        raise OSError(f"cannot listen on {address}: is the port taken?")
    await server.start()
    log.info("gRPC health alone, in plaintext, on %s", address)
    return server
