"""The client side of authentication: every call carries `authorization: Bearer <token>`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import grpc

from touchstone.platform.runtime.settings import Settings
from touchstone.platform.security.hosts import is_loopback


class _Details(NamedTuple):
    method: str
    timeout: float | None
    metadata: Any
    credentials: Any
    wait_for_ready: Any
    compression: Any


class BearerToken(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds the bearer token to every call's metadata."""

    def __init__(self, token: str) -> None:
        self.header = ("authorization", f"Bearer {token}")

    def _with_token(self, details: Any) -> _Details:
        metadata = [*(details.metadata or ()), self.header]
        return _Details(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            details.wait_for_ready,
            details.compression,
        )

    def intercept_unary_unary(self, continuation: Callable, details: Any, request: Any) -> Any:
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation: Callable, details: Any, request: Any) -> Any:
        return continuation(self._with_token(details), request)

    def intercept_stream_unary(self, continuation: Callable, details: Any, requests: Any) -> Any:
        return continuation(self._with_token(details), requests)

    def intercept_stream_stream(self, continuation: Callable, details: Any, requests: Any) -> Any:
        return continuation(self._with_token(details), requests)


def authenticated(channel: grpc.Channel, token: str) -> grpc.Channel:
    """The channel, sending the token with every call (as is, without one)."""
    return grpc.intercept_channel(channel, BearerToken(token)) if token else channel


def may_send_token(settings: Settings, address: str) -> bool:
    """Whether a token may go to address: over TLS, to this machine, or where the operator says
    a mesh encrypts plaintext (a token sent in clear over a network is a token given away)."""
    host = address.rsplit(":", 1)[0].strip("[]")
    return settings.grpc_tls_ca is not None or settings.grpc_plaintext or is_loopback(host)
