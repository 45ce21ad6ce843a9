"""Each service's API over HTTP/JSON too, by the Connect protocol: POST /<service>/<method>.

One implementation: the gateway holds no servicer of its own. It turns an HTTP request into a
call on the service's own gRPC server, over a Unix socket only this process can reach, and the
reply or the status back into HTTP. So an HTTP caller meets the same validation, per-event
results, authentication, roles, site scope, rate limits, deadlines and audit as a gRPC caller:
the interceptors and servicers that judge a gRPC call judge this one. The caller's address
travels with the call (FORWARDED_PEER), with a secret only this process knows: another process
of the same user that reaches the socket cannot pass itself off as an HTTP caller.

Unary methods take `application/json` (proto3 JSON, field names in lowerCamelCase or as in the
.proto) or `application/proto`; server-streaming methods take and answer enveloped messages
(`application/connect+json`). A client-streaming method (IngestStream) needs gRPC: over HTTP,
IngestBatch takes the same touchpoints.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from aiohttp import web
from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.message import DecodeError, Message

from touchstone.platform.security.call_audit import FORWARDED_PEER, forwarded_peer
from touchstone.platform.security.transport import CertificateFiles, ServerTls
from touchstone.platform.serving.connect_protocol import (
    TIMEOUT_HEADER,
    ConnectError,
    ProtocolError,
    end_of_stream,
    envelope,
    error_of,
    stream_codec,
    timeout_s,
    unary_codec,
    unwrap_single,
)

log = logging.getLogger(__name__)

PASSED_HEADERS = ("authorization", "traceparent", "tracestate")  # become the call's metadata
UNLIMITED = -1
RENEWAL_CHECK_S = 1.0


@dataclass(frozen=True)
class Route:
    """One method as the gateway serves it."""

    path: str  # /touchstone.journey.v1.JourneyService/ListMoments, the gRPC method name too
    request_type: type[Message]
    reply_type: type[Message]
    client_streams: bool
    server_streams: bool


def routes(service_names: Iterable[str]) -> dict[str, Route]:
    """Every method of the named services (as bound to the gRPC server), by path."""
    pool = descriptor_pool.Default()
    found: dict[str, Route] = {}
    for name in service_names:
        for method in pool.FindServiceByName(name).methods:
            path = f"/{name}/{method.name}"
            found[path] = Route(
                path,
                message_factory.GetMessageClass(method.input_type),
                message_factory.GetMessageClass(method.output_type),
                method.client_streaming,
                method.server_streaming,
            )
    return found


def private_socket() -> str:
    """A Unix socket address in a new folder only this process's user may enter (0700)."""
    return f"unix:{Path(tempfile.mkdtemp(prefix='touchstone-grpc-')) / 'grpc.sock'}"


def remove_private_socket(address: str) -> None:
    """Remove a private_socket's folder (the server has stopped)."""
    shutil.rmtree(Path(address.removeprefix("unix:")).parent, ignore_errors=True)


class HttpGateway:
    """An aiohttp server answering the Connect protocol by calling the local gRPC server."""

    def __init__(self, routes: dict[str, Route], target: str, max_request_bytes: int) -> None:
        self.routes = routes
        self.target = target
        self.max_request_bytes = max_request_bytes
        self._channel: grpc.aio.Channel | None = None
        self._runner: web.AppRunner | None = None
        self._renewal: asyncio.Task[None] | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.max_request_bytes)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def start(self, host: str, port: int, tls: ServerTls | None = None) -> None:
        """Serve on host:port, HTTPS with the gRPC server's certificate when it has one."""
        self._channel = grpc.aio.insecure_channel(
            self.target,
            options=[
                ("grpc.max_send_message_length", UNLIMITED),  # the HTTP body limit held it
                ("grpc.max_receive_message_length", UNLIMITED),  # the server's own reply
            ],
        )
        # a caller that goes away cancels its handler (and so its gRPC call: a watch left open
        # would hold one of the caller's streams); a stop waits a second for what is in flight
        self._runner = web.AppRunner(
            self.app(), access_log=None, handler_cancellation=True, shutdown_timeout=1
        )
        await self._runner.setup()
        ssl_context = None
        if tls is not None:
            files = CertificateFiles(tls, every_s=RENEWAL_CHECK_S)
            ssl_context = files.ssl_context()
            self._renewal = asyncio.create_task(_renew(files, ssl_context))
        try:
            await web.TCPSite(self._runner, host, port, ssl_context=ssl_context).start()
        except OSError as taken:
            raise OSError(
                f"cannot listen on {host}:{port} for HTTP/JSON ({taken.strerror}): is the port "
                f"taken? (TOUCHSTONE_<SERVICE>_HTTP_PORT=0 serves no HTTP)"
            ) from taken
        scheme = "https" if tls else "http"
        log.info("HTTP/JSON (Connect protocol) on %s://%s:%d", scheme, host, port)

    async def stop(self) -> None:
        if self._renewal is not None:
            self._renewal.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._channel is not None:
            await self._channel.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        route = self.routes.get(request.path)
        try:
            if route is None:
                raise ProtocolError(
                    grpc.StatusCode.UNIMPLEMENTED,
                    f"no method {request.path}: POST /<package.Service>/<Method>, as in "
                    f"docs/openapi.json",
                    http_status=404,
                )
            if request.method != "POST":
                raise ProtocolError(
                    grpc.StatusCode.UNIMPLEMENTED,
                    f"{route.path} takes POST, not {request.method}",
                    http_status=405,
                )
            if route.client_streams:
                raise ProtocolError(
                    grpc.StatusCode.UNIMPLEMENTED,
                    f"{route.path} streams from the client, which needs gRPC; over HTTP, post "
                    f"the same messages to the batch method (IngestBatch)",
                )
            if route.server_streams:
                return await self.server_stream(request, route)
            return await self.unary(request, route)
        except ProtocolError as refused:
            return error_response(ConnectError(refused.code, refused.message), refused.http_status)
        except web.HTTPRequestEntityTooLarge:
            return error_response(
                ConnectError(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"the request is larger than this server takes ({self.max_request_bytes} "
                    f"bytes, TOUCHSTONE_MAX_REQUEST_BYTES): send fewer messages at a time",
                ),
                413,
            )

    async def unary(self, request: web.Request, route: Route) -> web.Response:
        codec = unary_codec(request.content_type)
        payload = decoded(await request.read(), codec, route.request_type)
        call = self._calls().unary_unary(route.path)
        try:
            reply = await call(payload, metadata=forwarded(request), timeout=deadline(request))
        except grpc.aio.AioRpcError as failed:
            return error_response(
                error_of(failed.code(), failed.details() or "", failed.trailing_metadata())
            )
        return web.Response(
            body=encoded(reply, codec, route.reply_type), content_type=UNARY_TYPE[codec]
        )

    async def server_stream(self, request: web.Request, route: Route) -> web.StreamResponse:
        codec = stream_codec(request.content_type)
        payload = decoded(unwrap_single(await request.read()), codec, route.request_type)
        call = self._calls().unary_stream(route.path)(
            payload, metadata=forwarded(request), timeout=deadline(request)
        )
        response = web.StreamResponse(headers={"Content-Type": f"application/connect+{codec}"})
        await response.prepare(request)
        error: ConnectError | None = None
        try:
            async for reply in call:
                await response.write(envelope(encoded(reply, codec, route.reply_type)))
        except grpc.aio.AioRpcError as failed:
            error = error_of(failed.code(), failed.details() or "", failed.trailing_metadata())
        except (ConnectionResetError, asyncio.CancelledError):
            call.cancel()  # the caller went away
            raise
        await response.write(end_of_stream(error))
        await response.write_eof()
        return response

    def _calls(self) -> grpc.aio.Channel:
        if self._channel is None:
            raise RuntimeError("the gateway is not started")
        return self._channel


UNARY_TYPE = {"json": "application/json", "proto": "application/proto"}


def decoded(body: bytes, codec: str, request_type: type[Message]) -> bytes:
    """The request as the gRPC server takes it (protobuf bytes); ProtocolError if unreadable."""
    message = request_type()
    try:
        if codec == "json":
            json_format.Parse(body.decode("utf-8") or "{}", message)
        else:
            message.ParseFromString(body)
    except (json_format.ParseError, UnicodeDecodeError, DecodeError) as unreadable:
        raise ProtocolError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"the body is not a {request_type.DESCRIPTOR.full_name} in {codec}: {unreadable}",
        ) from unreadable
    return message.SerializeToString()


def encoded(reply: bytes, codec: str, reply_type: type[Message]) -> bytes:
    """The gRPC server's reply (protobuf bytes) in the caller's codec."""
    if codec == "proto":
        return reply
    return json_format.MessageToJson(reply_type.FromString(reply), indent=None).encode()


def forwarded(request: web.Request) -> Sequence[tuple[str, str]]:
    """The call's metadata: the headers passed on, and where the caller is."""
    metadata = [(name, request.headers[name]) for name in PASSED_HEADERS if name in request.headers]
    return [*metadata, (FORWARDED_PEER, forwarded_peer(grpc_peer(request)))]


def grpc_peer(request: web.Request) -> str:
    """The HTTP caller's address as gRPC writes a peer: ipv4:10.0.0.7:51234, ipv6:[::1]:5."""
    peername = request.transport.get_extra_info("peername") if request.transport else None
    if not peername:
        return "unknown"
    host, port = peername[0], peername[1]
    return f"ipv6:[{host}]:{port}" if ":" in host else f"ipv4:{host}:{port}"


def deadline(request: web.Request) -> float | None:
    return timeout_s(request.headers.get(TIMEOUT_HEADER))


def error_response(error: ConnectError, http_status: int = 0) -> web.Response:
    """A unary call's error: the protocol's JSON body, its HTTP status, and Retry-After when the
    server asked the caller to wait (rate limit reached, database away)."""
    headers = {}
    if (wait := error.retry_after_s()) is not None:
        headers["Retry-After"] = str(wait)
    return web.Response(
        status=http_status or error.http_status,
        body=error.body(),
        content_type="application/json",
        headers=headers,
    )


async def _renew(files: CertificateFiles, context: Any) -> None:
    """Load renewed certificate files into the HTTPS context (new connections get them)."""
    while True:
        await asyncio.sleep(RENEWAL_CHECK_S)
        if files.changed():
            try:
                context.load_cert_chain(files.tls.cert, files.tls.key)
                if files.tls.client_ca is not None:  # a rotated client CA too, as gRPC takes it
                    context.load_verify_locations(cafile=str(files.tls.client_ca))
            except (OSError, ValueError) as error:
                log.warning("HTTPS certificate not reloaded (%s); keeping the current", error)
